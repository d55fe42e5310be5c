"""A sheet as syncer reads and writes it: a table of cells with their row and column, whatever the file
format, and problems located at a cell (`FILE!Sheet!C12` in a workbook, `FILE:12:3` in a csv file)."""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from syncer.i18n import LANGUAGES, translations
from syncer.problems import Problem, Severity
from syncer.text import safe

#: The columns a sheet has before the fields: the semester (csv only: a workbook names it by its sheet),
#: the data file, the reviewee and the metric. Every other column is a field, named by its alias.
SEMESTER, FILE, REVIEWEE, METRIC = "semester", "file", "reviewee", "metric"
KEY_COLUMNS = (SEMESTER, FILE, REVIEWEE, METRIC)
#: A key column's header in the reader's language (syncer.i18n); English writes the names above.
KEY_HEADERS: dict[str, Callable[[gettext.NullTranslations], str]] = {
    SEMESTER: lambda t: t.pgettext("column", "semester"),
    FILE: lambda t: t.pgettext("column", "file"),
    REVIEWEE: lambda t: t.pgettext("column", "reviewee"),
    METRIC: lambda t: t.pgettext("column", "metric"),
}


def header_of(column: str, t: gettext.NullTranslations) -> str:
    """The header an export writes for a column: a key column's name in the reader's language, a field alias
    as it is."""
    return KEY_HEADERS[column](t) if column in KEY_HEADERS else column


@functools.cache
def key_headers() -> dict[str, str]:
    """Every header a key column has in any language syncer writes, casefolded -> the key column: an import
    reads a workbook exported in any of them."""
    return {KEY_HEADERS[k](translations(lang)).casefold(): k for lang in LANGUAGES for k in KEY_COLUMNS}


#: The hidden sheet that holds the drop-down lists of a workbook (never read as data).
LISTS_SHEET = "_syncer_lists"
#: The very hidden sheet of an exported workbook that holds the key of each row it wrote (sheet, row,
#: reviewee, metric), so that an import can refuse an edit of one (syncer.sheet.protect); never read as data.
KEYS_SHEET = "_syncer_keys"
#: The sheet of an exported workbook that explains it to the people editing it (syncer.sheet.legend); never
#: read as data.
LEGEND_SHEET = "_syncer_legend"

CellValue = str | int | float | bool | datetime | date | time | timedelta | None


class Cell(NamedTuple):
    """One cell as the file holds it: `value` is what a reader gives (a workbook's numbers, dates and
    booleans as such; csv cells are text), `number_format` the workbook's format code (csv: General). A
    NamedTuple: immutable like a frozen dataclass, made several times faster (a workbook of a million values
    is nearly two million cells)."""

    row: int  # 1-based
    col: int  # 1-based
    value: CellValue
    number_format: str = "General"
    formula: bool = False  # a formula: `value` is its cached result (None when the file holds none)
    error: bool = False  # an error value (#DIV/0!, #N/A, ...): `value` is its text
    merged: str | None = None  # the merged range (e.g. "B2:B4") the cell belongs to, when it is one


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet: the header is row 1; `rows` holds every later row that has a cell, in order."""

    name: str | None  # the sheet's name; None for csv
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True, slots=True)
class Book:
    """A file read: its name as messages give it, its format and its tables."""

    display: str
    format: str  # "xlsx" | "csv"
    tables: tuple[Table, ...]
    problems: tuple[SheetProblem, ...] = ()  # what made a sheet unreadable as a whole (merged cells, ...)
    #: The rows an export wrote, as the workbook records them: sheet -> (reviewee, metric) as written, in order.
    exported: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass(frozen=True, slots=True)
class SheetProblem:
    """A problem at a cell (row 0: the sheet or file as a whole). The message follows validate's rules for
    values (`{value}`, `{detail}`: see syncer.problems), so that --redact-values hides them the same way."""

    book: str
    sheet: str | None  # None: a csv file
    row: int
    col: int
    severity: Severity
    code: str
    message: str
    value: str | None = None
    detail: str = ""

    @property
    def location(self) -> str:
        if self.sheet is None:
            return f"{safe(self.book)}:{max(self.row, 1)}:{max(self.col, 1)}"
        cell = f"{column_letter(self.col)}{self.row}" if self.row and self.col else (str(self.row) if self.row else "")
        where = f"{safe(self.book)}!{safe(self.sheet)}"
        return f"{where}!{cell}" if cell else where

    def text(self, *, redact: bool) -> str:
        return Problem("", 0, 0, self.severity, self.code, self.message, self.value, self.detail).text(redact=redact)

    def render(self, *, redact: bool) -> str:
        return f"{self.location}: {self.severity}: {self.text(redact=redact)} [{self.code}]"


def sort_sheet_problems(problems: list[SheetProblem], order: dict[str | None, int]) -> list[SheetProblem]:
    """By sheet (in the book's order), row, column; errors before warnings; exact duplicates dropped."""
    return sorted(
        set(problems),
        key=lambda p: (order.get(p.sheet, len(order)), p.row, p.col, p.severity != "error", p.code, p.message),
    )
