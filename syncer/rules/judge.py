"""Rules judged on values: the desired values (validate), a plan's changes (with their old values) or a
sheet's cells. Only the values in a rule's scope are evaluated (semesters, metrics and fields are matched once,
as sets of IDs; files once per file), each condition at most once per value (never on a value without an old
one when it is decided without, several in one CEL call: docs/rules.md, "The implementation"); a value a
condition fails on (a division by zero, a missing field) is a finding of that rule for that value, never a
crash and never a pass.

What a condition sees: docs/rules.md. Numbers are CEL doubles (`3.0 * row.target`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from syncer.fieldtypes import field_type
from syncer.load.files import relative_path
from syncer.model import Catalog, DesiredValue, FieldDef, SemesterDef, Source, ValueKey
from syncer.problems import DETAIL_SLOT, Problem, Severity
from syncer.rules.load import RuleSet
from syncer.rules.model import FINDING_CODE, Finding, Rule

if TYPE_CHECKING:
    from syncer.rules.compile import Bundle

#: One value to judge: its key, the value last applied (None: none), the new value and where it is written.
Item = tuple[ValueKey, str | None, str, Source]


Convert = Callable[[str], object]


class _Catalog:
    """The catalog by ID as conditions see it, made once: each field's facts and how its values convert."""

    def __init__(self, catalog: Catalog) -> None:
        self.metrics = {m.id: m.alias for m in catalog.metrics.values()}
        self.people = {p.id: a for a, p in catalog.people.items() if p.id}
        self.semesters = {s.id: _semester(s) for s in catalog.semesters.values()}
        self.fields: dict[tuple[str, str], tuple[Convert, dict[str, str]]] = {}
        self.rows: dict[str, tuple[tuple[str, str, Convert], ...]] = {}  # metric id -> (alias, field id, convert)
        for m in catalog.metrics.values():
            for alias, f in m.fields.items():
                self.fields[(m.id, f.id)] = (self._convert(f), {"name": alias, "type": f.type, "role": f.role or ""})
            self.rows[m.id] = tuple((alias, f.id, self._convert(f)) for alias, f in m.fields.items())

    def _convert(self, f: FieldDef) -> Convert:
        """A value as a condition sees it: a number for a numeric field, a person's alias, else the text."""
        kind = field_type(f.type)
        if kind.numeric:
            return _number
        if kind.person:
            people = self.people
            return lambda text: people.get(text, text)
        return str


def _number(text: str) -> object:
    """A numeric field's value as a double; text that is not a number (a value the state holds from when the
    catalog typed the field otherwise) stays text: a condition comparing it fails on that value, a finding."""
    try:
        return float(text)
    except ValueError:
        return text


def _semester(s: SemesterDef) -> dict[str, str]:
    out = {"name": s.alias, "id": s.id}
    if s.start:
        out["start"] = s.start
    if s.end:
        out["end"] = s.end
    return out


def rule_findings(
    rules: RuleSet,
    catalog: Catalog,
    values: Mapping[ValueKey, DesiredValue],
    items: Iterable[Item],
    *,
    root: str,
    today: date | None = None,
) -> list[Finding]:
    """The findings of `rules` on `items` (the row of each, its other fields, read from `values`): a `deny`
    is an error, a `warn` a warning, each at the value's file:line:col and naming its rule.

    A million values with the three example rules: which rules judge a value, and the variables that are the
    same for all its values, are settled once per (semester, metric, field, file); a row's fields are converted
    once per row, only those the rules read; a condition that is decided without an old value (`old != null
    && ...`) is not evaluated on a value without one."""
    if not rules:
        return []
    judge = _Judge(rules, catalog, root, (today or date.today()).isoformat())
    groups: dict[tuple[str, str, str, str], tuple[_Batch, ...]] = {}
    found: list[Finding] = []
    row_key: tuple[str, str, str] | None = None
    row: dict[str, object] = {}
    people, all_rules = judge.cat.people, rules.rules
    for key, old, new, source in items:
        sem, rev, met, fid = key
        group = (sem, met, fid, source.file)
        batches = groups.get(group)
        if batches is None:
            batches = groups[group] = judge.batches(group)
        for b in batches:
            if old is None and b.without_old is not None:
                if b.without_old:
                    found += [_finding(all_rules[i], source, None) for i in b.without_old]
                continue
            variables = b.same.copy()
            if b.new:
                variables["new"] = b.convert(new)
            if b.old:
                variables["old"] = None if old is None else b.convert(old)
            if b.row:
                if (sem, rev, met) != row_key:
                    row_key, row = (sem, rev, met), judge.row(values, key)
                variables["row"] = row
            if b.reviewee:
                variables["reviewee"] = people.get(rev, rev)
            for i, verdict in zip(b.rules, b.bundle.verdicts(variables), strict=True):
                if verdict is not False:
                    found.append(_finding(all_rules[i], source, None if verdict is True else verdict))
    return found


class _Batch(NamedTuple):
    """The rules that judge a group of values and name the same variables: one dict of variables a value."""

    rules: tuple[int, ...]  # indices into the rule set
    same: dict[str, object]  # the variables named that are the same for every value of the group
    new: bool  # which of the variables that change from value to value are named
    old: bool
    row: bool
    reviewee: bool
    convert: Convert  # how the field's values convert
    bundle: Bundle  # the rules' programs
    without_old: tuple[int, ...] | None  # the rules a value without an old one breaks, when that is fixed


class _Judge:
    """What the loop over the values needs, made once: the catalog as conditions see it, each rule's scope,
    and the row's fields the rules read."""

    def __init__(self, rules: RuleSet, catalog: Catalog, root: str, day: str) -> None:
        self.cat = _Catalog(catalog)
        self.rules, self.root, self.day = rules, root, day
        self.scopes = [_in_scope(rule, catalog) for rule in rules.rules]
        self.files: dict[str, tuple[bool, ...]] = {}
        self.bundles: dict[tuple[int, ...], Bundle] = {}
        keys: frozenset[str] | None = frozenset()  # None: some rule may read the whole row
        for p in rules.programs:
            keys = None if keys is None or p.row_keys is None else keys | p.row_keys
        self.rows = {m: tuple(f for f in fields if keys is None or f[0] in keys) for m, fields in self.cat.rows.items()}

    def batches(self, group: tuple[str, str, str, str]) -> tuple[_Batch, ...]:
        """The rules judging the values of (semester, metric, field, file), batched by the variables they name."""
        sem, met, fid, file = group
        in_file = self.files.get(file)
        if in_file is None:
            rel = relative_path(self.root, file)
            in_file = self.files[file] = tuple(r.scope.file(rel) for r in self.rules.rules)
        judged = [
            i
            for i, (sems, pairs) in enumerate(self.scopes)
            if in_file[i] and (sems is None or sem in sems) and (met, fid) in pairs
        ]
        if not judged:
            return ()
        convert, field = self.cat.fields[(met, fid)]
        same: dict[str, object] = {
            "field": field,
            "metric": self.cat.metrics[met],
            "semester": self.cat.semesters.get(sem) or {"name": sem, "id": sem},
            "today": self.day,
            "file": file,
        }
        programs = self.rules.programs
        by_names: dict[tuple[tuple[str, ...], bool], list[int]] = {}
        for i in judged:
            by_names.setdefault((programs[i].names, programs[i].without_old is not None), []).append(i)
        return tuple(
            _Batch(
                tuple(batch),
                {n: v for n, v in same.items() if n in names},
                "new" in names,
                "old" in names,
                "row" in names,
                "reviewee" in names,
                convert,
                self.bundle(tuple(batch)),
                tuple(i for i in batch if programs[i].without_old) if fixed else None,
            )
            for (names, fixed), batch in by_names.items()
        )

    def bundle(self, rules: tuple[int, ...]) -> Bundle:
        """The programs of `rules` as one bundle, made once a run (joining them compiles them again)."""
        made = self.bundles.get(rules)
        if made is None:
            from syncer.rules.compile import Bundle  # the compiler's module: only where a root has rules

            made = self.bundles[rules] = Bundle(tuple(self.rules.programs[i] for i in rules))
        return made

    def row(self, values: Mapping[ValueKey, DesiredValue], key: ValueKey) -> dict[str, object]:
        """The row's values the rules read, as the YAML holds them, by field alias (`row.target`)."""
        sem, rev, met, _ = key
        out: dict[str, object] = {}
        get = values.get
        for alias, fid, convert in self.rows[met]:
            dv = get((sem, rev, met, fid))  # type: ignore[call-overload]  # a ValueKey is this tuple
            if dv is not None:
                out[alias] = convert(dv[0])
        return out


def _in_scope(rule: Rule, catalog: Catalog) -> tuple[frozenset[str] | None, frozenset[tuple[str, str]]]:
    """The semester IDs (None: every semester, a raw ID the catalog does not name too) and the (metric ID,
    field ID) pairs a rule's scope names."""
    if not rule.scope.semesters:
        sems = None
    else:
        sems = frozenset(s.id for a, s in catalog.semesters.items() if rule.scope.names("semesters", a))
    pairs = frozenset(
        (m.id, f.id)
        for ma, m in catalog.metrics.items()
        if rule.scope.names("metrics", ma)
        for fa, f in m.fields.items()
        if rule.scope.names("fields", fa)
    )
    return sems, pairs


def _finding(rule: Rule, source: Source, error: str | None) -> Finding:
    severity: Severity = "error" if rule.severity == "deny" else "warning"
    if error is None:
        message = f"rule {rule.name!r}: {rule.message}"
    else:  # CEL's words may quote a value: in the detail, left out with --redact-values
        message = f"rule {rule.name!r} could not be evaluated on this value{DETAIL_SLOT}; fix the rule or the value"
    detail = f" ({error})" if error else ""
    return Finding(
        rule.name, Problem(source.file, source.line, source.col, severity, FINDING_CODE, message, detail=detail)
    )
