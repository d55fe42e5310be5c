"""`syncer sheet import`: a sheet read into edits of the data files, checked whole before anything is
written.

Each row is (semester, reviewee, metric): the semester comes from a `semester` column, else from the sheet's
name (a csv file without that column: from --semester). A row the data files hold is updated where it is
written (syncer.edit.values: comments and layout kept); a new row goes to the data file its `file` cell names
(else `--into`), after that file's rows. A cell whose value means what the YAML holds (`0.4` with a percent
format and `40%`, `1310000.0` and `1310000`, an alias and its raw ID) is no change: an export imported
unchanged changes no byte. A blank cell changes nothing when the YAML has no value there, and is an error
where it has one (the API cannot delete a value; remove it from the data file by hand). Rows the sheet does not hold
are left alone.

The rules are validate's (syncer.load.data checks the cells, located at their row and column), plus the
sheet's own: readable cells (syncer.sheet.cells), known columns, one row per key, weight sums with the
rows the sheet does not hold. Every problem is collected; with any error nothing is written.

The steps, one module each: read (the header, the rows and their keys), check (validate's rules at the
cells), edits (what changes where), weights (sums with the rows the sheet does not hold), render (the
files' new text, read back); write (syncer.sheet.write) puts them on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from syncer.errors import SyncerError
from syncer.load.validate import ValidationResult
from syncer.rules.load import RuleSet
from syncer.sheet.change import FileChange
from syncer.sheet.check import check_rows, judge_cells
from syncer.sheet.edits import decide_edits
from syncer.sheet.index import Resolver, RootIndex
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Book, SheetProblem
from syncer.sheet.protect import check_exported_keys
from syncer.sheet.read import SheetRow, read_book
from syncer.sheet.render import render_changes
from syncer.sheet.weights import check_weights
from syncer.text import plural


@dataclass(frozen=True, slots=True)
class ImportPlan:
    problems: tuple[SheetProblem, ...]
    changes: tuple[FileChange, ...]
    rows: int  # rows read (blank rows aside)
    changed: int  # rows the data files hold that the sheet changes
    added: int  # rows the sheet adds to the data files
    left_alone: int  # rows of the data files the sheet's rows come from that the sheet does not hold
    refused: int  # rows with an edit of a protected cell (syncer.sheet.protect)

    @property
    def errors(self) -> list[SheetProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def summary(self) -> str:
        """The rows counted: what the import does with each."""
        return (
            f"{plural(self.rows, 'row')} read: {self.changed} changed, {self.added} added, {self.refused} refused; "
            f"{plural(self.left_alone, 'row')} of the data files left alone (not in the sheet)"
        )


def plan_import(
    book: Book,
    *,
    root: Path,
    root_display: str,
    result: ValidationResult,
    index: RootIndex,
    into: str | None = None,
    rules: RuleSet | None = None,
    semester: str | None = None,
) -> ImportPlan:
    """The edits a sheet makes to a valid root, or the problems that stop it (nothing is written here).
    `semester` (--semester: an alias or ID of catalog.yaml semesters) names the semester of a csv file
    without a semester column; a workbook or an unknown semester is refused."""
    settings, catalog = result.settings, result.catalog
    assert result.desired is not None
    desired = result.desired
    resolve = Resolver(catalog, settings.target.user_id_type)
    given = None if semester is None else _given_semester(book, resolve, semester)
    log = ProblemLog(book.display)
    rows = read_book(book, catalog=catalog, resolve=resolve, log=log, semester=given)
    check_exported_keys(rows, book, log)
    values = check_rows(rows, settings=settings, catalog=catalog, index=index, log=log)
    edits = decide_edits(
        rows,
        values,
        tables=book.tables,
        index=index,
        desired=desired,
        settings=settings,
        resolve=resolve,
        root=root,
        into=into,
        log=log,
    )
    check_weights(rows, values, catalog=catalog, desired=desired, index=index, log=log)
    if rules:
        judge_cells(rows, values, rules=rules, desired=desired, index=index, root_display=root_display, log=log)
    changes: list[FileChange] = []
    if not log.has_errors:
        changes = render_changes(
            edits.files,
            book=book,
            root=root,
            root_display=root_display,
            index=index,
            settings=settings,
            catalog=catalog,
            resolve=resolve,
            log=log,
        )
    if log.has_errors:
        changes = []  # the root with the edits has an error
    return ImportPlan(
        tuple(log.problems),
        tuple(changes),
        len(rows),
        edits.changed_rows,
        edits.added_rows,
        left_alone(rows, index),
        len(log.refused),
    )


def _given_semester(book: Book, resolve: Resolver, text: str) -> str:
    """The semester ID --semester names: an alias or ID of catalog.yaml semesters, for a csv file."""
    if book.format != "csv":
        raise SyncerError(
            f"--semester {text!r}: a workbook's sheets are named after their semesters; --semester is for a csv "
            "file saved from one sheet"
        )
    sid = resolve.semesters.get(text) or (text if text in resolve.semester_ids else None)
    if sid is None:
        raise SyncerError(
            f"--semester {text!r} is not a semester of catalog.yaml: name one of {', '.join(resolve.semesters)} "
            "(or its ID)"
        )
    return sid


def left_alone(rows: list[SheetRow], index: RootIndex) -> int:
    """The rows of the data files that the sheet's rows come from which the sheet does not hold (deleted
    from the sheet, or never exported: import leaves them as they are)."""
    held = {k for r in rows if (k := r.key) is not None}
    files = {index.rows[k].file.rel for k in held if k in index.rows}
    return sum(1 for rel in files for r in index.files[rel].rows if r.key not in held)
