"""Workbooks (.xlsx), through openpyxl: an optional extra (`pip install 'feishu-syncer[sheet]'`), imported
only here (and in syncer.sheet.styles and syncer.sheet.legend, which write parts of the workbook) and only
when a workbook is read or written.

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

Read: every cell with its number format; formulas by their saved result (the workbook is read twice:
once for the formulas, once for their results); merged ranges named on each cell they cover. The legend
and the lists are never read as data.
"""

from __future__ import annotations

import gettext
import io
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from syncer.errors import SyncerError
from syncer.sheet.legend import write_legend
from syncer.sheet.look import check_formula, ignore_text_numbers
from syncer.sheet.model import (
    FILE,
    KEYS_SHEET,
    LEGEND_SHEET,
    LISTS_SHEET,
    METRIC,
    REVIEWEE,
    SEMESTER,
    Book,
    Cell,
    Table,
    column_letter,
    header_of,
)
from syncer.sheet.protect import admin_note, closed_reason, key_note
from syncer.sheet.styles import fill_table, print_setup
from syncer.sheet.table import Lists, OutTable

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

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


def _openpyxl() -> Any:
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
    """The workbook's bytes; its headers of key columns, notes, cell checks and legend in the language of `t`
    (syncer.i18n.translations). Field aliases, sheet names and values are written as they are."""
    openpyxl = _openpyxl()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    list_refs = _lists_sheet(wb, lists)
    taken: set[str] = set()
    keys: list[tuple[str, int, str | None, str | None]] = []
    ranges: dict[str, str] = {}
    for table in tables:
        ws: Worksheet = wb.create_sheet(sheet_title(table.semester, table.semester_id, taken))
        _protect(ws, table, keys, t)
        fill_table(ws, table, [header_of(c, t) for c in table.columns])
        last = len(table.rows) + 1 + CHECKED_ROWS
        ranges[ws.title] = f"A1:{column_letter(len(table.columns))}{last}"
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}"
        print_setup(ws)
        _checks(ws, table, list_refs, last, t)
    _keys_sheet(wb, keys)
    if LISTS_SHEET in wb.sheetnames:  # after the semesters' sheets
        wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_SHEET))
    if not tables:
        wb.create_sheet("empty")
    write_legend(wb, GREY, t)
    out = io.BytesIO()
    wb.save(out)
    parts = {i: ranges[name] for i, name in enumerate(wb.sheetnames, start=1) if name in ranges}
    return ignore_text_numbers(out.getvalue(), parts)


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
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")


def _protect(
    ws: Any, table: OutTable, keys: list[tuple[str, int, str | None, str | None]], t: gettext.NullTranslations
) -> None:
    """The sheet protected without a password, its cells written: what may not change locked and greyed,
    the rest open (the columns too, for the rows typed below), a note on the header of what is locked; the
    keys of the rows go to `keys`. Called before the cells are filled, which keep these styles."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill, Protection
    from openpyxl.worksheet.protection import SheetProtection

    grey = PatternFill("solid", fgColor=GREY)
    unlocked = Protection(locked=False)
    # No password: a guard against slips, not a lock. Allowed: filtering, and sizing rows and columns.
    ws.protection = SheetProtection(sheet=True, autoFilter=False, formatColumns=False, formatRows=False)
    names = table.columns
    admin_cols = {alias for row in table.admin for alias in row}
    for col, name in enumerate(names, start=1):
        note = None
        if table.closed:
            note = closed_reason(table.semester, t) if col == 1 else None
        elif name in _KEYS:
            note = key_note(t)
        elif name in admin_cols:
            note = admin_note(name, t)
        if note is not None:
            ws.cell(row=1, column=col).comment = Comment(note, "syncer", width=320, height=120)
        if not table.closed:
            ws.column_dimensions[column_letter(col)].protection = unlocked
    rev, met = names.index(REVIEWEE), names.index(METRIC)
    for r, row in enumerate(table.rows, start=2):
        keys.append((ws.title, r, row[rev], row[met]))
        admin = table.admin[r - 2] if table.admin else frozenset()
        for col, name in enumerate(names, start=1):
            cell = ws.cell(row=r, column=col)
            if table.closed or name in _KEYS or name in admin:
                cell.fill = grey
            else:
                cell.protection = unlocked


def _keys_sheet(wb: Any, keys: list[tuple[str, int, str | None, str | None]]) -> None:
    """The key of every row written (sheet, row, reviewee, metric), on a very hidden sheet."""
    if not keys:
        return
    ws = wb.create_sheet(KEYS_SHEET)
    ws.sheet_state = "veryHidden"
    for sheet, row, reviewee, metric in keys:
        ws.append([sheet, row, reviewee, metric])


def _read_keys(ws: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """What _keys_sheet wrote, each sheet's keys in row order; a row that is not (text, whole number, text,
    text) is left out."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    for values in ws.iter_rows(max_col=4, values_only=True):
        sheet, row, reviewee, metric = (*values, None, None, None, None)[:4]
        if isinstance(sheet, str) and isinstance(row, int) and isinstance(reviewee, str) and isinstance(metric, str):
            found.setdefault(sheet, []).append((row, reviewee, metric))
    return {sheet: tuple((r, m) for _, r, m in sorted(rows)) for sheet, rows in found.items()}


def _lists_sheet(wb: Any, lists: Lists) -> dict[str, str | None]:
    """The drop-downs' sources: written inline when short and plain, else on a hidden sheet."""
    refs: dict[str, str | None] = {}
    hidden = None
    for col, (kind, items) in enumerate((("metric", lists.metrics), ("person", lists.people)), start=1):
        if not items:
            refs[kind] = None
            continue
        inline = ",".join(items)
        if len(inline) <= INLINE_LIST_LIMIT and not any(ch in item for item in items for ch in ',"'):
            refs[kind] = f'"{inline}"'
            continue
        if hidden is None:
            hidden = wb.create_sheet(LISTS_SHEET)
            hidden.sheet_state = "hidden"
        for row, item in enumerate(items, start=1):
            cell = hidden.cell(row=row, column=col)
            cell.value = item
            cell.data_type = "s"
        letter = column_letter(col)
        refs[kind] = f"'{LISTS_SHEET}'!${letter}$1:${letter}${len(items)}"
    return refs


def read_xlsx(data: bytes, display: str, *, max_bytes: int | None = None) -> Book:
    """Every sheet of a workbook (the hidden lists sheet of an export aside), each cell with its format;
    formulas carry their saved result. With `max_bytes` (max_file_bytes), a workbook whose members unpack
    to more than UNPACKED_RATIO times it is refused before any is read (a small zip can unpack to gigabytes)."""
    openpyxl = _openpyxl()
    if max_bytes is not None:
        _check_unpacked(data, display, max_bytes * UNPACKED_RATIO)
    try:
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise SyncerError(
            f"{display} is not a workbook openpyxl can read ({type(exc).__name__}: {exc}); save it as .xlsx"
        ) from None
    except Exception as exc:  # openpyxl's own exceptions (InvalidFileException and the like)
        if type(exc).__module__.startswith("openpyxl"):
            raise SyncerError(f"{display} is not a readable .xlsx workbook: {exc}") from None
        raise
    tables = []
    exported: dict[str, tuple[tuple[str, str], ...]] = {}
    for ws in values.worksheets:
        if ws.title == KEYS_SHEET:
            exported = _read_keys(ws)
        elif ws.title not in (LISTS_SHEET, LEGEND_SHEET):
            tables.append(_table(ws, formulas[ws.title]))
    return Book(display, "xlsx", tuple(tables), exported=exported)


def _check_unpacked(data: bytes, display: str, limit: int) -> None:
    """zipfile stops reading a member at its declared size (and fails its CRC past it): the sizes the
    directory declares bound what openpyxl can unpack."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SyncerError(
            f"{display} is not a workbook openpyxl can read ({type(exc).__name__}: {exc}); save it as .xlsx"
        ) from None
    if unpacked > limit:
        raise SyncerError(
            f"{display} unpacks to {unpacked:,} bytes, more than {UNPACKED_RATIO} times max_file_bytes of syncer.yaml "
            f"({limit:,}): split the sheet, or raise max_file_bytes"
        )


def _table(ws: Any, fws: Any) -> Table:
    merged: dict[tuple[int, int], str] = {}
    for rng in ws.merged_cells.ranges:
        name = str(rng.coord)
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                merged[(row, col)] = name
    rows: dict[int, list[Cell]] = {}
    for (row, col), cell in sorted(ws._cells.items()):  # the cells the file holds, never the empty rectangle
        fcell = fws._cells.get((row, col))
        is_formula = fcell is not None and fcell.data_type == "f"
        value = cell.value
        error = cell.data_type == "e"
        if value is None and not is_formula and (row, col) not in merged:
            continue
        rows.setdefault(row, []).append(
            Cell(
                row=row,
                col=col,
                value=value,
                number_format=cell.number_format or "General",
                formula=is_formula,
                error=error,
                merged=merged.get((row, col)),
            )
        )
    for (row, col), name in merged.items():  # covered cells the file does not list
        if row not in rows or all(c.col != col for c in rows[row]):
            rows.setdefault(row, []).append(Cell(row=row, col=col, value=None, merged=name))
    header = tuple(sorted(rows.pop(1, []), key=lambda c: c.col))
    body = tuple(tuple(sorted(rows[r], key=lambda c: c.col)) for r in sorted(rows))
    return Table(ws.title, header, body)
