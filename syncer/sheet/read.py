"""The rows of a sheet as an import reads them: the header's columns (a field alias or a key column, by
name), merged key cells filled down, and each row's identity (semester, reviewee, metric) resolved as
validation resolves aliases, with its field cells read by the field's type (syncer.sheet.cells). What
cannot be read is logged at its cell, and the row or cell is left out of what follows."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from syncer.fieldtypes import field_type
from syncer.model import Catalog, MetricDef, RowKey
from syncer.sheet.cells import Read, Unreadable, read_cell
from syncer.sheet.index import Resolver
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import (
    FILE,
    KEY_COLUMNS,
    METRIC,
    REVIEWEE,
    SEMESTER,
    Book,
    Cell,
    Table,
    column_letter,
    key_headers,
)
from syncer.text import plural

IGNORED_PREFIX = "#"  # a column whose header starts with # holds notes of the sheet's own, never read


@dataclass(slots=True)
class SheetRow:
    """One row of a sheet read: its cells by column name, its identity once resolved, its field cells read."""

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


def read_book(
    book: Book, *, catalog: Catalog, resolve: Resolver, log: ProblemLog, semester: str | None = None
) -> list[SheetRow]:
    """Every row of the book that is not blank, in order, sheet by sheet; problems go to `log`. `semester`
    (a semester ID, from --semester) is the semester of a csv file's rows when it has no semester column
    (one sheet of a workbook saved as csv), and the one its semester column must name when it has one."""
    reader = _Reader(catalog, resolve, log, semester)
    rows: list[SheetRow] = []
    for table in book.tables:
        columns = reader.header(table)
        rows += reader.rows(table, columns)
    if reader.elsewhere:  # one problem, at the first: the flag or the file is wrong, not each row
        cell = reader.elsewhere[0].cells[SEMESTER]
        more = len(reader.elsewhere) - 1
        also = f" and in {plural(more, 'more row')}" if more else ""
        log.add(
            reader.elsewhere[0].sheet,
            cell.row,
            cell.col,
            "sheet-semester",
            f"the semester column names another semester than --semester {resolve.semester_label(semester or '')!r}"
            f" here{also}: the column names each row's semester; "
            "drop --semester, or delete the rows of other semesters",
        )
    return rows


@dataclass(slots=True)
class _Reader:
    """The steps of read_book, sharing the catalog's names and the semester of each sheet."""

    catalog: Catalog
    resolve: Resolver
    log: ProblemLog
    given: str | None  # --semester: the semester ID of a csv file's rows
    fields: set[str] = field(init=False)  # every field alias of the catalog
    sheet_semesters: dict[str, str | None] = field(default_factory=dict)  # a sheet's name -> its semester
    elsewhere: list[SheetRow] = field(default_factory=list)  # rows whose semester cell is not --semester's

    def __post_init__(self) -> None:
        self.fields = {a for m in self.catalog.metrics.values() for a in m.fields}

    def header(self, table: Table) -> dict[int, str]:
        """Row 1: column -> the key column (in any language syncer exports in) or field alias it names (case
        aside; a field alias first); unknown, repeated, missing
        and unnamed columns are logged, and a column whose header starts with # is left out."""
        names = key_headers() | {n.casefold(): n for n in (*KEY_COLUMNS, *sorted(self.fields))}
        columns: dict[int, str] = {}
        seen: dict[str, int] = {}
        used = {c.col for row in table.rows for c in row if c.value is not None}
        for cell in table.header:
            if cell.merged is not None:
                self.log.add(table.name, cell.row, cell.col, "sheet-merged", _MERGED.format(rng=cell.merged))
                continue
            try:
                read = read_cell(cell, "key")
            except Unreadable as exc:
                self.log.unreadable(table.name, cell, exc)
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
                self.log.add(
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
                self.log.add(
                    table.name,
                    cell.row,
                    cell.col,
                    "sheet-column",
                    f"column {name!r} is also column {column_letter(seen[name])}: keep one of them",
                )
                continue
            seen[name] = cell.col
            columns[cell.col] = name
        named = {c.col for c in table.header}
        for col in sorted(used - named):
            self.log.add(
                table.name,
                1,
                col,
                "sheet-column",
                "this column has values but no header: name it (a field alias of catalog.yaml) or delete the column",
            )
        needed = [REVIEWEE, METRIC] + ([SEMESTER] if table.name is None and self.given is None else [])
        for name in needed:
            if name not in seen:
                self.log.add(
                    table.name,
                    1,
                    max(named, default=0) + 1,
                    "sheet-column",
                    f"no column {name!r}: the header (row 1) needs {', '.join(needed)}, the fields by alias, and "
                    "file for new rows" + (_ONE_SHEET if name == SEMESTER else ""),
                )
        return columns

    def rows(self, table: Table, columns: dict[int, str]) -> list[SheetRow]:
        """The table's rows that are not blank, by column name: a merged key cell down a column fills each
        row it covers, any other merged range is logged."""
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
                self.log.add(table.name, r1, c1, "sheet-merged", _MERGED.format(rng=rng))
        out: list[SheetRow] = []
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
            item = SheetRow(table.name, number, by_name, columns=frozenset(columns.values()))
            out.append(self.identity(table, item, columns))
        return out

    def identity(self, table: Table, row: SheetRow, columns: dict[int, str]) -> SheetRow:
        """The row's semester, reviewee, metric and file resolved, and its field cells read by type; any
        error in the first three leaves the row without a key."""
        sheet = table.name
        # the semester: its column, else the sheet's name
        if SEMESTER in columns.values():
            text = self.key_text(row, SEMESTER, {**self.resolve.semesters, **{i: i for i in self.resolve.semester_ids}})
            if text is None:
                if SEMESTER not in row.cells:
                    self.log.add(
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
                    self.log.add(
                        sheet, cell.row, cell.col, "unknown-semester", _unknown_semester(text, self.resolve.semesters)
                    )
                    row.ok = False
                elif self.given is not None and sid != self.given:
                    self.elsewhere.append(row)
                    row.ok = False
                row.semester = sid
        elif table.name is None:  # a csv file: --semester names it (None: the missing column is logged, no key)
            row.semester = self.given
        else:
            row.semester = self.sheet_semester(table)
            if row.semester is None:
                row.ok = False
        for name in (REVIEWEE, METRIC):
            if name not in row.cells and name in columns.values():
                what = "a people alias or a raw user ID" if name == REVIEWEE else "a metric alias of catalog.yaml"
                self.log.add(sheet, row.number, _col(columns, name), "sheet-blank", f"the {name} is empty: type {what}")
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
                self.log.unreadable(sheet, row.cells[FILE], exc)
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
                self.log.unreadable(sheet, cell, exc)
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

    def key_text(self, row: SheetRow, name: str, choices: dict[str, str]) -> str | None:
        """The text of a key cell (None: blank or unreadable, logged), a number read back as its alias."""
        cell = row.cells.get(name)
        if cell is None:
            return None
        try:
            read = read_cell(cell, "key")
        except Unreadable as exc:
            self.log.unreadable(row.sheet, cell, exc)
            return None
        if read is None:
            self.log.add(row.sheet, cell.row, cell.col, "sheet-blank", f"the {name} is empty")
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
            self.log.add(
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
        """The semester a sheet's name gives (asked once per sheet: a wrong name is one problem)."""
        name = table.name or ""
        if name in self.sheet_semesters:
            return self.sheet_semesters[name]
        sid = self.resolve.semester(name)
        if sid is None:
            self.log.add(
                table.name,
                0,
                0,
                "unknown-semester",
                f"sheet {name!r} is not a semester: name it after a semester alias of catalog.yaml "
                f"({', '.join(self.resolve.semesters)}) or its ID, add a semester column, or delete the sheet",
            )
        self.sheet_semesters[name] = sid
        return sid


_ONE_SHEET = "; saved from one sheet of the workbook? name its semester with --semester ALIAS"
_MERGED = (
    "merged cells {rng}: unmerge them (Home > Merge & Center) and type a value in each cell; only the file, "
    "reviewee and metric columns may be merged, down a column"
)


def _blank(cell: Cell) -> bool:
    if cell.formula or cell.error:
        return False
    v = cell.value
    return v is None or (isinstance(v, str) and not v.strip())


def _range(rng: str) -> tuple[tuple[int, int], tuple[int, int]]:
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
