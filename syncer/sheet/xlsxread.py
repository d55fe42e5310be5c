"""Workbooks (.xlsx) read, through openpyxl (an optional extra, loaded by syncer.sheet.xlsx.load_openpyxl
only when a workbook is read): every cell with its number format; formulas by their saved result; merged
ranges named on each cell they cover. The legend and the lists are never read as data; the keys sheet
gives the rows an export wrote. docs/workbook.md says what read-only mode gives and what it does not.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from syncer.errors import SyncerError
from syncer.sheet.model import KEYS_SHEET, LEGEND_SHEET, LISTS_SHEET, Book, Cell, Table
from syncer.sheet.xlsx import UNPACKED_RATIO, load_openpyxl


def read_xlsx(data: bytes, display: str, *, max_bytes: int | None = None) -> Book:
    """Every sheet of a workbook (the hidden lists sheet of an export aside), each cell with its format;
    formulas carry their saved result. With `max_bytes` (max_file_bytes), a workbook whose members unpack
    to more than UNPACKED_RATIO times it is refused before any is read (a small zip can unpack to gigabytes).

    Read in openpyxl's read-only mode, row by row, nothing of it held but the cells that have a value: the
    values with their saved results, and, only for a sheet whose XML holds a formula, a second pass that
    says which cells are formulas (read-only mode gives a formula or its result, not both). Merged ranges,
    which read-only mode does not give, are read from the sheet's XML."""
    openpyxl = load_openpyxl()
    if max_bytes is not None:
        _check_unpacked(data, display, max_bytes * UNPACKED_RATIO)
    try:
        return _read(openpyxl, data, display)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise SyncerError(
            f"{display} is not a workbook openpyxl can read ({type(exc).__name__}: {exc}); save it as .xlsx"
        ) from None
    except Exception as exc:  # openpyxl's own exceptions (InvalidFileException and the like)
        if type(exc).__module__.startswith("openpyxl"):
            raise SyncerError(f"{display} is not a readable .xlsx workbook: {exc}") from None
        raise


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell's <f> (not <formula1> of a check)
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def _read(openpyxl: Any, data: bytes, display: str) -> Book:
    values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    formulas = None
    tables = []
    exported: dict[str, tuple[tuple[str, str], ...]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for ws in values.worksheets:
            if ws.title == KEYS_SHEET:
                exported = _read_keys(ws)
                continue
            if ws.title in (LISTS_SHEET, LEGEND_SHEET):
                continue
            has_formula, merged = _scan(z, ws._worksheet_path)  # read-only mode's own name of the part
            formula_cells: set[tuple[int, int]] = set()
            if has_formula:
                if formulas is None:
                    formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
                for row in formulas[ws.title].iter_rows():
                    formula_cells.update((c.row, c.column) for c in row if c.data_type == "f")
            tables.append(_table(ws, formula_cells, merged))
    values.close()
    if formulas is not None:
        formulas.close()
    return Book(display, "xlsx", tuple(tables), exported=exported)


def _scan(z: zipfile.ZipFile, part: str) -> tuple[bool, dict[tuple[int, int], str]]:
    """Whether a sheet's XML holds a formula, and its merged ranges named on each cell they cover, read in
    chunks (a sheet of a million values is hundreds of megabytes of XML)."""
    has_formula = False
    refs: list[str] = []
    tail = b""
    with z.open(part.lstrip("/")) as fh:
        while chunk := fh.read(1 << 22):
            text = tail + chunk
            has_formula = has_formula or _FORMULA.search(text) is not None
            cut = max(len(tail), len(text) - 256)  # a tag cut at the chunk's end is whole in the next
            refs += [m.group(1).decode() for m in _MERGED.finditer(text) if m.start() < cut]
            tail = text[cut:]
    refs += [m.group(1).decode() for m in _MERGED.finditer(tail)]
    merged: dict[tuple[int, int], str] = {}
    for ref in refs:
        lo, _, hi = ref.partition(":")
        (r1, c1), (r2, c2) = _coordinate(lo), _coordinate(hi or lo)
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                merged[(row, col)] = ref
    return has_formula, merged


def _coordinate(ref: str) -> tuple[int, int]:
    from openpyxl.utils.cell import coordinate_to_tuple

    row, col = coordinate_to_tuple(ref)
    return row, col


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
    rows: dict[int, list[Cell]] = {}
    ws.reset_dimensions()  # the rows as the file holds them, whatever its dimension says
    for cells in ws.iter_rows():
        for cell in cells:
            row = getattr(cell, "row", None)  # None: a gap in the row, no cell in the file
            if row is None:
                continue
            col = cell.column
            value = cell.value
            is_formula = (row, col) in formula_cells
            if value is None and not is_formula and (row, col) not in merged:
                continue
            rows.setdefault(row, []).append(
                Cell(
                    row=row,
                    col=col,
                    value=value,
                    number_format=cell.number_format or "General",
                    formula=is_formula,
                    error=cell.data_type == "e",
                    merged=merged.get((row, col)),
                )
            )
    for (row, col), name in merged.items():  # covered cells the file does not list
        if row not in rows or all(c.col != col for c in rows[row]):
            rows.setdefault(row, []).append(Cell(row=row, col=col, value=None, merged=name))
    header = tuple(sorted(rows.pop(1, []), key=lambda c: c.col))
    body = tuple(tuple(sorted(rows[r], key=lambda c: c.col)) for r in sorted(rows))
    return Table(ws.title, header, body)


def _read_keys(ws: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """What _keys_sheet wrote, each sheet's keys in row order; a row that is not (text, whole number, text,
    text) is left out."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    ws.reset_dimensions()
    for values in ws.iter_rows(max_col=4, values_only=True):
        sheet, row, reviewee, metric = (*values, None, None, None, None)[:4]
        if isinstance(sheet, str) and isinstance(row, int) and isinstance(reviewee, str) and isinstance(metric, str):
            found.setdefault(sheet, []).append((row, reviewee, metric))
    return {sheet: tuple((r, m) for _, r, m in sorted(rows)) for sheet, rows in found.items()}
