"""The data files: each checked by hand-written code that mirrors `schemas/data.schema.json` (a test keeps
the two in agreement; jsonschema is far too slow for a million values), then the rules across files
(duplicate rows on resolved IDs, weight sums). Every problem is collected, with its file, line and column."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from syncer.fieldtypes import Refusal, field_type, unstorable_refusal
from syncer.load.catalog import RAW_ID, SEMESTER_ID
from syncer.load.people import EmailPeople
from syncer.load.settings import Settings
from syncer.load.templates import fraction_problems, weight_problems
from syncer.load.yamlnodes import MapNode, Node, Scalar, kind
from syncer.model import Catalog, DesiredValue, FieldDef, MetricDef, RowKey, Source, ValueKey
from syncer.problems import DETAIL_SLOT, VALUE_SLOT, Problem, Severity

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(slots=True)
class FileResult:
    """What one data file says, checked on its own: its problems, the rows it writes (where, and as typed),
    its values and its weights. A function of the file's bytes, its name, the settings and the catalog only,
    which is what lets syncer.load.cache keep it between runs; the rules across files are applied when the
    results are merged (DataChecker.merge)."""

    file: str
    semester: str | None = None
    problems: list[Problem] = field(default_factory=list)
    rows: dict[RowKey, Source] = field(default_factory=dict)  # where each row's metric key is
    typed: dict[RowKey, tuple[str, str]] = field(default_factory=dict)  # its reviewee and metric as typed
    keys: list[ValueKey] = field(default_factory=list)  # its values, in the file's order
    values: list[DesiredValue] = field(default_factory=list)
    weights: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (semester, reviewee) -> sum


@dataclass(slots=True)
class DataChecker:
    """Checks data files one at a time (`check_one`, a FileResult each) and merges them (`merge`): the desired
    values and the facts across files (rows written twice, weight sums)."""

    settings: Settings
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)
    values: dict[ValueKey, DesiredValue] = field(default_factory=dict)
    rows: dict[RowKey, Source] = field(default_factory=dict)
    weights: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (semester, reviewee) -> sum
    emails: EmailPeople = field(default_factory=EmailPeople)
    _semester_by_alias: dict[str, str] = field(default_factory=dict)
    _people: dict[str, str] = field(default_factory=dict)
    _raw_id: re.Pattern[str] | None = None
    _weight_fields: frozenset[tuple[str, str]] = frozenset()  # (metric ID, field ID) of the weights
    _file: FileResult = field(default_factory=lambda: FileResult(""))  # the file being checked

    def __post_init__(self) -> None:
        self._semester_by_alias = {a: s.id for a, s in self.catalog.semesters.items()}
        self._people = {a: p.id for a, p in self.catalog.people.items() if p.id}
        self._raw_id = RAW_ID.get(self.settings.target.user_id_type)
        self._weight_fields = frozenset(
            (m.id, f.id) for m in self.catalog.metrics.values() for f in m.fields.values() if f.role == "weight"
        )

    def _add(
        self,
        file: str,
        node: Node,
        code: str,
        message: str,
        value: str | None = None,
        severity: Severity = "error",
        detail: str = "",
    ) -> None:
        self._file.problems.append(Problem(file, node.line, node.col, severity, code, message, value, detail))

    def check_file(self, tree: Node | None, file: str) -> None:
        """Check one file and merge it."""
        self.merge(self.check_one(tree, file))

    def check_one(self, tree: Node | None, file: str) -> FileResult:
        """Check one file on its own (no rule across files), into a FileResult."""
        self._file = FileResult(file)
        try:
            self._check(tree, file)
            return self._file
        finally:
            self._file = FileResult("")

    def merge(self, result: FileResult) -> None:
        """Add a file's result: a row another file already wrote is an error at this file's row, and its
        values are left out (as a row written twice in one file is)."""
        self.problems += result.problems
        rows = self.rows
        dropped = rows.keys() & result.rows.keys()
        for row in sorted(dropped):
            at, other = result.rows[row], rows[row]
            reviewee, metric = result.typed[row]
            self.problems.append(
                Problem(
                    at.file,
                    at.line,
                    at.col,
                    "error",
                    "duplicate-row",
                    f"{reviewee!r} {metric!r} in this semester is also written at {other.file}:{other.line}; "
                    "keep it in one place",
                )
            )
        file_weights = result.weights
        if dropped:
            rows.update((r, at) for r, at in result.rows.items() if r not in dropped)
            kept = [(k, v) for k, v in zip(result.keys, result.values, strict=True) if k[:3] not in dropped]
            self.values.update(kept)
            file_weights = {}
            for k, v in kept:
                if (k.metric, k.field) in self._weight_fields:
                    file_weights[k[:2]] = file_weights.get(k[:2], ZERO) + Decimal(v.value)
        else:
            rows.update(result.rows)
            self.values.update(zip(result.keys, result.values, strict=True))
        weights = self.weights
        both = weights.keys() & file_weights.keys()
        if both:
            for key, total in file_weights.items():
                weights[key] = weights[key] + total if key in both else total
        else:
            weights.update(file_weights)

    def _check(self, tree: Node | None, file: str) -> None:
        if tree is None:
            self._file.problems.append(
                Problem(
                    file,
                    1,
                    1,
                    "error",
                    "empty-file",
                    "data file is empty; add semester: and reviewees:, delete it, "
                    "or list it under exclude: in syncer.yaml",
                )
            )
            return
        if not isinstance(tree, MapNode):
            self._add(
                file, tree, "schema", f"a data file must be a mapping with semester: and reviewees:, not {kind(tree)}"
            )
            return
        for key, _ in tree.items:
            if key.text not in ("semester", "reviewees"):
                self._add(
                    file, key, "schema", f"unknown key {key.text!r}; a data file has only semester: and reviewees:"
                )
        sem_node = tree.get("semester")
        rev_node = tree.get("reviewees")
        semester = None
        if sem_node is None:
            self._add(file, tree, "schema", "semester: is missing; add the semester's alias from catalog.yaml")
        else:
            semester = self._semester(sem_node, file)
        self._file.semester = semester
        if rev_node is None:
            self._add(file, tree, "schema", "reviewees: is missing; add the reviewees and their metric values")
            return
        if not isinstance(rev_node, MapNode):
            self._add(file, rev_node, "schema", f"reviewees: must be a mapping of reviewees, not {kind(rev_node)}")
            return
        if not rev_node.items:
            self._add(file, rev_node, "empty-mapping", "reviewees: is empty; add reviewees or delete the file")
        for rkey, rnode in rev_node.items:
            self._reviewee(semester, rkey, rnode, file)

    def _semester(self, node: Node, file: str) -> str | None:
        if not isinstance(node, Scalar) or node.text is None:
            self._add(file, node, "schema", f"semester: must be a semester alias or ID, not {kind(node)}")
            return None
        text = node.text
        sid = self._semester_by_alias.get(text)
        if sid is not None:
            return sid
        if SEMESTER_ID.match(text):
            return text
        hint = _did_you_mean(text, self._semester_by_alias)
        self._add(
            file,
            node,
            "unknown-semester",
            f"unknown semester {text!r}: use an alias from catalog.yaml semesters:{hint} "
            "or a raw semester ID (digits, up to 19)",
        )
        return None

    def _person(self, text: str) -> str | None:
        pid = self._people.get(text)
        if pid is not None:
            return pid
        if self._raw_id is not None and self._raw_id.match(text):
            return text
        return None

    def _unknown_person(self, file: str, node: Node, text: str, message: str, value: str | None = None) -> None:
        """`value`: the person is a field's value (redactable), not a reviewee's key (an alias, shown)."""
        if text in self.emails.failed:
            return  # a resigned or unknown address: reported at the catalog's line
        if text in self.emails.pending:
            who = VALUE_SLOT if value is not None else repr(text)
            todo = (
                "give its id there (Feishu's contact API cannot look up a people_admin_id by email)"
                if self.settings.target.user_id_type == "people_admin_id"
                else "run `syncer people resolve`"
            )
            self._add(
                file,
                node,
                "unresolved-person",
                f"{who} is given by email only in catalog.yaml and its user ID is not resolved yet: {todo}",
                value,
            )
            return
        detail = _did_you_mean(text, self._people) if value is not None else ""
        self._add(file, node, "unknown-person", message, value, detail=detail)

    def _person_hint(self, text: str, *, value: bool = False) -> str:
        kind_ = self.settings.target.user_id_type
        close = DETAIL_SLOT if value else _did_you_mean(text, self._people)
        hint = f"add it to catalog.yaml people:{close}"
        if self._raw_id is None:
            return f"{hint} (with user_id_type {kind_} people must be aliases: raw IDs can't be told apart)"
        return f"{hint}, or write a well-formed {kind_} ({self._raw_id.pattern.removesuffix(chr(92) + 'Z')})"

    def _reviewee(self, semester: str | None, rkey: Scalar, rnode: Node, file: str) -> None:
        assert rkey.text is not None
        reviewee = self._person(rkey.text)
        if reviewee is None:
            self._unknown_person(
                file, rkey, rkey.text, f"unknown reviewee {rkey.text!r}: {self._person_hint(rkey.text)}"
            )
        if not isinstance(rnode, MapNode):
            self._add(
                file,
                rnode,
                "schema" if rnode.__class__ is not Scalar or rnode.text is not None else "null-value",
                f"reviewee {rkey.text!r} must map metric aliases to field values, not {kind(rnode)}",
            )
            return
        if not rnode.items:
            self._add(
                file,
                rnode,
                "empty-mapping",
                f"reviewee {rkey.text!r} has no metrics ({{}}); add metrics or remove the reviewee",
            )
            return
        metrics = self.catalog.metrics
        for mkey, mnode in rnode.items:
            assert mkey.text is not None
            metric = metrics.get(mkey.text)
            if metric is None:
                self._add(
                    file,
                    mkey,
                    "unknown-metric",
                    f"unknown metric {mkey.text!r}: use an alias from catalog.yaml metrics:"
                    f"{_did_you_mean(mkey.text, metrics)}",
                )
                continue
            if not isinstance(mnode, MapNode):
                self._add(
                    file, mnode, "schema", f"metric {mkey.text!r} must map field aliases to values, not {kind(mnode)}"
                )
                continue
            if not mnode.items:
                self._add(
                    file,
                    mnode,
                    "empty-mapping",
                    f"metric {mkey.text!r} has no fields ({{}}); add field values or remove the metric",
                )
                continue
            row = None
            if semester is not None and reviewee is not None:
                row = RowKey(semester, reviewee, metric.id)
                other = self._file.rows.get(row)
                if other is not None:
                    self._add(
                        file,
                        mkey,
                        "duplicate-row",
                        f"{rkey.text!r} {mkey.text!r} in this semester is also written at line {other.line}; "
                        "keep it in one place",
                    )
                    row = None
                else:
                    self._file.rows[row] = Source(file, mkey.line, mkey.col)
                    self._file.typed[row] = (rkey.text, mkey.text)
            self._fields(row, metric, mkey, mnode, file)

    def _fields(self, row: RowKey | None, metric: MetricDef, mkey: Scalar, mnode: MapNode, file: str) -> None:
        fields = metric.fields
        keys, values, weights = self._file.keys, self._file.values, self._file.weights
        for fkey, vnode in mnode.items:
            assert fkey.text is not None
            fdef = fields.get(fkey.text)
            if fdef is None:
                self._add(
                    file,
                    fkey,
                    "unknown-field",
                    f"metric {mkey.text!r} has no field {fkey.text!r}; fields: "
                    f"{', '.join(fields)}{_did_you_mean(fkey.text, fields)}",
                )
                continue
            if not isinstance(vnode, Scalar):
                self._add(file, vnode, "schema", f"{fkey.text!r} must be a value, not {kind(vnode)}")
                continue
            text = vnode.text
            if text is None:
                self._add(
                    file,
                    vnode,
                    "null-value",
                    f"{fkey.text!r} is empty (null); write a value or remove "
                    "the field (Feishu values cannot be deleted through the API)",
                )
                continue
            value = self._value(fdef, text, vnode, file, mkey.text)
            if fdef.input_setting == "admin":
                self._add(
                    file,
                    fkey,
                    "admin-field",
                    f"field {fkey.text!r} of {mkey.text!r} is entered by admins in Feishu "
                    "(input_setting: admin); Feishu refuses to overwrite it (1580311): remove it",
                    severity="warning",
                )
            if value is None or row is None:
                continue
            keys.append(ValueKey(row.semester, row.reviewee, row.metric, fdef.id))
            values.append(DesiredValue(value, fdef.type, file, vnode.line, vnode.col))
            if fdef.role == "weight":
                weights[row[:2]] = weights.get(row[:2], ZERO) + Decimal(value)
        for fdef in fields.values():
            if fdef.required and mnode.get(fdef.alias) is None:
                self._add(
                    file,
                    mkey,
                    "required-field",
                    f"{mkey.text!r} does not set its required field {fdef.alias!r}; Feishu answers "
                    "1580302 unless it already holds a value",
                    severity="warning",
                )

    def _value(self, fdef: FieldDef, text: str, node: Scalar, file: str, metric: str | None) -> str | None:
        ftype = field_type(fdef.type)
        bad = unstorable_refusal(text, what=repr(fdef.alias))
        if bad is not None:
            self._add(file, node, bad.code, bad.message, text, detail=bad.detail)
            return None
        if ftype.person:
            pid = self._person(text)
            if pid is not None:
                return pid
            self._unknown_person(
                file,
                node,
                text,
                f"unknown person {{value}} in {fdef.alias!r}: {self._person_hint(text, value=True)}",
                text,
            )
            return None
        value = ftype.parse(text, alias=fdef.alias, max_length=fdef.max_length)
        if isinstance(value, Refusal):
            self._add(file, node, value.code, value.message, text, detail=value.detail)
            return None
        return value

    def finish(self) -> None:
        """The rules across files: weight sums per reviewee and semester, and weights that look like fractions
        (syncer.load.templates)."""
        self.problems += weight_problems(
            self.values, self.rows, self.weights, self._weight_fields, list(self.catalog.templates.values())
        )
        self.problems += fraction_problems(self.values, self.weights, self._weight_fields)


def _did_you_mean(text: str, choices: Iterable[str]) -> str:
    names = list(choices)
    import difflib  # only for a name not found

    close = difflib.get_close_matches(text, names, n=1, cutoff=0.75) if len(names) < 5000 else []
    return f" (did you mean {close[0]!r}?)" if close else ""
