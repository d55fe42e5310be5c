"""The rules judged on values: each example rule on a value that passes and one that fails, what a condition
sees, scopes, and conditions that fail on a value (a finding for that value, never a crash, never a pass)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from syncer.load.validate import validate_root
from syncer.model import DesiredState, DesiredValue, Source, ValueKey
from syncer.rules.judge import Item, rule_findings
from syncer.rules.load import RuleSet, load_rules
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
