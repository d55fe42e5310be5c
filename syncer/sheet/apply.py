"""`syncer sheet import`: a sheet read into edits of the data files, checked whole before anything is
written.

Each row is (semester, reviewee, metric): the semester comes from a `semester` column, else from the
sheet's name. A row the data files hold is updated where it is written (syncer.edit.values: comments and
layout kept); a new row goes to the data file its `file` cell names (else `--into`), after that file's
rows. A cell whose value means what the YAML holds (`0.4` with a percent format and `40%`, `1310000.0` and
`1310000`, an alias and its raw ID) is no change: an export imported unchanged changes no byte. A blank
cell changes nothing when the YAML has no value there, and is an error where it has one (the API cannot
delete a value; remove it from the data file by hand). Rows the sheet does not hold are left alone.

The rules are validate's (syncer.load.data checks the cells, located at their row and column), plus the
sheet's own: readable cells (syncer.sheet.cells), known columns, one row per key, weight sums with the
rows the sheet does not hold. Every problem is collected; with any error nothing is written."""

from __future__ import annotations

import codecs
import contextlib
import difflib
import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from syncer.edit.datafile import person_fields, render_file
from syncer.edit.values import DataFileEditor, NotEditable
from syncer.errors import RefusedError
from syncer.fieldtypes import field_type
from syncer.fsio import atomic_write
from syncer.load.data import HUNDRED, DataChecker
from syncer.load.files import CATALOG_FILE, SETTINGS_FILE, glob_matches
from syncer.load.validate import PeopleSourceFactory, ValidationResult, validate_root
from syncer.load.yamlio import Mapping, Scalar, parse
from syncer.model import DesiredValue, FieldDef, MetricDef, RowKey, ValueKey
from syncer.problems import REDACTED, Problem, Severity
from syncer.sheet.cells import Read, Unreadable, read_cell
from syncer.sheet.index import DataFileInfo, Resolver, RootIndex, RowInfo
from syncer.sheet.model import FILE, KEY_COLUMNS, METRIC, REVIEWEE, SEMESTER, Book, Cell, SheetProblem, Table

IGNORED_PREFIX = "#"  # a column whose header starts with # holds notes of the sheet's own, never read


@dataclass(frozen=True, slots=True)
class FileChange:
    path: Path
    rel: str
    display: str
    old: str | None  # None: a new file
    new: str
    bom: bool
    updated: int
    added: int
    rows_added: int

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old, new, fromfile="/dev/null" if self.old is None else f"a/{self.display}", tofile=f"b/{self.display}"
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    problems: tuple[SheetProblem, ...]
    changes: tuple[FileChange, ...]
    rows: int  # rows read (blank rows aside)
    unchanged: int  # rows read that change nothing

    @property
    def errors(self) -> list[SheetProblem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass(slots=True)
class _Row:
    sheet: str | None
    number: int
    cells: dict[str, Cell]
    semester: str | None = None
    reviewee: str | None = None  # the reviewee's text, as it goes into a file
    reviewee_id: str | None = None
    metric: MetricDef | None = None
    file: str | None = None
    metric_text: str | None = None  # the metric cell's text (also when it names no metric)
    columns: frozenset[str] = frozenset()  # the table's columns
    reads: dict[str, tuple[Read, Cell]] = field(default_factory=dict)  # field alias -> its non-blank cell
    failed: set[str] = field(default_factory=set)  # field aliases whose cell could not be read
    ok: bool = True  # no error in the row's identity

    @property
    def key(self) -> RowKey | None:
        if self.ok and self.semester and self.reviewee_id and self.metric is not None:
            return RowKey(self.semester, self.reviewee_id, self.metric.id)
        return None


class _Importer:
    def __init__(self, book: Book, root: Path, result: ValidationResult, index: RootIndex, into: str | None) -> None:
        self.book = book
        self.root = root
        self.result = result
        self.catalog = result.catalog
        self.settings = result.settings
        self.index = index
        self.into = into
        self.resolve = Resolver(self.catalog, self.settings.target.user_id_type)
        self.problems: list[SheetProblem] = []
        self.changed_rows: set[tuple[str | None, int]] = set()
        self.root_display = ""
        self.fields = {a for m in self.catalog.metrics.values() for a in m.fields}
        assert result.desired is not None
        self.desired = result.desired

    # --- problems ----------------------------------------------------------------------------------------

    def add(
        self,
        sheet: str | None,
        row: int,
        col: int,
        code: str,
        message: str,
        value: str | None = None,
        severity: Severity = "error",
        detail: str = "",
    ) -> None:
        self.problems.append(SheetProblem(self.book.display, sheet, row, col, severity, code, message, value, detail))

    def unreadable(self, sheet: str | None, cell: Cell, exc: Unreadable) -> None:
        self.add(sheet, cell.row, cell.col, exc.code, exc.message, exc.value, detail=exc.detail)

    # --- the header --------------------------------------------------------------------------------------

    def header(self, table: Table) -> dict[int, str]:
        names = {n.casefold(): n for n in (*KEY_COLUMNS, *sorted(self.fields))}
        columns: dict[int, str] = {}
        seen: dict[str, int] = {}
        used = {c.col for row in table.rows for c in row if c.value is not None}
        for cell in table.header:
            if cell.merged is not None:
                self.add(table.name, cell.row, cell.col, "sheet-merged", _MERGED.format(rng=cell.merged))
                continue
            try:
                read = read_cell(cell, "key")
            except Unreadable as exc:
                self.unreadable(table.name, cell, exc)
                continue
            if read is None:
                continue
            text = read.text
            if text.startswith(IGNORED_PREFIX):
                continue
            name = text if text in self.fields or text in KEY_COLUMNS else names.get(text.casefold())
            if name is None:
                close = difflib.get_close_matches(text, list(names.values()), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(
                    table.name,
                    cell.row,
                    cell.col,
                    "sheet-column",
                    f"unknown column {text!r}{hint}: name it {', '.join(KEY_COLUMNS)} or a field alias of "
                    f"catalog.yaml ({', '.join(a for a in names.values() if a not in KEY_COLUMNS)}); a column "
                    f"whose header starts with {IGNORED_PREFIX} is left out",
                )
                continue
            if name in seen:
                self.add(
                    table.name,
                    cell.row,
                    cell.col,
                    "sheet-column",
                    f"column {name!r} is also column {_letter(seen[name])}: keep one of them",
                )
                continue
            seen[name] = cell.col
            columns[cell.col] = name
        named = {c.col for c in table.header}
        for col in sorted(used - named):
            self.add(
                table.name,
                1,
                col,
                "sheet-column",
                "this column has values but no header: name it (a field alias of catalog.yaml) or delete the column",
            )
        needed = [REVIEWEE, METRIC] + ([SEMESTER] if table.name is None else [])
        for name in needed:
            if name not in seen:
                self.add(
                    table.name,
                    1,
                    max(named, default=0) + 1,
                    "sheet-column",
                    f"no column {name!r}: the header (row 1) needs {', '.join(needed)}, the fields by alias, and "
                    "file for new rows",
                )
        return columns

    # --- rows --------------------------------------------------------------------------------------------

    def rows(self, table: Table, columns: dict[int, str]) -> list[_Row]:
        fill: dict[tuple[int, int], Cell] = {}
        top_left: dict[str, Cell] = {}
        for row in table.rows:
            for c in row:
                if c.merged is not None:
                    top_left.setdefault(c.merged, c)
        for rng, first in top_left.items():
            col_name = columns.get(first.col)
            (r1, c1), (r2, c2) = _range(rng)
            if c1 == c2 and r1 >= 2 and col_name in (SEMESTER, FILE, REVIEWEE, METRIC):
                for r in range(r1, r2 + 1):
                    fill[(r, c1)] = first
            else:
                self.add(table.name, r1, c1, "sheet-merged", _MERGED.format(rng=rng))
        out: list[_Row] = []
        for cells in table.rows:
            if all(_blank(c) for c in cells):
                continue  # a blank row (merged cells covering it alone do not make it a row)
            number = cells[0].row
            by_name: dict[str, Cell] = {}
            for c in cells:
                name = columns.get(c.col)
                if name is None:
                    continue
                source = fill.get((c.row, c.col))
                if c.merged is not None and source is None:
                    continue  # reported above
                by_name[name] = (
                    Cell(c.row, c.col, source.value, source.number_format, source.formula, source.error)
                    if source
                    else c
                )
            item = _Row(table.name, number, by_name, columns=frozenset(columns.values()))
            out.append(self.identity(table, item, columns))
        return out

    def identity(self, table: Table, row: _Row, columns: dict[int, str]) -> _Row:
        sheet = table.name
        # the semester: its column, else the sheet's name
        if SEMESTER in columns.values():
            text = self.key_text(row, SEMESTER, {**self.resolve.semesters, **{i: i for i in self.resolve.semester_ids}})
            if text is None:
                if SEMESTER not in row.cells:
                    self.add(
                        sheet,
                        row.number,
                        _col(columns, SEMESTER),
                        "sheet-blank",
                        "the semester is empty: type a semester alias of catalog.yaml",
                    )
                row.ok = False
            else:
                sid = self.resolve.semester(text)
                if sid is None:
                    cell = row.cells[SEMESTER]
                    self.add(
                        sheet, cell.row, cell.col, "unknown-semester", _unknown_semester(text, self.resolve.semesters)
                    )
                    row.ok = False
                row.semester = sid
        else:
            row.semester = self.sheet_semester(table)
            if row.semester is None:
                row.ok = False
        for name in (REVIEWEE, METRIC):
            if name not in row.cells and name in columns.values():
                what = "a people alias or a raw user ID" if name == REVIEWEE else "a metric alias of catalog.yaml"
                self.add(sheet, row.number, _col(columns, name), "sheet-blank", f"the {name} is empty: type {what}")
                row.ok = False
        rtext = self.key_text(row, REVIEWEE, self.resolve.people)
        if rtext is not None:
            row.reviewee = rtext
            row.reviewee_id = self.resolve.person(rtext)  # unknown: reported by the checker
        else:
            row.ok = False
        mtext = self.key_text(row, METRIC, {a: a for a in self.catalog.metrics})
        if mtext is not None:
            row.metric_text = mtext
            row.metric = self.catalog.metrics.get(mtext)
            if row.metric is None:
                row.ok = False
        else:
            row.ok = False
        if FILE in row.cells:
            try:
                read = read_cell(row.cells[FILE], "key")
            except Unreadable as exc:
                self.unreadable(sheet, row.cells[FILE], exc)
                row.ok = False
            else:
                row.file = read.text if read is not None else None
        for name, cell in row.cells.items():
            if name in KEY_COLUMNS:
                continue
            fdef = row.metric.fields.get(name) if row.metric is not None else None
            kind = field_type(fdef.type).cell if fdef is not None else "text"
            try:
                read = read_cell(cell, kind)
            except Unreadable as exc:
                self.unreadable(sheet, cell, exc)
                row.failed.add(name)
                continue
            if read is None:
                continue
            if fdef is not None and field_type(fdef.type).person and read.composed:
                fixed = self.zeros(sheet, cell, read.text, self.resolve.people)
                if fixed is None:
                    row.failed.add(name)
                    continue
                read = Read(fixed, composed=True)
            row.reads[name] = (read, cell)
        return row

    def key_text(self, row: _Row, name: str, choices: dict[str, str]) -> str | None:
        cell = row.cells.get(name)
        if cell is None:
            return None
        try:
            read = read_cell(cell, "key")
        except Unreadable as exc:
            self.unreadable(row.sheet, cell, exc)
            return None
        if read is None:
            self.add(row.sheet, cell.row, cell.col, "sheet-blank", f"the {name} is empty")
            return None
        if read.composed:
            return self.zeros(row.sheet, cell, read.text, choices)
        return read.text

    def zeros(self, sheet: str | None, cell: Cell, text: str, choices: dict[str, str]) -> str | None:
        """A number the workbook holds where an alias or ID goes: Excel drops leading zeros, so the aliases
        that read as this number are its candidates. One candidate is it; several are an error."""
        if not text.isdigit():
            return text
        bare = text.lstrip("0") or "0"
        candidates = sorted(a for a in choices if a.isdigit() and (a.lstrip("0") or "0") == bare)
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            self.add(
                sheet,
                cell.row,
                cell.col,
                "sheet-zeros",
                "the workbook holds the number {value} here, and Excel drops leading zeros: it could be any of "
                f"{', '.join(repr(c) for c in candidates)}; format the cell as Text and type the one you mean",
                text,
            )
            return None
        return text

    def sheet_semester(self, table: Table) -> str | None:
        name = table.name or ""
        if not hasattr(self, "_sheet_semesters"):
            self._sheet_semesters: dict[str, str | None] = {}
        if name in self._sheet_semesters:
            return self._sheet_semesters[name]
        sid = self.resolve.semester(name)
        if sid is None:
            self.add(
                table.name,
                0,
                0,
                "unknown-semester",
                f"sheet {name!r} is not a semester: name it after a semester alias of catalog.yaml "
                f"({', '.join(self.resolve.semesters)}) or its ID, add a semester column, or delete the sheet",
            )
        self._sheet_semesters[name] = sid
        return sid

    # --- the checks of validate --------------------------------------------------------------------------

    def check(self, rows: list[_Row]) -> tuple[dict[ValueKey, DesiredValue], set[tuple[str | None, int]]]:
        """validate's checks of every row, at its cells; the canonical values; rows that are new."""
        seen: dict[RowKey, _Row] = {}
        groups: dict[str | None, list[_Row]] = defaultdict(list)
        for row in rows:
            k = row.key
            if k is not None:
                other = seen.get(k)
                if other is not None:
                    cell = row.cells[METRIC]
                    where = (
                        f"row {other.number}"
                        if other.sheet == row.sheet
                        else f"sheet {other.sheet!r} row {other.number}"
                    )
                    self.add(
                        row.sheet,
                        cell.row,
                        cell.col,
                        "duplicate-row",
                        f"{row.reviewee!r} {row.metric.alias if row.metric else ''!r} in this semester is also in "
                        f"{where}; keep it in one row",
                    )
                    row.ok = False
                    continue
                seen[k] = row
            if row.reviewee is not None and row.metric_text is not None and row.semester is not None:
                groups[row.sheet].append(row)
        values: dict[ValueKey, DesiredValue] = {}
        new_rows = {(r.sheet, r.number) for r in seen.values() if r.key not in self.index.rows}
        for sheet, group in groups.items():
            checker = DataChecker(settings=self.settings, catalog=self.catalog)
            by_sem: dict[str, list[_Row]] = defaultdict(list)
            for r in group:
                by_sem[r.semester or ""].append(r)
            for sem, members in by_sem.items():
                checker.check_file(_tree(sem, members), "")
            for p in checker.problems:
                if p.code == "empty-mapping":
                    continue
                if p.severity == "warning" and not self._changing(p.line, sheet, new_rows, group, p.col):
                    continue
                self.problems.append(
                    SheetProblem(
                        self.book.display, sheet, p.line, p.col, p.severity, p.code, p.message, p.value, p.detail
                    )
                )
            values.update(checker.values)
        return values, new_rows

    def _changing(
        self, number: int, sheet: str | None, new_rows: set[tuple[str | None, int]], group: list[_Row], col: int
    ) -> bool:
        if (sheet, number) in new_rows:
            return True
        return any(r.number == number and r.key is not None and self._cell_changes(r, col) for r in group)

    def _cell_changes(self, row: _Row, col: int) -> bool:
        info = self.index.rows.get(row.key) if row.key else None
        for alias, (read, cell) in row.reads.items():
            if cell.col == col and info is not None:
                node = info.value(alias)
                return node is None or node.text != read.text
        return False


_MERGED = (
    "merged cells {rng}: unmerge them (Home > Merge & Center) and type a value in each cell; only the file, "
    "reviewee and metric columns may be merged, down a column"
)


def _tree(semester: str, rows: list[_Row]) -> Mapping:
    """The rows as the tree a data file would give, each node at its cell."""
    root = Mapping(1, 1)
    root.items.append((Scalar("semester", 1, 1, False), Scalar(semester, 1, 1, True)))
    reviewees = Mapping(1, 1)
    root.items.append((Scalar("reviewees", 1, 1, False), reviewees))
    for r in rows:
        rcell = r.cells[REVIEWEE]
        mcell = r.cells[METRIC]
        mtext = r.metric_text or ""
        metric = Mapping(mcell.row, mcell.col)
        for alias, (read, cell) in r.reads.items():
            metric.items.append((Scalar(alias, cell.row, cell.col, False), Scalar(read.text, cell.row, cell.col, True)))
        rnode = Mapping(rcell.row, rcell.col)
        rnode.items.append((Scalar(mtext, mcell.row, mcell.col, False), metric))
        reviewees.items.append((Scalar(r.reviewee, rcell.row, rcell.col, False), rnode))
    return root


def _blank(cell: Cell) -> bool:
    if cell.formula or cell.error:
        return False
    v = cell.value
    return v is None or (isinstance(v, str) and not v.strip())


def _range(rng: str) -> tuple[tuple[int, int], tuple[int, int]]:
    from syncer.sheet.model import column_letter

    def one(ref: str) -> tuple[int, int]:
        letters = "".join(ch for ch in ref if ch.isalpha())
        digits = "".join(ch for ch in ref if ch.isdigit())
        col = 0
        for ch in letters.upper():
            col = col * 26 + ord(ch) - 64
        assert column_letter(col) == letters.upper()
        return int(digits), col

    a, _, b = rng.partition(":")
    return one(a), one(b or a)


def _letter(col: int) -> str:
    from syncer.sheet.model import column_letter

    return column_letter(col)


def _col(columns: dict[int, str], name: str) -> int:
    for c, n in columns.items():
        if n == name:
            return c
    return 1


def _unknown_semester(text: str, aliases: dict[str, str]) -> str:
    close = difflib.get_close_matches(text, list(aliases), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown semester {text!r}: use an alias from catalog.yaml semesters:{hint} or a raw semester ID "
        "(digits, up to 19)"
    )


def _same(a: str, b: str, ftype: str) -> bool:
    """Whether two canonical values are one value: numbers and percentages by their decimal."""
    if field_type(ftype).numeric:
        return Decimal(a) == Decimal(b)
    return a == b


@dataclass(slots=True)
class _FileWork:
    rel: str
    info: DataFileInfo | None  # None: a new file
    semester: str
    updates: list[tuple[RowInfo, str, str, Cell]] = field(default_factory=list)  # row, alias, text, cell
    fields: list[tuple[RowInfo, str, str, Cell]] = field(default_factory=list)
    rows: list[tuple[_Row, dict[str, str]]] = field(default_factory=list)
    expected: dict[RowKey, dict[str, str]] = field(default_factory=dict)


class _Planner(_Importer):
    def plan(self) -> ImportPlan:
        rows: list[_Row] = []
        for table in self.book.tables:
            columns = self.header(table)
            rows += self.rows(table, columns)
        values, _ = self.check(rows)
        work = self.decide(rows, values)
        self.weights(rows, values)
        changes: list[FileChange] = []
        if not any(p.severity == "error" for p in self.problems):
            changes = self.edit(work)
        if any(p.severity == "error" for p in self.problems):
            changes = []
        return ImportPlan(tuple(self.problems), tuple(changes), len(rows), len(rows) - len(self.changed_rows))

    # --- what changes, where ------------------------------------------------------------------------------

    def decide(self, rows: list[_Row], values: dict[ValueKey, DesiredValue]) -> dict[str, _FileWork]:
        work: dict[str, _FileWork] = {}
        seen: set[RowKey] = set()
        for row in rows:
            key = row.key
            if key is None or key in seen or row.metric is None:
                continue
            seen.add(key)
            info = self.index.rows.get(key)
            if info is not None:
                self.existing(row, info, values, work)
            else:
                self.new(row, values, work)
        return work

    def _work(self, rel: str, info: DataFileInfo | None, semester: str, work: dict[str, _FileWork]) -> _FileWork:
        w = work.get(rel)
        if w is None:
            w = work[rel] = _FileWork(rel, info, semester)
            if info is not None:
                for r in info.rows:
                    w.expected[r.key] = {
                        fid: dv.value
                        for fid in (f.id for f in r.metric.fields.values())
                        if (dv := self.desired.values.get(ValueKey(*r.key, fid))) is not None
                    }
        return w

    def existing(
        self, row: _Row, info: RowInfo, values: dict[ValueKey, DesiredValue], work: dict[str, _FileWork]
    ) -> None:
        assert row.metric is not None and row.key is not None
        if row.file is not None and _normal(row.file) != info.file.rel:
            cell = row.cells[FILE]
            self.add(
                row.sheet,
                cell.row,
                cell.col,
                "sheet-file",
                f"this row is written in {info.file.rel} (line {info.metric_key.line}), not in {row.file!r}: "
                "correct the file cell or leave it blank (import does not move rows between files)",
            )
            return
        for alias, fdef in row.metric.fields.items():
            node = info.value(alias)
            got = row.reads.get(alias)
            if got is None:
                if node is not None and alias in row.columns and alias not in row.failed:
                    self.add(
                        row.sheet,
                        row.number,
                        self._column_of(row, alias),
                        "null-value",
                        f"{alias!r} is empty here, and {info.file.rel}:{node.line} holds a value: type the value "
                        "back, or remove the field from the data file by hand (Feishu values cannot be deleted "
                        "through the API)",
                    )
                continue
            read, cell = got
            new = values.get(ValueKey(*row.key, fdef.id))
            if new is None:
                continue  # its problem is reported
            old = self.desired.values.get(ValueKey(*row.key, fdef.id))
            if node is not None and old is not None and _same(old.value, new.value, fdef.type):
                continue
            text = self.styled(read, node.text if node is not None else None, fdef)
            w = self._work(info.file.rel, info.file, info.file.semester_id, work)
            w.expected[row.key][fdef.id] = new.value
            self.changed_rows.add((row.sheet, row.number))
            (w.updates if node is not None else w.fields).append((info, alias, text, cell))

    def new(self, row: _Row, values: dict[ValueKey, DesiredValue], work: dict[str, _FileWork]) -> None:
        assert row.metric is not None and row.key is not None
        target = row.file if row.file is not None else self.into
        where = row.cells.get(FILE) or row.cells[METRIC]
        if target is None:
            self.add(
                row.sheet,
                where.row,
                where.col,
                "sheet-file",
                "a new row: name the data file it goes to in the file column (e.g. teams/sales.yaml), or pass "
                "--into PATH",
            )
            return
        rel, why = self.target(target)
        if rel is None:
            self.add(row.sheet, where.row, where.col, "sheet-file", why)
            return
        info = self.index.files.get(rel)
        w = work.get(rel)
        semester = info.semester_id if info is not None else (w.semester if w is not None else row.semester)
        assert semester is not None
        if semester != row.semester:
            self.add(
                row.sheet,
                where.row,
                where.col,
                "sheet-file",
                f"{rel} holds semester {self.resolve.semester_label(semester)!r}, this row is of "
                f"{self.resolve.semester_label(row.semester or '')!r}: name a data file of this semester",
            )
            return
        texts: dict[str, str] = {}
        canonical: dict[str, str] = {}
        for alias, fdef in row.metric.fields.items():
            got = row.reads.get(alias)
            new = values.get(ValueKey(*row.key, fdef.id)) if got is not None else None
            if got is None or new is None:
                continue
            texts[alias] = self.styled(got[0], None, fdef)
            canonical[fdef.id] = new.value
        if not texts:
            if not row.failed and not any(a not in row.metric.fields for a in row.reads):
                self.add(
                    row.sheet,
                    where.row,
                    where.col,
                    "sheet-blank",
                    "a new row with no values: type its values, or delete the row",
                )
            return
        w = self._work(rel, info, semester, work)
        w.rows.append((row, texts))
        w.expected[row.key] = canonical
        self.changed_rows.add((row.sheet, row.number))

    def target(self, text: str) -> tuple[str | None, str]:
        """The data file a new row goes to, relative to the root; or None and why not."""
        rel = _normal(text)
        if rel is None:
            return (
                None,
                f"{text!r} is not a path inside the metrics root: write it relative to the root, e.g. teams/sales.yaml",
            )
        if not rel.endswith((".yaml", ".yml")) or rel in (SETTINGS_FILE, CATALOG_FILE):
            return None, f"{rel!r} is not a data file: name a .yaml file other than syncer.yaml and catalog.yaml"
        if any(part.startswith(".") for part in rel.split("/")):
            return None, f"{rel!r} is in a dot-directory, where syncer reads no data files"
        if rel in self.index.files:
            return rel, ""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if (self.root / "/".join(parts[:i])).is_symlink():
                return None, (
                    f"{rel!r} is under {'/'.join(parts[:i])!r}, a symbolic link: syncer follows no links under a "
                    "root (it could point outside it); name a data file in a directory of the root"
                )
        path = self.root / rel
        if path.exists() or path.is_symlink():
            return None, f"{rel!r} exists but is not a data file syncer reads (excluded in syncer.yaml?)"
        if any(glob_matches(rel, pat) for pat in self.settings.exclude):
            return None, f"{rel!r} matches an exclude: glob of syncer.yaml, so syncer would not read it"
        return rel, ""

    def styled(self, read: Read, old: str | None, fdef: FieldDef) -> str:
        """The text to write: as read; a percentage the workbook held as a number in the file's own style
        (`40%` or `40`, after the value it replaces, else after target.percentage_format)."""
        if not field_type(fdef.type).percent or not read.composed:
            return read.text
        bare = read.text.removesuffix("%")
        with_sign = old.endswith("%") if old is not None else self.settings.target.percentage_format == "40%"
        return bare + "%" if with_sign else bare

    def _column_of(self, row: _Row, alias: str) -> int:
        for table in self.book.tables:
            if table.name == row.sheet:
                for c in table.header:
                    if isinstance(c.value, str) and c.value.strip().casefold() == alias.casefold():
                        return c.col
        return 0

    # --- weight sums -------------------------------------------------------------------------------------

    def weights(self, rows: list[_Row], values: dict[ValueKey, DesiredValue]) -> None:
        """One reviewee's weights in a semester sum to at most 100%, the rows the sheet does not hold
        included: checked where the sheet raises them, at its first weight cell of the reviewee."""
        weight_field = {m.id: f for m in self.catalog.metrics.values() for f in m.fields.values() if f.role == "weight"}
        sheet_cells: dict[tuple[str, str], list[tuple[RowKey, Decimal, _Row, Cell]]] = defaultdict(list)
        for row in rows:
            k = row.key
            if k is None or row.metric is None:
                continue
            f = weight_field.get(k.metric)
            got = row.reads.get(f.alias) if f is not None else None
            dv = values.get(ValueKey(*k, f.id)) if f is not None and got is not None else None
            if f is None or got is None or dv is None:
                continue
            sheet_cells[(k.semester, k.reviewee)].append((k, Decimal(dv.value), row, got[1]))
        if not sheet_cells:
            return
        yaml_weights: dict[tuple[str, str], dict[RowKey, Decimal]] = defaultdict(dict)
        for vk, dv in self.desired.values.items():
            f = weight_field.get(vk.metric)
            if f is not None and vk.field == f.id and (vk.semester, vk.reviewee) in sheet_cells:
                yaml_weights[(vk.semester, vk.reviewee)][vk.row] = Decimal(dv.value)
        for who, cells in sheet_cells.items():
            before = yaml_weights.get(who, {})
            after = dict(before)
            for k, d, _, _ in cells:
                after[k] = d
            total = sum(after.values(), Decimal(0))
            if total <= HUNDRED or total == sum(before.values(), Decimal(0)):
                continue
            first = cells[0]
            others = [f"{_letter(c.col)}{c.row}" for _, _, _, c in cells[1:]]
            held = {k for k, _, _, _ in cells}
            others += [
                f"{self.index.rows[k].file.rel}:{self.index.rows[k].metric_key.line}"
                for k in sorted(before)
                if k not in held and k in self.index.rows
            ]
            self.add(
                first[2].sheet,
                first[3].row,
                first[3].col,
                "weights-over-100",
                f"the weights of reviewee {first[2].reviewee!r} in this semester sum to {{value}}, over 100% "
                f"(the other weights: {', '.join(others) or 'none'}); lower them",
                f"{total.normalize():f}%",
            )

    # --- the edits ---------------------------------------------------------------------------------------

    def edit(self, work: dict[str, _FileWork]) -> list[FileChange]:
        changes: list[FileChange] = []
        for rel in sorted(work):
            w = work[rel]
            try:
                new, old = self.render(w)
            except NotEditable as exc:
                cell = self._first_cell(w)
                self.add(cell[0], cell[1], cell[2], "sheet-edit", f"{rel}: {exc}")
                continue
            if new == old:
                continue
            display = self.index.files[rel].display if rel in self.index.files else _display(self.root_display, rel)
            self.verify(new, display, w)
            changes.append(
                FileChange(
                    path=self.root / rel,
                    rel=rel,
                    display=display,
                    old=old,
                    new=new,
                    bom=w.info.bom if w.info is not None else False,
                    updated=len(w.updates),
                    added=len(w.fields) + sum(len(t) for _, t in w.rows),
                    rows_added=len(w.rows),
                )
            )
        if changes:
            self.whole(changes)
        return changes

    def _first_cell(self, w: _FileWork) -> tuple[str | None, int, int]:
        for _, _, _, cell in w.updates + w.fields:
            return self._sheet_of(cell), cell.row, cell.col
        for row, _ in w.rows:
            c = row.cells[METRIC]
            return row.sheet, c.row, c.col
        return None, 0, 0

    def _sheet_of(self, cell: Cell) -> str | None:
        for table in self.book.tables:
            for row in table.rows:
                if any(c is cell for c in row):
                    return table.name
        return self.book.tables[0].name if self.book.tables else None

    def render(self, w: _FileWork) -> tuple[str, str | None]:
        if w.info is None:
            label = self.resolve.semester_label(w.semester)
            grouped: dict[str, list[tuple[str, dict[str, str]]]] = {}
            for row, texts in w.rows:
                assert row.reviewee is not None and row.metric is not None
                grouped.setdefault(row.reviewee, []).append((row.metric.alias, texts))
            header = []
            schema = self.root / ".schemas" / "data.schema.json"
            if schema.is_file():
                depth = w.rel.count("/")
                header.append(f"yaml-language-server: $schema={'../' * depth}.schemas/data.schema.json")
            header.append(
                "Written by `syncer sheet import`: edit the values here or in a sheet, then review `syncer plan`."
            )
            people = person_fields(self.catalog)
            text = render_file(
                semester_label=label, reviewees=list(grouped.items()), header=header, person_fields=people
            )
            return text, None
        info = w.info
        editor = DataFileEditor(info.text, person_fields=person_fields(self.catalog))
        for row_info, alias, text, _ in w.updates:
            node = row_info.value(alias)
            fkey = row_info.metric_node.key(alias)
            assert node is not None and fkey is not None
            parents = (row_info.reviewee_node, row_info.metric_node)
            editor.set_value(node, fkey, text, parents=parents, metric=row_info.metric.alias)
        for row_info, alias, text, _ in w.fields:
            order = list(row_info.metric.fields)  # the catalog's order, which fmt keeps
            editor.add_field(
                row_info.metric_key, row_info.metric_node, alias, text, parents=(row_info.reviewee_node,), order=order
            )
        by_reviewee: dict[str, list[tuple[_Row, dict[str, str]]]] = {}
        for row, texts in w.rows:
            assert row.reviewee_id is not None
            by_reviewee.setdefault(row.reviewee_id, []).append((row, texts))
        reviewees_key = info.tree.key("reviewees")
        assert reviewees_key is not None
        # Metrics of reviewees the file holds before new reviewees: the last reviewee's new metric and a new
        # reviewee go in at the same place, and the editor keeps edits at one place in the order made.
        held_by = {rid: next((r for r in info.rows if r.key.reviewee == rid), None) for rid in by_reviewee}
        for rid, entries in by_reviewee.items():
            held = held_by[rid]
            if held is not None:
                for row, texts in entries:
                    assert row.metric is not None
                    editor.add_metric(held.reviewee_key, held.reviewee_node, row.metric.alias, texts)
        for rid, entries in by_reviewee.items():
            if held_by[rid] is None:
                first = entries[0][0]
                assert first.reviewee is not None
                editor.add_reviewee(
                    reviewees_key, info.reviewees, first.reviewee, [(r.metric.alias, t) for r, t in entries if r.metric]
                )
        return editor.render(), info.text

    def verify(self, text: str, display: str, w: _FileWork) -> None:
        """The edited file, read back with validate's own checks, must hold exactly the values expected."""
        from syncer.errors import SyncerError

        checker = DataChecker(settings=self.settings, catalog=self.catalog)
        checker.check_file(parse(text, display), display)
        errors = [p for p in checker.problems if p.severity == "error"]
        got: dict[RowKey, dict[str, str]] = {}
        for k, dv in checker.values.items():
            got.setdefault(k.row, {})[k.field] = dv.value
        if errors or got != w.expected:
            first = errors[0].text(redact=True) if errors else "the values read back differ"
            raise SyncerError(
                f"internal error: {display} would not read back as the sheet says ({first}); nothing was "
                "written. This is a bug in syncer: please report it"
            )

    def whole(self, changes: list[FileChange]) -> None:
        """The root with every edit, checked as validate checks it (rules across files too)."""
        texts = {c.rel: c.new for c in changes}
        checker = DataChecker(settings=self.settings, catalog=self.catalog)
        rels = sorted(set(self.index.files) | set(texts))
        for rel in rels:
            info = self.index.files.get(rel)
            text = texts.get(rel, info.text if info is not None else "")
            display = info.display if info is not None else _display(self.root_display, rel)
            checker.check_file(parse(text, display), display)
        checker.finish()
        for p in checker.problems:
            if p.severity == "error":
                self.problems.append(
                    SheetProblem(p.file, None, p.line, p.col, p.severity, p.code, p.message, p.value, p.detail)
                )


def _display(root_display: str, rel: str) -> str:
    from syncer.load.files import display_path

    return display_path(root_display, rel)


def _normal(text: str) -> str | None:
    """A path relative to the root, POSIX, normalised; None when it leaves the root or is absolute."""
    text = text.strip().replace("\\", "/")
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    rel = posixpath.normpath(text)
    if rel == "." or rel.startswith("../") or rel == "..":
        return None
    return rel


def plan_import(
    book: Book,
    *,
    root: Path,
    root_display: str,
    result: ValidationResult,
    index: RootIndex,
    into: str | None = None,
) -> ImportPlan:
    """The edits a sheet makes to a valid root, or the problems that stop it (nothing is written here)."""
    planner = _Planner(book, root, result, index, into)
    planner.root_display = root_display
    return planner.plan()


class ImportInvalid(RefusedError):
    """The written files made the root invalid; they were put back as they were."""

    def __init__(self, problems: Sequence[Problem], message: str) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


def _bytes(text: str, bom: bool) -> bytes:
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")


def write_changes(
    changes: Sequence[FileChange], *, root: Path, root_display: str, people: PeopleSourceFactory | None
) -> None:
    """Write every change (each file atomically), then validate the root; on any failure put every file
    back as it was. Refused before anything is written when a file changed since it was read."""
    for c in changes:
        if c.old is None:
            if c.path.exists() or c.path.is_symlink():
                raise RefusedError(f"{c.display} appeared while importing; nothing was written")
        elif not c.path.is_file() or c.path.read_bytes() != _bytes(c.old, c.bom):
            raise RefusedError(f"{c.display} changed while importing; nothing was written: run the import again")
    written: list[FileChange] = []
    made: list[Path] = []
    try:
        for c in changes:
            parent = c.path.parent
            missing = []
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for d in reversed(missing):
                d.mkdir()
                made.append(d)
            atomic_write(c.path, _bytes(c.new, c.bom))
            written.append(c)
        check = validate_root(root, root_display=root_display, people=people)
        if not check.ok:
            raise ImportInvalid(
                check.errors,
                "with the edits the metrics root is invalid (the problems are listed above); every file was put "
                "back as it was",
            )
    except BaseException:
        for c in reversed(written):
            if c.old is None:
                c.path.unlink(missing_ok=True)
            else:
                atomic_write(c.path, _bytes(c.old, c.bom))
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


_VALUE_LINE = re.compile(r"^(?P<head>[ +-]\s*(?:-\s+)?[^#\s][^#]*?:)(?P<value>\s+\S.*)$")


def redact_diff(diff: str) -> str:
    """A diff with every value hidden: what follows `key:` on a line, and lines that are a value's
    continuation, become `(redacted)`; keys, comments and file names stay."""
    out = []
    for line in diff.split("\n"):
        if line.startswith(("---", "+++", "@@", "\\")) or not line:
            out.append(line)
            continue
        body = line[1:]
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            out.append(line)
            continue
        m = _VALUE_LINE.match(line)
        if m:
            out.append(f"{m.group('head')} {REDACTED}")
        elif stripped.endswith(":"):
            out.append(line)
        else:
            out.append(f"{line[0]}{body[: len(body) - len(body.lstrip())]}{REDACTED}")
    return "\n".join(out)
