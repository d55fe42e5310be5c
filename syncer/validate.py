"""Validation of a metrics root: settings, catalog, then every data file, then the rules across files.

The data files are checked by hand-written code that mirrors `schemas/data.schema.json` (a test keeps the
two in agreement): a million values are checked in a few seconds, which jsonschema cannot do. Every
problem is collected (never only the first), with its file, line and column.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from syncer.config import (
    CATALOG_FILE,
    RAW_ID,
    SEMESTER_ID,
    SETTINGS_FILE,
    display_path,
    load_catalog,
    load_settings,
    load_tree,
)
from syncer.model import (
    Catalog,
    DesiredState,
    DesiredValue,
    FieldDef,
    MetricDef,
    RowKey,
    Source,
    ValueKey,
)
from syncer.people import EmailPeople, PeopleCache, email_check, email_people, read_cache
from syncer.perf import paused_gc
from syncer.problems import Problem, Severity, sort_problems
from syncer.settings import Settings
from syncer.state.base import StateStore
from syncer.yamlio import Mapping, Node, Scalar, kind, walk_files

NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
PERCENTAGE = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)%?\Z")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    root: Path
    settings: Settings
    catalog: Catalog
    desired: DesiredState | None  # None when there are errors
    problems: list[Problem]
    files: tuple[str, ...]  # data files read (display paths)
    value_count: int = 0
    closed_value_count: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_root(
    root: Path,
    *,
    root_display: str | None = None,
    state_dir: Path | None = None,
    open_state: Callable[[Settings], StateStore] | None = None,
) -> ValidationResult:
    """Load and check everything below `root`, offline. Never raises for a user mistake: problems are
    returned; `desired` is built only when there are no errors.

    People given by email only take their IDs from the people cache of the state: read through the store
    `open_state(settings)` returns, by default `open_store` (`--state PATH` as `state_dir`, else the backend
    of syncer.yaml: state.path, or the state branch, fetched without a lock). The store is opened only when
    the catalog has such people; the catalog of the result carries their IDs."""
    with paused_gc():
        return _validate_root(root, root_display, state_dir, open_state)


class _PeopleLookup:
    """The state's people cache, read once and only when asked for (a catalog without email-only people
    never opens the store). A cache that cannot be reached (no git work tree, the remote unreachable) is a
    warning: email-only people are then reported as unresolved. A damaged one is an error, as before."""

    def __init__(
        self,
        root: Path,
        shown: str,
        settings: Settings,
        state_dir: Path | None,
        open_state: Callable[[Settings], StateStore] | None,
    ) -> None:
        self.root, self.shown, self.settings = root, shown, settings
        self.state_dir, self.open_state = state_dir, open_state
        self.problems: list[Problem] = []  # errors about the cache itself (they stop the data checks)
        self.warnings: list[Problem] = []
        self._loaded = False
        self._cache: PeopleCache | None = None

    def cache(self) -> PeopleCache | None:
        if not self._loaded:
            self._loaded = True
            self._cache = self._read()
        return self._cache

    def _read(self) -> PeopleCache | None:
        from syncer.errors import StateError
        from syncer.state import open_store
        from syncer.state.gitcmd import GitError

        where = display_path(self.shown, CATALOG_FILE)
        store = None
        try:
            store = (
                self.open_state(self.settings)
                if self.open_state is not None
                else open_store(self.root, self.settings, override=self.state_dir)
            )
            return read_cache(store)
        except GitError as exc:
            self.warnings.append(Problem(where, 1, 1, "warning", "people-cache", _unreachable(store, exc)))
        except StateError as exc:
            if store is None:  # the store could not even be opened (e.g. state.backend git outside a clone)
                self.warnings.append(Problem(where, 1, 1, "warning", "people-cache", _unreachable(store, exc)))
            else:
                self.problems.append(Problem(where, 1, 1, "error", "people-cache", exc.message))
        return None

    def email_check(self, user_id_type: str) -> Callable[[str, str], tuple[str, str] | None]:
        def check(alias: str, email: str) -> tuple[str, str] | None:
            return email_check(self.cache(), user_id_type=user_id_type)(alias, email)

        return check


def _unreachable(store: StateStore | None, exc: Exception) -> str:
    where = f" of {store.location}" if store is not None else ""
    return f"could not read the people cache{where} ({exc}); people given by email only are reported as unresolved"


def _validate_root(
    root: Path, root_display: str | None, state_dir: Path | None, open_state: Callable[[Settings], StateStore] | None
) -> ValidationResult:
    shown = root_display if root_display is not None else root.as_posix()
    if not root.is_dir():
        problem = Problem(
            shown,
            1,
            1,
            "error",
            "missing-root",
            "metrics root not found: pass --root DIR, or run `syncer init DIR` to create one",
        )
        return ValidationResult(root, Settings(), Catalog(), None, [problem], ())
    settings, problems = load_settings(root, shown)
    uid = settings.target.user_id_type
    lookup = _PeopleLookup(root, shown, settings, state_dir, open_state)
    catalog, catalog_problems = load_catalog(root, shown, settings, email_check=lookup.email_check(uid))
    email_only = any(p.id is None and p.email for p in catalog.people.values())
    cache = lookup.cache() if email_only else None
    catalog_problems += lookup.problems
    problems += catalog_problems + lookup.warnings
    emails = email_people(catalog, cache, user_id_type=uid)
    if emails.resolved:  # the IDs of people given by email, as looked up by `syncer people resolve`
        catalog = replace(
            catalog,
            people={
                a: replace(p, id=emails.resolved[a]) if a in emails.resolved else p for a, p in catalog.people.items()
            },
        )
    if emails.note:
        problems.append(Problem(display_path(shown, CATALOG_FILE), 1, 1, "warning", "people-cache", emails.note))
    checker = DataChecker(settings=settings, catalog=catalog, emails=emails)
    paths = walk_files(root, exclude=settings.exclude, skip=frozenset({SETTINGS_FILE, CATALOG_FILE}))
    files: list[str] = []
    catalog_ok = not catalog_problems
    for path in paths:
        display = display_path(shown, path.relative_to(root).as_posix())
        files.append(display)
        tree, load_problems = load_tree(path, display, max_bytes=settings.max_file_bytes)
        checker.problems += load_problems
        if catalog_ok and (tree is not None or not load_problems):
            checker.check_file(tree, display)
    if catalog_ok:
        checker.finish()
    problems += checker.problems
    problems = sort_problems(problems)
    ok = not any(p.severity == "error" for p in problems)
    closed = catalog.closed_semester_ids()
    desired = None
    if ok:
        desired = DesiredState(
            values=checker.values, rows=checker.rows, catalog=catalog, closed_semesters=closed, files=tuple(files)
        )
    closed_count = sum(1 for k in checker.values if k.semester in closed) if closed else 0
    return ValidationResult(
        root,
        settings,
        catalog,
        desired,
        problems,
        tuple(files),
        value_count=len(checker.values),
        closed_value_count=closed_count,
    )


@dataclass(slots=True)
class DataChecker:
    """Checks data files one at a time and accumulates the desired values and the cross-file facts."""

    settings: Settings
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)
    values: dict[ValueKey, DesiredValue] = field(default_factory=dict)
    rows: dict[RowKey, Source] = field(default_factory=dict)
    weights: dict[tuple[str, str], list[tuple[Decimal, Source]]] = field(default_factory=lambda: defaultdict(list))
    emails: EmailPeople = field(default_factory=EmailPeople)
    _semester_by_alias: dict[str, str] = field(default_factory=dict)
    _people: dict[str, str] = field(default_factory=dict)
    _raw_id: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        self._semester_by_alias = {a: s.id for a, s in self.catalog.semesters.items()}
        self._people = {a: p.id for a, p in self.catalog.people.items() if p.id}
        self._raw_id = RAW_ID.get(self.settings.target.user_id_type)

    def _add(
        self, file: str, node: Node, code: str, message: str, value: str | None = None, severity: Severity = "error"
    ) -> None:
        self.problems.append(Problem(file, node.line, node.col, severity, code, message, value))

    def check_file(self, tree: Node | None, file: str) -> None:
        if tree is None:
            self.problems.append(
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
        if not isinstance(tree, Mapping):
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
        if rev_node is None:
            self._add(file, tree, "schema", "reviewees: is missing; add the reviewees and their metric values")
            return
        if not isinstance(rev_node, Mapping):
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
        if text in self.emails.failed:
            return  # a resigned or unknown address: reported at the catalog's line
        if text in self.emails.pending:
            self._add(
                file,
                node,
                "unresolved-person",
                f"{text!r} is given by email only in catalog.yaml and its user ID is not resolved yet: "
                "run `syncer people resolve`",
            )
            return
        self._add(file, node, "unknown-person", message, value)

    def _person_hint(self, text: str) -> str:
        kind_ = self.settings.target.user_id_type
        hint = f"add it to catalog.yaml people:{_did_you_mean(text, self._people)}"
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
        if not isinstance(rnode, Mapping):
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
            if not isinstance(mnode, Mapping):
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
                other = self.rows.get(row)
                if other is not None:
                    where = f"line {other.line}" if other.file == file else f"{other.file}:{other.line}"
                    self._add(
                        file,
                        mkey,
                        "duplicate-row",
                        f"{rkey.text!r} {mkey.text!r} in this semester is also written at {where}; "
                        "keep it in one place",
                    )
                    row = None
                else:
                    self.rows[row] = Source(file, mkey.line, mkey.col)
            self._fields(row, metric, mkey, mnode, file)

    def _fields(self, row: RowKey | None, metric: MetricDef, mkey: Scalar, mnode: Mapping, file: str) -> None:
        fields = metric.fields
        values = self.values
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
            values[ValueKey(row.semester, row.reviewee, row.metric, fdef.id)] = DesiredValue(
                value, fdef.type, file, vnode.line, vnode.col
            )
            if fdef.role == "weight":
                self.weights[(row.semester, row.reviewee)].append((Decimal(value), Source(file, vnode.line, vnode.col)))
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
        t = fdef.type
        if t == "number":
            if NUMBER.match(text):
                return text
            self._add(
                file,
                node,
                "bad-number",
                f"{{value}} is not a number for {fdef.alias!r}: write digits "
                "with an optional minus sign and decimal point, e.g. 1200000 or -3.5",
                text,
            )
            return None
        if t == "percentage":
            m = PERCENTAGE.match(text)
            if m:
                return m.group(1)
            self._add(
                file,
                node,
                "bad-percentage",
                f"{{value}} is not a percentage for {fdef.alias!r}: write e.g. 40% or 40 (the same value)",
                text,
            )
            return None
        if t == "person":
            pid = self._person(text)
            if pid is not None:
                return pid
            self._unknown_person(
                file, node, text, f"unknown person {{value}} in {fdef.alias!r}: {self._person_hint(text)}", text
            )
            return None
        if len(text) > fdef.max_length:
            self._add(
                file,
                node,
                "too-long",
                f"{fdef.alias!r} is {len(text)} characters long, more than its "
                f"max_length {fdef.max_length}; shorten it",
                text,
            )
            return None
        return text

    def finish(self) -> None:
        """The rules across files: weight sums per reviewee and semester."""
        for (_semester, reviewee), items in self.weights.items():
            total = sum((d for d, _ in items), Decimal(0))
            if total > HUNDRED:
                items.sort(key=lambda i: (i[1].file, i[1].line))
                first = items[0][1]
                others = ", ".join(f"{s.file}:{s.line}" for _, s in items[1:]) or "none"
                self.problems.append(
                    Problem(
                        first.file,
                        first.line,
                        first.col,
                        "error",
                        "weights-over-100",
                        f"the weights of reviewee {reviewee} in this semester sum to {{value}}, over 100% "
                        f"(the other weights: {others}); lower them",
                        f"{total.normalize():f}%",
                    )
                )


def _did_you_mean(text: str, choices: Iterable[str]) -> str:
    names = list(choices)
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.75) if len(names) < 5000 else []
    return f" (did you mean {close[0]!r}?)" if close else ""
