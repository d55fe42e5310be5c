"""A workbook's XML searched for what its values do not say, for syncer.sheet.xlsxread: merged ranges,
formulas, error cells, the cells under a number format, and what python-calamine would read otherwise than
openpyxl (docs/workbook.md). A sheet of a million values is hundreds of megabytes of XML: each part is
searched in chunks, with regular expressions over its bytes, never parsed as a tree (the styles and the
workbook's list of sheets aside, which are small)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

from syncer.sheet.cells import format_kind

CHUNK = 1 << 22  # bytes of a sheet's XML searched at a time
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell's <f> (not <formula1> of a check)
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


@dataclass(slots=True)
class Scan:
    """What a sheet's XML says beyond its values."""

    formula: bool = False  # a cell holds an <f>
    odd: bool = False  # an error value, a whole number past 15 digits, white space in a value (_ODD_CELL)
    merged: dict[tuple[int, int], str] = field(default_factory=dict)  # merged ranges, on each cell they cover
    styled: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> the format of `styles`
    unplaced: bool = False  # a cell of `styles` without its r="A1" (its place is its order: openpyxl's to say)
    text: bool = False  # text the readers give otherwise (_TEXT)


def scan_sheet(z: zipfile.ZipFile, part: str, styles: dict[bytes, str] | None = None) -> Scan:
    """What a sheet's XML holds beyond values: formulas, error cells, merged ranges named on each
    cell they cover, and the cells whose style (s="N") is one of `styles` (style index -> its number
    format), read in chunks (a sheet of a million values is hundreds of megabytes of XML)."""
    found = Scan()
    styled = None if not styles else _styled_cells(styles)
    refs: list[str] = []
    tags: list[bytes] = []
    tail = text_tail = b""
    with z.open(part.lstrip("/")) as fh:
        while chunk := fh.read(CHUNK):
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


#: XML not in UTF-8 (a part may be in UTF-16, which XML allows and openpyxl reads): calamine reads such a
#: sheet as empty (shared strings so written it refuses), and the searches here, of UTF-8 bytes, would find
#: nothing in it.
_FOREIGN = re.compile(
    rb"(?!(?:\xef\xbb\xbf)?\s*<[^\x00])|(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding\s*=\s*[\"'](?!utf-?8[\"'])", re.I
)


def foreign(z: zipfile.ZipFile, part: str) -> bool:
    """Whether a part's XML is in another encoding than UTF-8 (_FOREIGN), from its first bytes."""
    with z.open(part.lstrip("/")) as fh:
        return _FOREIGN.match(fh.read(256)) is not None


def text_otherwise(z: zipfile.ZipFile, part: str) -> bool:
    """Whether the shared strings hold text the readers give otherwise (_TEXT)."""
    tail = b""
    with z.open(part) as fh:
        while chunk := fh.read(CHUNK):
            text = tail + chunk
            if _TEXT.search(text):
                return True
            tail = _text_tail(text)
    return False


_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def workbook_parts(z: zipfile.ZipFile) -> tuple[dict[str, str], str | None, str | None]:
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


def number_styles(z: zipfile.ZipFile, part: str | None) -> tuple[dict[bytes, str], set[str]]:
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
