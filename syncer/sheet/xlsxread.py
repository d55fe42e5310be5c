"""Workbooks (.xlsx) read: every cell with its number format; formulas by their saved result; merged
ranges named on each cell they cover. The legend and the lists are never read as data; the keys sheet
gives the rows an export wrote.

Two readers, one result. python-calamine (in the sheet extra) reads the values in compiled code, many times
faster than openpyxl; it gives no number formats, formulas or error cells, so it reads a workbook only when
the sheets' XML shows that it gives what openpyxl would: no formula, no error cell, no cell under a date
format, no _xHHHH_ escape, no empty text or spaces around one not marked to keep them, and the few cells under a
format other than General or Text located from the XML (_read_values). Any other workbook, any failure of
that reading, or no python-calamine: openpyxl (an optional extra, loaded by syncer.sheet.xlsx.load_openpyxl
only then). docs/workbook.md says what each gives.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from syncer.errors import SyncerError
from syncer.sheet.model import KEYS_SHEET, LEGEND_SHEET, LISTS_SHEET, Book, Cell, Table
from syncer.sheet.xlsx import UNPACKED_RATIO, load_openpyxl
from syncer.sheet.xlsxscan import Scan, foreign, number_styles, scan_sheet, text_otherwise, workbook_parts


def read_xlsx(data: bytes, display: str, *, max_bytes: int | None = None) -> Book:
    """Every sheet of a workbook (the hidden lists sheet of an export aside), each cell with its format;
    formulas carry their saved result. With `max_bytes` (max_file_bytes), a workbook whose members unpack
    to more than UNPACKED_RATIO times it is refused before any is read (a small zip can unpack to gigabytes).

    Read in openpyxl's read-only mode, row by row, nothing of it held but the cells that have a value: the
    values with their saved results, and, only for a sheet whose XML holds a formula, a second pass that
    says which cells are formulas (read-only mode gives a formula or its result, not both). Merged ranges,
    which read-only mode does not give, are read from the sheet's XML. With python-calamine, a workbook
    that needs nothing but values (_read_values) is read by it instead, to the same cells."""
    if max_bytes is not None:
        _check_unpacked(data, display, max_bytes * UNPACKED_RATIO)
    calamine = load_calamine()
    if calamine is not None:
        book = _read_values(calamine, data, display)
        if book is not None:
            return book
    openpyxl = load_openpyxl()
    try:
        return _read(openpyxl, data, display)
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError, TypeError) as exc:
        raise SyncerError(
            f"{display} is not a workbook openpyxl can read ({type(exc).__name__}: {exc}); save it as .xlsx"
        ) from None
    except Exception as exc:  # openpyxl's own exceptions (InvalidFileException and the like)
        if type(exc).__module__.startswith("openpyxl"):
            raise SyncerError(f"{display} is not a readable .xlsx workbook: {exc}") from None
        raise


def _read(openpyxl: Any, data: bytes, display: str) -> Book:
    values = _load(openpyxl, data, display, data_only=True)
    formulas = None
    tables = []
    exported: dict[str, tuple[tuple[str, str], ...]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for ws in values.worksheets:
            if ws.title == KEYS_SHEET:
                grid: dict[int, list[object]] = {}
                for c in _cells(ws):
                    if c.column <= 4:
                        grid.setdefault(c.row, [None] * 4)[c.column - 1] = c.value
                exported = _keys(grid.values())
                continue
            if ws.title in (LISTS_SHEET, LEGEND_SHEET):
                continue
            scan = scan_sheet(z, ws._worksheet_path)  # read-only mode's own name of the part
            merged = scan.merged
            formula_cells: set[tuple[int, int]] = set()
            if scan.formula:
                if formulas is None:
                    formulas = _load(openpyxl, data, display, data_only=False)
                formula_cells.update((c.row, c.column) for c in _cells(formulas[ws.title]) if c.data_type == "f")
            tables.append(_table(ws, formula_cells, merged))
    values.close()
    if formulas is not None:
        formulas.close()
    return Book(display, "xlsx", tuple(tables), exported=exported)


def _load(openpyxl: Any, data: bytes, display: str, *, data_only: bool) -> Any:
    """The workbook opened by openpyxl in read-only mode. Whatever goes wrong inside openpyxl while it opens
    the file is the file's doing (a chart sheet without a chart gives an AttributeError from its reader),
    never a bug of syncer's: one line that names the file, not a traceback."""
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:
        raise SyncerError(
            f"{display} is not a workbook openpyxl can read ({type(exc).__name__}: {exc}); save it as .xlsx"
        ) from None


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


def _table(ws: Any, formula_cells: set[tuple[int, int]], merged: dict[tuple[int, int], str]) -> Table:
    rows: dict[int, dict[int, Cell]] = {}  # a cell the file holds twice: its last (as both readers give it)
    for cell in _cells(ws):
        row, col = cell.row, cell.column
        value = cell.value
        is_formula = (row, col) in formula_cells
        if value is None and not is_formula and (row, col) not in merged:
            continue
        rows.setdefault(row, {})[col] = Cell(
            row=row,
            col=col,
            value=value,
            number_format=cell.number_format or "General",
            formula=is_formula,
            error=cell.data_type == "e",
            merged=merged.get((row, col)),
        )
    for (row, col), name in merged.items():  # covered cells the file does not list
        if col not in rows.get(row, {}):
            rows.setdefault(row, {})[col] = Cell(row=row, col=col, value=None, merged=name)
    header = tuple(sorted(rows.pop(1, {}).values(), key=lambda c: c.col))
    body = tuple(tuple(sorted(rows[r].values(), key=lambda c: c.col)) for r in sorted(rows))
    return Table(ws.title, header, body)


def _cells(ws: Any) -> Iterator[Any]:
    """Every cell a sheet's XML holds (whatever its dimension says), as openpyxl's read-only mode makes them:
    from the mode's own parser, not iter_rows, which drops a row after a later one and a row's cells past
    its last one's column (cells out of order, which calamine reads: an edit read by one, lost by the other)."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = ws.parent
    with ws._get_source() as src:
        dates = {"date_formats": wb._date_formats, "timedelta_formats": wb._timedelta_formats}
        parser = WorkSheetParser(src, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch, **dates)
        for _, row in parser.parse():
            for cell in row:
                yield ReadOnlyCell(ws, **cell)


def _keys(rows: Iterable[Sequence[object]]) -> dict[str, tuple[tuple[str, str], ...]]:
    """What _keys_sheet wrote (the keys sheet's first four columns, row by row), each sheet's keys in row
    order; a row that is not (text, whole number, text, text) is left out."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    for values in rows:
        sheet, row, reviewee, metric = (*values, None, None, None, None)[:4]
        if isinstance(sheet, str) and isinstance(row, int) and isinstance(reviewee, str) and isinstance(metric, str):
            found.setdefault(sheet, []).append((row, reviewee, metric))
    return {sheet: tuple((r, m) for _, r, m in sorted(rows)) for sheet, rows in found.items()}


def load_calamine() -> Any:
    """python-calamine (the sheet extra), or None where it is not installed: openpyxl reads every workbook."""
    try:
        import python_calamine
    except ImportError:
        return None
    return python_calamine


_DATES = (datetime, date, time, timedelta)


def _read_values(calamine: Any, data: bytes, display: str) -> Book | None:
    """The workbook read by python-calamine to the cells openpyxl gives, or None when it holds what
    calamine does not give or gives otherwise (a formula, an error cell, a whole number past 15 digits, a
    cell under a date format or without its place, text with an _xHHHH_ escape or spaces around it, a value
    calamine reads as a date or time) or cannot be read so: openpyxl reads it then, and says what is wrong with it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts, styles_part, strings_part = workbook_parts(z)
            styles, dates = number_styles(z, styles_part)
            if strings_part is not None and text_otherwise(z, strings_part):
                return None
            wb = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            tables = []
            exported: dict[str, tuple[tuple[str, str], ...]] = {}
            for meta in wb.sheets_metadata:
                if meta.typ != calamine.SheetTypeEnum.WorkSheet or meta.name in (LISTS_SHEET, LEGEND_SHEET):
                    continue
                grid = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
                if foreign(z, parts[meta.name]):
                    return None
                if meta.name == KEYS_SHEET:
                    exported = _keys([_whole(v) for v in row[:4]] for row in grid)
                    continue
                scan = scan_sheet(z, parts[meta.name], styles)
                if scan.formula or scan.odd or scan.unplaced or scan.text or dates & set(scan.styled.values()):
                    return None
                table = _values_table(meta.name, grid, scan)
                if table is None:
                    return None
                tables.append(table)
            wb.close()
    except (calamine.CalamineError, zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError, ImportError):
        return None  # ElementTree's ParseError is a SyntaxError; ImportError: no openpyxl for a format's code
    return Book(display, "xlsx", tuple(tables), exported=exported)


def _whole(value: object) -> object:
    """A keys sheet's cell as openpyxl gives it: a whole number as an int (calamine gives floats), no value
    as None (calamine gives "")."""
    if value == "":
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _values_table(name: str, grid: list[list[Any]], scan: Scan) -> Table | None:
    """The cells of a sheet read by calamine (from A1, "" where no value), as _table makes them from
    openpyxl's; None when calamine gives a date or time (openpyxl's reading decides those)."""
    merged, styled = scan.merged, scan.styled
    rows: dict[int, list[Cell]] = {}
    for r, values in enumerate(grid, 1):
        cells = []
        for c, value in enumerate(values, 1):
            if value == "":
                continue
            if isinstance(value, _DATES):
                return None
            cells.append(Cell(r, c, value, styled.get((r, c), "General"), False, False, merged.get((r, c))))
        if cells:
            rows[r] = cells
    for (row, col), rng in merged.items():  # covered cells without a value
        if row not in rows or all(c.col != col for c in rows[row]):
            rows.setdefault(row, []).append(Cell(row=row, col=col, value=None, merged=rng))
            rows[row].sort(key=lambda c: c.col)
    header = tuple(rows.pop(1, []))
    return Table(name, header, tuple(tuple(rows[r]) for r in sorted(rows)))
