"""What a sheet import changes, and where: for each row with a key, the values that differ from what the
data files hold (`0.4` and `40%` are one value), as updates of a written row, fields added to it, or a new
row in the data file its file cell names (else --into). The sheet's rules of files are logged at the cell:
a row is not moved between files, a new row goes to a data file of its semester inside the root, and a
blank cell is no deletion."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from syncer.fieldtypes import field_type
from syncer.load.files import NOT_DATA, glob_matches
from syncer.load.settings import Settings
from syncer.model import DesiredState, DesiredValue, FieldDef, RowKey, ValueKey
from syncer.sheet.cells import Read
from syncer.sheet.index import DataFileInfo, Resolver, RootIndex, RowInfo
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import FILE, METRIC, Cell, Table
from syncer.sheet.protect import admin_fields, admin_reason, closed_reason
from syncer.sheet.read import SheetRow


@dataclass(slots=True)
class FileWork:
    """The edits of one data file: values replaced, fields added, rows added; and every value it must hold
    after them (read back to check the edit)."""

    rel: str
    info: DataFileInfo | None  # None: a new file
    semester: str
    updates: list[tuple[RowInfo, str, str, Cell]] = field(default_factory=list)  # row, alias, text, cell
    fields: list[tuple[RowInfo, str, str, Cell]] = field(default_factory=list)
    rows: list[tuple[SheetRow, dict[str, str]]] = field(default_factory=list)
    expected: dict[RowKey, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Edits:
    files: dict[str, FileWork]  # by rel
    changed_rows: int  # rows of the sheet the data files hold that change a value
    added_rows: int  # rows of the sheet the data files do not hold, added to them


def decide_edits(
    rows: list[SheetRow],
    values: dict[ValueKey, DesiredValue],
    *,
    tables: tuple[Table, ...],
    index: RootIndex,
    desired: DesiredState,
    settings: Settings,
    resolve: Resolver,
    root: Path,
    into: str | None,
    log: ProblemLog,
) -> Edits:
    """The edits the rows make (`values`: their canonical values, as checked); what stops one is logged."""
    decider = _Decider(tables, index, desired, settings, resolve, root, into, log)
    files = decider.decide(rows, values)
    return Edits(files, len(decider.changed_rows), len(decider.added_rows))


@dataclass(slots=True)
class _Decider:
    """The steps of decide_edits, counting the rows that change."""

    tables: tuple[Table, ...]
    index: RootIndex
    desired: DesiredState
    settings: Settings
    resolve: Resolver
    root: Path
    into: str | None
    log: ProblemLog
    changed_rows: set[tuple[str | None, int]] = field(default_factory=set)
    added_rows: set[tuple[str | None, int]] = field(default_factory=set)

    @property
    def percentage_format(self) -> str:
        return self.settings.target.percentage_format

    def decide(self, rows: list[SheetRow], values: dict[ValueKey, DesiredValue]) -> dict[str, FileWork]:
        """Each key once (a repeated key is logged by the check): its row of the data files updated, or a
        new row added."""
        work: dict[str, FileWork] = {}
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

    def _work(self, rel: str, info: DataFileInfo | None, semester: str, work: dict[str, FileWork]) -> FileWork:
        """The edits of a file, begun with the values it holds now."""
        w = work.get(rel)
        if w is None:
            w = work[rel] = FileWork(rel, info, semester)
            if info is not None:
                for r in info.rows:
                    w.expected[r.key] = {
                        fid: dv.value
                        for fid in (f.id for f in r.metric.fields.values())
                        if (dv := self.desired.values.get(ValueKey(*r.key, fid))) is not None
                    }
        return w

    def existing(
        self, row: SheetRow, info: RowInfo, values: dict[ValueKey, DesiredValue], work: dict[str, FileWork]
    ) -> None:
        """A row the data files hold: the values the sheet changes, replaced or added in place; a blank
        cell where the file has a value is logged (the API cannot delete one)."""
        key = row.key  # once: a property, computed at each use
        assert row.metric is not None and key is not None
        if row.file is not None and normal_path(row.file) != info.file.rel:
            cell = row.cells[FILE]
            self.log.add(
                row.sheet,
                cell.row,
                cell.col,
                "sheet-file",
                f"this row is written in {info.file.rel} (line {info.metric_key.line}), not in {row.file!r}: "
                "correct the file cell or leave it blank (import does not move rows between files)",
            )
            self.log.refused.add((row.sheet, row.number))
            return
        for alias, fdef in row.metric.fields.items():
            node = info.value(alias)
            got = row.reads.get(alias)
            if got is None:
                if node is not None and alias in row.columns and alias not in row.failed:
                    self.log.add(
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
            new = values.get(ValueKey(*key, fdef.id))
            if new is None:
                continue  # its problem is reported
            old = self.desired.values.get(ValueKey(*key, fdef.id))
            if node is not None and old is not None and same_value(old.value, new.value, fdef.type):
                continue
            why = self.protected(row, alias)
            if why is not None:
                self.log.refuse(row.sheet, cell.row, cell.col, why)
                continue
            text = styled(read, node.text if node is not None else None, fdef, percentage_format=self.percentage_format)
            w = self._work(info.file.rel, info.file, info.file.semester_id, work)
            w.expected[key][fdef.id] = new.value
            self.changed_rows.add((row.sheet, row.number))
            (w.updates if node is not None else w.fields).append((info, alias, text, cell))

    def new(self, row: SheetRow, values: dict[ValueKey, DesiredValue], work: dict[str, FileWork]) -> None:
        """A row the data files do not hold: added to the file its file cell (else --into) names, when that
        is a data file of the row's semester and the row has a value."""
        assert row.metric is not None and row.key is not None
        target = row.file if row.file is not None else self.into
        where = row.cells.get(FILE) or row.cells[METRIC]
        if target is None:
            self.log.add(
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
            self.log.add(row.sheet, where.row, where.col, "sheet-file", why)
            return
        info = self.index.files.get(rel)
        w = work.get(rel)
        semester = info.semester_id if info is not None else (w.semester if w is not None else row.semester)
        assert semester is not None
        if semester != row.semester:
            self.log.add(
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
        refused = False
        for alias, fdef in row.metric.fields.items():
            got = row.reads.get(alias)
            new = values.get(ValueKey(*row.key, fdef.id)) if got is not None else None
            if got is None or new is None:
                continue
            reason = self.protected(row, alias)
            if reason is not None:
                self.log.refuse(row.sheet, got[1].row, got[1].col, reason)
                refused = True
                continue
            texts[alias] = styled(got[0], None, fdef, percentage_format=self.percentage_format)
            canonical[fdef.id] = new.value
        if refused:
            return
        if not texts:
            if not row.failed and not any(a not in row.metric.fields for a in row.reads):
                self.log.add(
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
        self.added_rows.add((row.sheet, row.number))

    def protected(self, row: SheetRow, alias: str) -> str | None:
        """Why the row's `alias` cell may not change (syncer.sheet.protect), or None."""
        assert row.metric is not None
        if row.semester in self.desired.closed_semesters:
            return closed_reason(self.resolve.semester_label(row.semester or ""))
        if alias in admin_fields(row.metric):
            return admin_reason(alias)
        return None

    def target(self, text: str) -> tuple[str | None, str]:
        """The data file a new row goes to, relative to the root; or None and why not."""
        rel = normal_path(text)
        if rel is None:
            return (
                None,
                f"{text!r} is not a path inside the metrics root: write it relative to the root, e.g. teams/sales.yaml",
            )
        if not rel.endswith((".yaml", ".yml")) or rel in NOT_DATA:
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

    def _column_of(self, row: SheetRow, alias: str) -> int:
        """The column of a field in the row's sheet (0: none), for a blank cell the row has no cell for."""
        for table in self.tables:
            if table.name == row.sheet:
                for c in table.header:
                    if isinstance(c.value, str) and c.value.strip().casefold() == alias.casefold():
                        return c.col
        return 0


def styled(read: Read, old: str | None, fdef: FieldDef, *, percentage_format: str) -> str:
    """The text to write: as read; a percentage the workbook held as a number in the file's own style
    (`40%` or `40`, after the value it replaces, else after target.percentage_format)."""
    if not field_type(fdef.type).percent or not read.composed:
        return read.text
    bare = read.text.removesuffix("%")
    with_sign = old.endswith("%") if old is not None else percentage_format == "40%"
    return bare + "%" if with_sign else bare


def normal_path(text: str) -> str | None:
    """A path relative to the root, POSIX, normalised; None when it leaves the root or is absolute."""
    text = text.strip().replace("\\", "/")
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    rel = posixpath.normpath(text)
    if rel == "." or rel.startswith("../") or rel == "..":
        return None
    return rel


def same_value(a: str, b: str, ftype: str) -> bool:
    """Whether two canonical values are one value: numbers and percentages by their decimal."""
    if field_type(ftype).numeric:
        return Decimal(a) == Decimal(b)
    return a == b
