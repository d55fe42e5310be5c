"""The rules judged on values: each example rule on a value that passes and one that fails, what a condition
sees, scopes, conditions that fail on a value (a finding for that value, never a crash, never a pass), and the
findings of the faster judging against those of each rule evaluated plainly on every value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from syncer.fieldtypes import field_type
from syncer.load.validate import validate_root
from syncer.model import DesiredState, DesiredValue, FieldDef, Source, ValueKey
from syncer.rules.compile import Compiler
from syncer.rules.judge import Item, rule_findings
from syncer.rules.load import RuleSet, load_rules
from syncer.rules.model import Rule, Scope
from tests.example import copy_example
from tests.paths import REPO

H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REVENUE = "7272580325522276372"
TARGET, ACTUAL, NOTE = "4", "5", "7"
IN_H2 = date(2026, 9, 1)  # after 2026-H2's start (2026-07-01)
BEFORE_H2 = date(2026, 6, 30)
BIG = "[" + ",".join(["1"] * 700) + "]"


@pytest.fixture(scope="module")
def example() -> DesiredState:
    desired = validate_root(REPO / "metrics").desired
    assert desired is not None
    return desired


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    rules, problems = load_rules(REPO / "metrics", "metrics")
    assert problems == []
    return rules


def row(desired: DesiredState, **fields: str) -> dict[ValueKey, DesiredValue]:
    """The example's values with alice's revenue row set to `fields` (alias -> text; others removed)."""
    ids = {"target": TARGET, "actual": ACTUAL, "note": NOTE}
    values = {k: v for k, v in desired.values.items() if (k.semester, k.reviewee, k.metric) != (H2, ALICE, REVENUE)}
    for line, (alias, text) in enumerate(fields.items(), start=10):
        values[ValueKey(H2, ALICE, REVENUE, ids[alias])] = DesiredValue(
            text, "text" if alias == "note" else "number", "metrics/teams/sales.yaml", line, 15
        )
    return values


def judged(
    rules: RuleSet,
    desired: DesiredState,
    values: dict[ValueKey, DesiredValue],
    field: str,
    *,
    old: str | None = None,
    today: date = IN_H2,
) -> list[tuple[str, str, int]]:
    key = ValueKey(H2, ALICE, REVENUE, field)
    dv = values[key]
    items: list[Item] = [(key, old, dv.value, dv.source)]
    found = rule_findings(rules, desired.catalog, values, items, root="metrics", today=today)
    return [(f.rule, f.problem.severity, f.problem.line) for f in found]


def test_a_target_lowered_after_the_start_is_denied(rules: RuleSet, example: DesiredState) -> None:
    values = row(example, target="900", actual="900", note="n")
    assert judged(rules, example, values, TARGET, old="1000") == [("target-not-lowered-after-start", "error", 10)]


@pytest.mark.parametrize(("old", "today"), [("800", IN_H2), ("900", IN_H2), (None, IN_H2), ("1000", BEFORE_H2)])
def test_a_target_raised_kept_new_or_lowered_before_the_start_passes(
    rules: RuleSet, example: DesiredState, old: str | None, today: date
) -> None:
    values = row(example, target="900", actual="900", note="n")
    assert judged(rules, example, values, TARGET, old=old, today=today) == []


def test_an_actual_over_three_times_its_target_warns(rules: RuleSet, example: DesiredState) -> None:
    assert judged(rules, example, row(example, target="100", actual="301"), ACTUAL) == [
        ("actual-over-3x-target", "warning", 11)
    ]
    assert judged(rules, example, row(example, target="100", actual="300"), ACTUAL) == []  # exactly 3x: fine


def test_an_actual_under_80_percent_needs_a_note(rules: RuleSet, example: DesiredState) -> None:
    assert judged(rules, example, row(example, target="100", actual="79.9"), ACTUAL) == [
        ("note-under-80-percent", "warning", 11)
    ]
    assert judged(rules, example, row(example, target="100", actual="79.9", note="Q3 churn"), ACTUAL) == []
    assert judged(rules, example, row(example, target="100", actual="80"), ACTUAL) == []  # exactly 80%: fine


def test_an_actual_without_a_target_is_judged_by_neither_rule(rules: RuleSet, example: DesiredState) -> None:
    assert judged(rules, example, row(example, actual="1"), ACTUAL) == []


def rules_of(tmp_path: Path, *conditions: str, scope: str = "{}") -> tuple[RuleSet, DesiredState]:
    root = copy_example(tmp_path / "m")
    body = "".join(
        f"  - name: r{i}\n    scope: {scope}\n    condition: '{c.replace(chr(39), chr(39) * 2)}'\n"
        f"    severity: deny\n    message: m{i}\n"
        for i, c in enumerate(conditions)
    )
    (root / "rules.yaml").write_text("rules:\n" + body, encoding="utf-8")
    rules, problems = load_rules(root, "m")
    assert problems == [], problems
    desired = validate_root(root).desired
    assert desired is not None
    return rules, desired


def test_a_condition_that_fails_on_a_value_is_a_finding_for_that_value(tmp_path: Path) -> None:
    rules, desired = rules_of(
        tmp_path,
        "new / 0.0 > 1.0 && 1 / 0 == 1",  # division by zero
        "row.missing > 1.0",  # a field the row does not have
        f"{BIG}.all(a, {BIG}.all(b, a + b > 0))",  # 490,000 steps: over CEL's iteration budget
        scope="{fields: [target], metrics: [revenue]}",
    )
    values = row(desired, target="100", actual="100")
    key = ValueKey(H2, ALICE, REVENUE, TARGET)
    found = rule_findings(
        rules, desired.catalog, values, [(key, None, "100", values[key].source)], root="m", today=IN_H2
    )
    assert [(f.rule, f.problem.severity) for f in found] == [("r0", "error"), ("r1", "error"), ("r2", "error")]
    assert "could not be evaluated on this value (divide by zero)" in found[0].problem.text(redact=False)
    assert 'Key not found in map : "missing"' in found[1].problem.text(redact=False)
    assert all("(" not in f.problem.text(redact=True) for f in found)  # CEL's words are left out when redacted
    assert "Iteration budget exceeded" in found[2].problem.text(redact=False)


def test_only_values_in_scope_are_judged(tmp_path: Path) -> None:
    rules, desired = rules_of(
        tmp_path, "true", scope="{semesters: ['2026-*'], metrics: [nps], fields: [actual], files: ['teams/sales*']}"
    )
    items: list[Item] = [(k, None, v.value, v.source) for k, v in desired.open_values().items()]
    found = rule_findings(rules, desired.catalog, desired.values, items, root=str(tmp_path / "m"), today=IN_H2)
    assert found and all(f.problem.file.endswith("teams/sales.yaml") for f in found)
    nps = next(m.id for a, m in desired.catalog.metrics.items() if a == "nps")
    assert {
        (k.metric, k.field)
        for k, _, _, s in items
        if (s.file, s.line) in {(f.problem.file, f.problem.line) for f in found}
    } == {(nps, ACTUAL)}


def test_what_a_condition_sees(tmp_path: Path) -> None:
    rules, desired = rules_of(
        tmp_path,
        "field.name == 'actual' && field.type == 'number' && field.role == '' && metric == 'revenue' && "
        "reviewee == 'alice' && semester.name == '2026-H2' && semester.id == '7293040702907514899' && "
        "semester.start == '2026-07-01' && semester.end == '2026-12-31' && today == '2026-09-01' && "
        "file == 'metrics/teams/sales.yaml' && row.target == 100.0 && row.note == '目标 ✓' && "
        "new == 79.5 && old == 70.0",
    )
    values = row(desired, target="100", actual="79.5", note="目标 ✓")
    key = ValueKey(H2, ALICE, REVENUE, ACTUAL)
    items: list[Item] = [(key, "70", "79.5", Source("metrics/teams/sales.yaml", 11, 15))]
    found = rule_findings(rules, desired.catalog, values, items, root="metrics", today=IN_H2)
    assert [(f.rule, f.problem.message) for f in found] == [("r0", "rule 'r0': m0")]


def test_a_semester_the_catalog_does_not_name_is_judged_by_a_rule_without_a_semester_scope(tmp_path: Path) -> None:
    rules, desired = rules_of(tmp_path, "semester.id == '42' && semester.name == '42'", scope="{fields: [target]}")
    key = ValueKey("42", ALICE, REVENUE, TARGET)
    values = {key: DesiredValue("1", "number", "m/raw.yaml", 3, 15)}
    found = rule_findings(rules, desired.catalog, values, [(key, None, "1", values[key].source)], root="m", today=IN_H2)
    assert [f.rule for f in found] == ["r0"]
    named, _ = rules_of(tmp_path / "again", "true", scope="{semesters: ['2026-*'], fields: [target]}")
    assert rule_findings(named, desired.catalog, values, [(key, None, "1", values[key].source)], root="m") == []


def test_an_old_value_that_is_not_a_number_is_a_finding_never_a_crash(rules: RuleSet, example: DesiredState) -> None:
    # the state holds text applied while the catalog typed the field otherwise: the condition fails on it
    values = row(example, target="900", actual="900", note="n")
    assert judged(rules, example, values, TARGET, old="n/a") == [("target-not-lowered-after-start", "error", 10)]


def findings_on_actual(rules: RuleSet, desired: DesiredState, old: str | None) -> list[str]:
    values = row(desired, target="100", actual="50", note="n")
    key = ValueKey(H2, ALICE, REVENUE, ACTUAL)
    items: list[Item] = [(key, old, "50", values[key].source)]
    found = rule_findings(rules, desired.catalog, values, items, root="m", today=IN_H2)
    return [f.problem.text(redact=False) for f in found]


def test_a_condition_decided_without_an_old_value_is_judged_as_evaluated(tmp_path: Path) -> None:
    rules, desired = rules_of(tmp_path, "old == null || new > 1000.0", "old == null && new > 1000.0", "new < old")
    assert findings_on_actual(rules, desired, None) == [
        "rule 'r0': m0",
        "rule 'r2' could not be evaluated on this value (No matching overloads found : _<_(double, null_type)); "
        "fix the rule or the value",
    ]
    assert findings_on_actual(rules, desired, "60") == ["rule 'r2': m2"]  # lowered: only r2


def test_a_loop_that_runs_out_of_budget_is_a_finding_even_where_old_would_decide(tmp_path: Path) -> None:
    rules, desired = rules_of(tmp_path, f"row.exists(k, {BIG}.all(a, {BIG}.all(b, a + b > 0))) && old != null")
    found = findings_on_actual(rules, desired, None)
    assert len(found) == 1 and "Iteration budget exceeded" in found[0]


def test_a_condition_that_reads_the_whole_row_sees_every_field(tmp_path: Path) -> None:
    # the other rule reads only row.target: the row handed to both still holds all three fields
    rules, desired = rules_of(tmp_path, "size(row) != 3", "row.target != 100.0")
    assert findings_on_actual(rules, desired, None) == []


LOOP = "[" + ",".join(["1"] * 75) + "]"
LOOPS = f"{LOOP}.all(a, {LOOP}.all(b, a + b > 0))"  # 5,700 steps: within CEL's budget alone, not twice
#: Conditions that each of the faster judging's shortcuts could get wrong, one rule each (and again scoped to
#: target): decided without an old value or not, `row` read key by key or whole, bundled with others naming the
#: same variables, failing on a value, giving null.
CONDITIONS = (
    "old != null && new < old",
    "new < old && old != null",
    "old == null || new > 1000.0",
    "old == null ? false : new < old",
    "old == null && new > 60.0",
    "new < old",
    "old",
    "new == new ? old : false",
    "type(old) == null_type",
    "has(row.note) && row.note == ''",
    "row.target > new",
    "row['target'] == new",
    "size(row) > 2",
    "'note' in row",
    "row.size // the fields\n() > 2",
    "row.exists // any key\n(k, k == 'note')",
    "[1.0, 2.0].exists(row, row > new)",
    "file == 'row' || row.target > 0.0",
    "row.target.size() > 1",
    "3 * row.target > new",
    "3.0 * row.target > new",
    "new / 0.0 > 1.0 && 1 / 0 == 1",
    "has(semester.start) && today >= semester.start && old != null",
    "reviewee == 'alice' && metric == 'revenue' && old != null",
    f"{LOOPS} && row.target > new",
    f"{LOOPS} && row.target < new",
    f"row.exists(k, !({LOOPS})) && old != null",  # over the budget on a row of two fields or more
)
BOB, CAROL, NPS = "ou_bob", "ou_carol", "7272580325522276401"
ROWS = {  # (semester, reviewee, metric) -> file, {field ID: text}
    (H2, ALICE, REVENUE): ("m/teams/sales.yaml", {TARGET: "100", ACTUAL: "50", NOTE: ""}),
    (H2, BOB, REVENUE): ("m/teams/sales.yaml", {TARGET: "x", ACTUAL: "79.5"}),  # text where a number belongs
    (H2, CAROL, REVENUE): ("m/teams/support.yaml", {ACTUAL: "1"}),
    ("42", ALICE, NPS): ("m/teams/sales.yaml", {TARGET: "0", ACTUAL: "-1", NOTE: "n"}),
}


def plainly(
    rules: RuleSet, desired: DesiredState, values: dict[ValueKey, DesiredValue], items: list[Item]
) -> list[str]:
    """Each rule in scope evaluated alone on each value with every variable and the whole row: the judging
    without its shortcuts (docs/rules.md, "The implementation"), as it was before they were added."""
    cat = desired.catalog
    people = {p.id: a for a, p in cat.people.items() if p.id}
    semesters = {s.id: {"name": s.alias, "id": s.id, "start": s.start, "end": s.end} for s in cat.semesters.values()}

    def seen(f: FieldDef, text: str) -> object:
        kind = field_type(f.type)
        if kind.numeric:
            try:
                return float(text)
            except ValueError:
                return text
        return people.get(text, text) if kind.person else text

    out = []
    for key, old, new, source in items:
        metric, m = next((a, m) for a, m in cat.metrics.items() if m.id == key.metric)
        name, f = next((a, f) for a, f in m.fields.items() if f.id == key.field)
        row = {
            a: seen(g, values[key._replace(field=g.id)].value)
            for a, g in m.fields.items()
            if key._replace(field=g.id) in values
        }
        variables: dict[str, object] = {
            "new": seen(f, new),
            "old": None if old is None else seen(f, old),
            "field": {"name": name, "type": f.type, "role": f.role or ""},
            "row": row,
            "metric": metric,
            "reviewee": people.get(key.reviewee, key.reviewee),
            "today": IN_H2.isoformat(),
            "file": source.file,
            "semester": {
                k: v for k, v in semesters.get(key.semester, {"name": key.semester, "id": key.semester}).items() if v
            },
        }
        for rule, program in zip(rules.rules, rules.programs, strict=True):
            verdict = program.holds(variables) if rule.scope.names("fields", name) else False
            if verdict is not False:
                out.append(f"{rule.name} {source.file}:{source.line}{'' if verdict is True else f' ({verdict})'}")
    return sorted(out)


def test_the_findings_are_those_of_each_rule_evaluated_alone_on_every_value(example: DesiredState) -> None:
    compiler = Compiler()
    values: dict[ValueKey, DesiredValue] = {}
    items: list[Item] = []
    for line, ((sem, rev, met), (file, fields)) in enumerate(ROWS.items()):
        for fid, text in fields.items():
            values[ValueKey(sem, rev, met, fid)] = DesiredValue(text, "number", file, line, 15)
    for old in (None, "60", "n/a"):  # the rows' values in turn: a row's fields are not next to each other
        for fid in (TARGET, ACTUAL, NOTE):
            for (sem, rev, met), (file, fields) in ROWS.items():
                if fid in fields:
                    items.append((ValueKey(sem, rev, met, fid), old, fields[fid], Source(file, len(items), 15)))
    keyed = tuple(c for c in CONDITIONS if compiler.compile(c).row_keys is not None)  # no rule reads the whole row
    total = 0
    for conditions in (CONDITIONS, keyed, *((c,) for c in CONDITIONS)):
        scopes = [Scope(), Scope(fields=("target",))]
        rules = RuleSet(
            tuple(Rule(f"r{i}-{j}", c, "deny", "m", s) for j, s in enumerate(scopes) for i, c in enumerate(conditions)),
            tuple(compiler.compile(c) for _ in scopes for c in conditions),
        )
        found = rule_findings(rules, example.catalog, values, items, root="m", today=IN_H2)
        judged = sorted(f"{f.rule} {f.problem.file}:{f.problem.line}{f.problem.detail}" for f in found)
        assert judged == plainly(rules, example, values, items), conditions
        total += len(judged)
    assert total > 1000  # most rules find something: the comparison is not of nothing
