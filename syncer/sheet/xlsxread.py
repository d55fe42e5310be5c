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
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree

from syncer.errors import SyncerError
from syncer.sheet.cells import format_kind
from syncer.sheet.model import KEYS_SHEET, LEGEND_SHEET, LISTS_SHEET, Book, Cell, Table
from syncer.sheet.xlsx import UNPACKED_RATIO, load_openpyxl


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


_CHUNK = 1 << 22  # bytes of a sheet's XML searched at a time
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell's <f> (not <formula1> of a check)
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


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
            scan = _scan(z, ws._worksheet_path)  # read-only mode's own name of the part
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


@dataclass(slots=True)
class _Scan:
    """What a sheet's XML says beyond its values."""

    formula: bool = False  # a cell holds an <f>
    odd: bool = False  # an error value (t="e"), or a whole number past 15 digits
    merged: dict[tuple[int, int], str] = field(default_factory=dict)  # merged ranges, on each cell they cover
    styled: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> the format of `styles`
    unplaced: bool = False  # a cell of `styles` without its r="A1" (its place is its order: openpyxl's to say)
    text: bool = False  # text the readers give otherwise (_TEXT)


def _scan(z: zipfile.ZipFile, part: str, styles: dict[bytes, str] | None = None) -> _Scan:
    """What a sheet's XML holds beyond values: formulas, error cells, merged ranges named on each
    cell they cover, and the cells whose style (s="N") is one of `styles` (style index -> its number
    format), read in chunks (a sheet of a million values is hundreds of megabytes of XML)."""
    found = _Scan()
    styled = None if not styles else _styled_cells(styles)
    refs: list[str] = []
    tags: list[bytes] = []
    tail = text_tail = b""
    with z.open(part.lstrip("/")) as fh:
        while chunk := fh.read(_CHUNK):
            text = tail + chunk
            found.formula = found.formula or _FORMULA.search(text) is not None
            found.odd = found.odd or _ODD_CELL.search(text) is not None
            texts = text_tail + chunk
            found.text = found.text or _TEXT.search(texts) is not None
            text_tail = _text_tail(texts)
            cut = max(len(tail), len(text) - 256)  # a tag cut at the chunk's end is whole in the next
            refs += [m.group(1).decode() for m in _MERGED.finditer(text) if m.start() < cut]
            if styled is not None:
                tags += [m.group(0) for m in styled.finditer(text) if m.start() < cut]
            tail = text[cut:]
    refs += [m.group(1).decode() for m in _MERGED.finditer(tail)]
    if styled is not None:
        tags += [m.group(0) for m in styled.finditer(tail)]
    for ref in refs:
        lo, _, hi = ref.partition(":")
        (r1, c1), (r2, c2) = _coordinate(lo), _coordinate(hi or lo)
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                found.merged[(row, col)] = ref
    for tag in tags:
        place, style = _CELL_REF.search(tag), _CELL_STYLE.search(tag)
        if place is None or style is None:
            found.unplaced = True
            continue
        found.styled[_coordinate(place.group(1).decode())] = (styles or {})[style.group(1)]
    return found


#: An error cell (calamine: no value), a whole number past 15 digits (openpyxl reads it exactly, calamine as a
#: float), a value with white space in it (` 5`: openpyxl a number, calamine text). An ISO date (t="d"):
#: _values_table. An attribute's value may be in single quotes, with spaces around its `=` (XML allows both).
_ODD_CELL = re.compile(rb"<(?:\w+:)?(?:c\s[^>]*?\bt\s*=\s*[\"']e[\"']|v>(?:[-+]?[0-9]{16}|\s|[^<]*\s<))")
_CELL_REF = re.compile(rb"\sr\s*=\s*[\"']([A-Z]+[0-9]+)[\"']")
_CELL_STYLE = re.compile(rb"\ss\s*=\s*[\"']([0-9]+)[\"']")


def _styled_cells(styles: dict[bytes, str]) -> re.Pattern[bytes]:
    """The start tag of a cell whose style is one of `styles`."""
    ids = b"|".join(re.escape(i) for i in sorted(styles))
    return re.compile(rb"<(?:\w+:)?c(?=\s)[^>]*?\ss\s*=\s*[\"'](?:" + ids + rb")[\"'][^>]*>")


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
#: Text the readers give otherwise: the _xHHHH_ escapes of OOXML (calamine decodes them, openpyxl does not)
#: and openpyxl's own dropping of "x005F_" from shared strings; white space around a text not marked
#: xml:space="preserve" (calamine drops it, openpyxl keeps it), as is, as a character reference (`&#32;`) or
#: in a CDATA section; an empty text, <is> or <si>, or one without a <t> (calamine: no cell; openpyxl: a
#: cell, which says its column is used).
_TEXT = re.compile(
    rb"_x[0-9A-Fa-f]{4}_|x005F_|<!\[CDATA\["
    rb"|<(?:\w+:)?(?:t(?:\s(?![^>]*\bxml:space\s*=\s*[\"']preserve[\"'])[^>]*)?>(?:\s|&#|[^<]*(?:\s|&#x?[0-9A-Fa-f]+;)<)"
    rb"|t(?:\s[^>]*)?(?:/>|></)|(?:is|si)(?:\s[^>]*)?/>"
    rb"|(?:is|si)(?:\s[^>]*)?>(?:(?!<(?:\w+:)?t[\s>/])[\s\S])*?</(?:\w+:)?(?:is|si)>)"
)


def _text_tail(text: bytes) -> bytes:
    """What of a chunk a _TEXT match may still need: from the start tag of its last element on (a text
    element cut at the chunk's end, whatever its length, is whole with the next chunk)."""
    i = text.rfind(b"<")
    if i > 0 and text[i + 1 : i + 2] == b"/":
        i = text.rfind(b"<", 0, i)
    return text[max(i, 0) :]


def _read_values(calamine: Any, data: bytes, display: str) -> Book | None:
    """The workbook read by python-calamine to the cells openpyxl gives, or None when it holds what
    calamine does not give or gives otherwise (a formula, an error cell, a whole number past 15 digits, a
    cell under a date format or without its place, text with an _xHHHH_ escape or spaces around it, a value
    calamine reads as a date or time) or cannot be read so: openpyxl reads it then, and says what is wrong with it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts, styles_part, strings_part = _parts(z)
            styles, dates = _styles(z, styles_part)
            if strings_part is not None and _text_otherwise(z, strings_part):
                return None
            wb = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            tables = []
            exported: dict[str, tuple[tuple[str, str], ...]] = {}
            for meta in wb.sheets_metadata:
                if meta.typ != calamine.SheetTypeEnum.WorkSheet or meta.name in (LISTS_SHEET, LEGEND_SHEET):
                    continue
                grid = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
                if meta.name == KEYS_SHEET:
                    exported = _keys([_whole(v) for v in row[:4]] for row in grid)
                    continue
                scan = _scan(z, parts[meta.name], styles)
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


def _values_table(name: str, grid: list[list[Any]], scan: _Scan) -> Table | None:
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


def _text_otherwise(z: zipfile.ZipFile, part: str) -> bool:
    """Whether the shared strings hold text the readers give otherwise (_TEXT)."""
    tail = b""
    with z.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            text = tail + chunk
            if _TEXT.search(text):
                return True
            tail = _text_tail(text)
    return False


_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _parts(z: zipfile.ZipFile) -> tuple[dict[str, str], str | None, str | None]:
    """The workbook's sheets by name -> their part, and its styles and shared strings parts (None: none),
    from xl/workbook.xml and its relationships (KeyError where they are not where Excel puts them)."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    targets: dict[str, tuple[str, str]] = {}
    for rel in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter(_RELS):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    parts = {}
    for sheet in book.iterfind("{*}sheets/{*}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
        parts[sheet.get("name", "")] = targets[rid][1]
    by_type = {kind: path for kind, path in targets.values()}
    return parts, by_type.get("styles"), by_type.get("sharedStrings")


def _styles(z: zipfile.ZipFile, part: str | None) -> tuple[dict[bytes, str], set[str]]:
    """The cell styles whose number format is neither General nor Text (style index -> the format code, as
    openpyxl names it), and those of them that openpyxl reads as dates or times."""
    if part is None:
        return {}, set()
    sheet = ElementTree.fromstring(z.read(part))
    custom = {f.get("numFmtId"): f.get("formatCode") or "General" for f in sheet.iterfind("{*}numFmts/{*}numFmt")}
    styles: dict[bytes, str] = {}
    for i, xf in enumerate(sheet.iterfind("{*}cellXfs/{*}xf")):
        fid = xf.get("numFmtId", "0")
        code = custom.get(fid)
        if code is None and fid not in ("0", "49"):  # General and @ need no table
            from openpyxl.styles.numbers import BUILTIN_FORMATS

            code = BUILTIN_FORMATS.get(int(fid), "General")
        if code is not None and format_kind(code) not in ("general", "text"):
            styles[str(i).encode()] = code
    if not styles:
        return styles, set()
    from openpyxl.styles.numbers import is_date_format

    return styles, {code for code in styles.values() if is_date_format(code)}
