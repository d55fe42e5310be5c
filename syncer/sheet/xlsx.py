"""Workbooks (.xlsx), through openpyxl: an optional extra (`pip install 'feishu-syncer[sheet]'`), imported
only here (and in syncer.sheet.styles and syncer.sheet.legend, which write parts of the workbook, and
syncer.sheet.xlsxread, which reads one) and only when a workbook is read or written.

Written: a sheet per semester, each value a text cell (format `@`, so that the workbook never turns an ID
into a float), except a number that reads back as exactly its text (a number cell), and a percentage
shown with its `%`; a bold frozen header with a filter, drop-downs for metrics and people (their lists on
a hidden sheet when they are long) and checks that take what import takes on the value columns. How it
looks is decided in syncer.sheet.look and applied in syncer.sheet.styles: a named font and size, wrapped
text aligned to the top, widths by display width and rows tall enough for their notes, landscape and one
page wide with the header on every page and gridlines, Excel's "number stored as text" mark turned off.
Every sheet is protected without a password: what may not change (syncer.sheet.protect: a closed
semester's sheet whole, the key cells of the rows written, the fields admins enter) is locked and greyed,
with a note on its header; the rest, and the rows below for new ones, is open. The keys written are kept
on a very hidden sheet; a legend sheet (syncer.sheet.legend) explains the workbook.

Read by syncer.sheet.xlsxread.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from typing import Any

from syncer.errors import SyncerError
from syncer.sheet.legend import write_legend
from syncer.sheet.look import check_formula
from syncer.sheet.model import (
    FILE,
    KEYS_SHEET,
    LEGEND_SHEET,
    LISTS_SHEET,
    METRIC,
    REVIEWEE,
    SEMESTER,
    column_letter,
    header_of,
)
from syncer.sheet.protect import admin_note, closed_reason, key_note
from syncer.sheet.styles import RawRow, fill_table, number_cell_xml, print_setup, start_rows, text_cell
from syncer.sheet.table import Lists, OutTable

MISSING = (
    "reading and writing .xlsx workbooks needs openpyxl, an optional extra: "
    "pip install 'feishu-syncer[sheet]' (or use csv: --format csv, FILE.csv)"
)
UNPACKED_RATIO = 8  # a workbook may unpack to this many times max_file_bytes (its XML is verbose)
INLINE_LIST_LIMIT = 255  # characters Excel allows in a list written into the validation itself
CHECKED_ROWS = 1000  # rows past the data that keep the drop-downs and checks, for new rows
_BAD_TITLE = frozenset("[]:*?/\\")
#: What a cell's check says when it refuses a value, per column kind, in the reader's language.
ADVICE: dict[str, Callable[[gettext.NullTranslations], str]] = {
    "number": lambda t: t.gettext(
        "A number: digits with an optional minus sign and decimal point (e.g. 1200000 or -3.5); no 1,200 or 1 200."
    ),
    "percentage": lambda t: t.gettext(
        "A percentage: e.g. 40% or 40 (the same value), a decimal point, no spaces: no 40 % or 0,4."
    ),
    "person": lambda t: t.gettext("Not a people alias of catalog.yaml; a raw user ID is fine too."),
    "metric": lambda t: t.gettext("Not a metric alias of catalog.yaml."),
}
GREY = "D9D9D9"  # the fill of the cells that may not change
_KEYS = (SEMESTER, FILE, REVIEWEE, METRIC)


def load_openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise SyncerError(MISSING) from None
    return openpyxl


def sheet_title(alias: str, semester_id: str, taken: set[str]) -> str:
    """The semester's alias when a sheet may be named so (at most 31 characters, none of []:*?/\\, no
    leading or trailing apostrophe, unique ignoring case), else its ID."""
    ok = (
        0 < len(alias) <= 31
        and not (_BAD_TITLE & set(alias))
        and not alias.startswith("'")
        and not alias.endswith("'")
        and alias.lower() not in taken
        and alias not in (LISTS_SHEET, KEYS_SHEET, LEGEND_SHEET)
        and alias.isprintable()
    )
    title = alias if ok else semester_id
    taken.add(title.lower())
    return title


def render_xlsx(tables: list[OutTable], lists: Lists, *, t: gettext.NullTranslations) -> bytes:
    """The workbook's bytes, written in openpyxl's write-only mode: each sheet streamed row by row, nothing
    of it held as cells (syncer.sheet.styles); its headers of key columns, notes, cell checks and legend in
    the language of `t` (syncer.i18n.translations). Field aliases, sheet names and values are written as
    they are."""
    openpyxl = load_openpyxl()
    wb = openpyxl.Workbook(write_only=True)
    list_refs = _list_refs(lists)
    taken: set[str] = set()
    keys: list[tuple[str, int, str | None, str | None]] = []
    for table in tables:
        ws = wb.create_sheet(sheet_title(table.semester, table.semester_id, taken))
        last = len(table.rows) + 1 + CHECKED_ROWS
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}"
        print_setup(ws)
        _checks(ws, table, list_refs, last, t)
        notes = _protect(ws, table, t)
        ignored = f"A1:{column_letter(len(table.columns))}{last}"
        headers = [header_of(c, t) for c in table.columns]
        fill_table(ws, table, headers, notes=notes, locked=_locked(table), grey=GREY, ignored=ignored)
        rev, met = table.columns.index(REVIEWEE), table.columns.index(METRIC)
        keys += [(ws.title, r, row[rev], row[met]) for r, row in enumerate(table.rows, start=2)]
    _keys_sheet(wb, keys)
    _lists_sheet(wb, lists)  # after the semesters' sheets
    if not tables:
        wb.create_sheet("empty")
    write_legend(wb, GREY, t)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _checks(ws: Any, table: OutTable, list_refs: dict[str, str | None], last: int, t: gettext.NullTranslations) -> None:
    """Drop-downs of metrics and people; on number and percentage columns, the import's grammar
    (syncer.sheet.look.check_formula)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    for col, kind in enumerate(table.kinds, start=1):
        letter = column_letter(col)
        dv = None
        if kind in ("metric", "person"):
            ref = list_refs["metric" if kind == "metric" else "person"]
            if ref is None:
                continue
            dv = DataValidation(type="list", formula1=ref, allow_blank=True)
            if kind == "person":  # raw IDs are allowed too: a warning, not a refusal
                dv.errorStyle = "warning"
        elif kind in ("number", "percentage"):
            formula = check_formula(f"{letter}2", kind)
            if formula is None:
                continue
            dv = DataValidation(type="custom", formula1=formula, allow_blank=True)
        if dv is None:
            continue
        dv.error = ADVICE[kind](t)
        dv.showErrorMessage = True
        dv.errorTitle = header_of(table.columns[col - 1], t)
        dv.add(f"{letter}2:{letter}{last}")
        ws.data_validations.append(dv)


def _protect(ws: Any, table: OutTable, t: gettext.NullTranslations) -> dict[int, str]:
    """The sheet protected without a password; the notes for the header of what is locked (by column,
    1-based), in the language of `t`. Which cells are locked and greyed: _locked; the rest stays open (the
    columns too, for the rows typed below)."""
    from openpyxl.worksheet.protection import SheetProtection

    # No password: a guard against slips, not a lock. Allowed: filtering, and sizing rows and columns.
    ws.protection = SheetProtection(sheet=True, autoFilter=False, formatColumns=False, formatRows=False)
    admin_cols = {alias for row in table.admin for alias in row}
    notes: dict[int, str] = {}
    for col, name in enumerate(table.columns, start=1):
        if table.closed:
            if col == 1:
                notes[col] = closed_reason(table.semester, t)
        elif name in _KEYS:
            notes[col] = key_note(t)
        elif name in admin_cols:
            notes[col] = admin_note(name, t)
    return notes


def _locked(table: OutTable) -> Callable[[int], frozenset[int]]:
    """The columns (0-based) of the i-th row that may not change: every one of a closed semester, else the
    keys and the row's fields that admins enter."""
    names = table.columns
    if table.closed:
        every = frozenset(range(len(names)))
        return lambda i: every
    keys = frozenset(c for c, name in enumerate(names) if name in _KEYS)
    by_admin: dict[frozenset[str], frozenset[int]] = {frozenset(): keys}

    def locked(i: int) -> frozenset[int]:
        admin = table.admin[i] if table.admin else frozenset()
        found = by_admin.get(admin)
        if found is None:
            found = by_admin[admin] = keys | {c for c, name in enumerate(names) if name in admin}
        return found

    return locked


def _keys_sheet(wb: Any, keys: list[tuple[str, int, str | None, str | None]]) -> None:
    """The key of every row written (sheet, row, reviewee, metric), on a very hidden sheet."""
    if not keys:
        return
    ws = wb.create_sheet(KEYS_SHEET)
    ws.sheet_state = "veryHidden"
    start_rows(ws, dimension=f"A1:D{len(keys)}")
    for r, (sheet, row, reviewee, metric) in enumerate(keys, start=1):
        cells = [text_cell(f"A{r}", "", sheet), number_cell_xml(f"B{r}", "", row)]
        for letter, text in (("C", reviewee), ("D", metric)):
            if text is not None:
                cells.append(text_cell(f"{letter}{r}", "", text))
        ws.append(RawRow(("".join(cells),)))


def _text(ws: Any, text: str | None) -> Any:
    """A text cell of a write-only sheet: never a formula, whatever it starts with."""
    from openpyxl.cell.cell import Cell

    if text is None:
        return None
    cell = Cell(ws, row=1, column=1, value=text)  # placed by append
    cell.data_type = "s"
    return cell


def _inline(items: tuple[str, ...]) -> bool:
    """Whether a drop-down's choices can be written into the validation itself (short and plain)."""
    return len(",".join(items)) <= INLINE_LIST_LIMIT and not any(ch in item for item in items for ch in ',"')


def _list_refs(lists: Lists) -> dict[str, str | None]:
    """The drop-downs' sources: written inline when short and plain, else a range of the hidden lists sheet
    (written by _lists_sheet)."""
    refs: dict[str, str | None] = {}
    for col, (kind, items) in enumerate((("metric", lists.metrics), ("person", lists.people)), start=1):
        letter = column_letter(col)
        if not items:
            refs[kind] = None
        elif _inline(items):
            refs[kind] = f'"{",".join(items)}"'
        else:
            refs[kind] = f"'{LISTS_SHEET}'!${letter}$1:${letter}${len(items)}"
    return refs


def _lists_sheet(wb: Any, lists: Lists) -> None:
    """The hidden sheet of the choices too long to write inline: metrics in A, people in B."""
    columns = [items if items and not _inline(items) else () for items in (lists.metrics, lists.people)]
    if not any(columns):
        return
    ws = wb.create_sheet(LISTS_SHEET)
    ws.sheet_state = "hidden"
    metrics, people = columns
    for r in range(max(len(metrics), len(people))):
        ws.append([_text(ws, c[r]) if r < len(c) else None for c in (metrics, people)])
