"""csv files. Written: UTF-8 with a byte order mark (so that Excel shows Chinese names), comma-separated,
every cell text. Read as people's programs write them: UTF-8 with or without a BOM, UTF-16 with one, or
GB18030/GBK; separated by commas, semicolons or tabs; which of these, the header decides (read_csv). Rows
are numbered as a spreadsheet numbers them (the header is row 1), whatever line breaks the cells hold."""

from __future__ import annotations

import codecs
import csv
import io
from typing import NamedTuple

from syncer.errors import SyncerError
from syncer.fieldtypes import NUMBER
from syncer.model import Catalog, Source
from syncer.sheet.model import KEY_COLUMNS, Book, Cell, Table, key_headers
from syncer.sheet.table import OutTable

BOM = "\ufeff"
HEADER_SPAN = 1 << 16  # the characters sniffed for the header: the file's size does not matter
SEPARATORS = (",", ";", "\t")  # what Excel, WPS and LibreOffice write: the list separator of the locale, tabs
#: A text that starts with one of these is run as a formula by a spreadsheet that opens a csv file (a
#: minus sign too, unless a number follows).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(tables: list[OutTable]) -> str:
    """One csv text for every table (its semester in the first column), with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = tables[0].columns if tables else ()
    writer.writerow(columns)
    for table in tables:
        if table.columns != columns:  # pragma: no cover - every table of one export has the same columns
            raise AssertionError("tables of one csv file have different columns")
        for row, where in zip(table.rows, table.sources, strict=True):
            for v in row:
                if v is not None and v.startswith(FORMULA_START) and not NUMBER.match(v):
                    raise SyncerError(
                        f"{where}: a value of this row starts with {v[0]!r}, which a spreadsheet opening a csv file "
                        "runs as a formula; export a workbook instead (--format xlsx: text cells, never run)"
                    )
            writer.writerow(["" if v is None else v for v in row])
    return BOM + out.getvalue()


def sheet_columns(catalog: Catalog) -> frozenset[str]:
    """The names a sheet's header may hold, as a header is matched (case aside): the key columns (in every
    language an export writes them) and every field alias of the catalog."""
    fields = (a for m in catalog.metrics.values() for a in m.fields)
    return frozenset(n.casefold() for n in (*KEY_COLUMNS, *fields)) | key_headers().keys()


class Detected(NamedTuple):
    """How a csv file was read: its encoding and its separator."""

    encoding: str  # "UTF-8" | "UTF-16" | "GB18030"
    separator: str

    def note(self, display: str) -> str:
        return f"read {display} as {self.encoding}, separated by {_shown(self.separator)}"


def read_csv(data: bytes, display: str, *, columns: frozenset[str]) -> tuple[Book, Detected]:
    """A csv file as one table, its encoding and separator decided by its header, which must name some of
    `columns` (casefolded, see sheet_columns):

    - a byte order mark decides the encoding: UTF-8, or UTF-16 (Excel's "Unicode text"); UTF-32 is refused;
    - without one, the file is read as UTF-8 (strict) and as GB18030 (Chinese Excel and WPS write the
      system code page, GBK, which GB18030 contains), wherever its bytes are valid; the reading whose header
      names every column another reading names wins, UTF-8 first; when each names a column the other does
      not, the file is ambiguous and refused;
    - the separator is the one of `,` `;` tab that splits the header into the most known columns (only the
      header is split, so quoted multi-line text further down cannot mislead it); two that split it
      differently into as many are ambiguous, and a header that names no column under any is refused.

    Every refusal says how to save the file so that it reads as one thing."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise SyncerError(f"the file is UTF-32: {SAVE_UTF8}", source=Source(display, 1, 1))
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("UTF-8", "utf-8", data[len(codecs.BOM_UTF8) :])]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("UTF-16", "utf-16", data)]
    else:
        candidates = [("UTF-8", "utf-8", data), ("GB18030", "gb18030", data)]
    readings: list[_Reading] = []
    bad: list[tuple[str, Source]] = []  # where each encoding fails: the first one's is the one to show
    for name, codec, raw in candidates:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            bad.append((f"byte 0x{raw[exc.start]:02x}", _where(raw[: exc.start], codec, display)))
            continue
        readings.append(_sniff(name, text, columns))
    if not readings:
        names = [name for name, _, _ in candidates]
        what = f"neither {names[0]} nor {names[1]}" if len(names) > 1 else f"not {names[0]}"
        raise SyncerError(f"the file is {what} ({bad[0][0]}): {SAVE_UTF8}", source=bad[0][1])
    reading = _choose(readings, display)
    book = _table(reading, display)
    return book, Detected(reading.encoding, reading.separators[0])


SAVE_UTF8 = (
    "save it as CSV UTF-8 (in Excel: File > Save As > 'CSV UTF-8'; in LibreOffice: File > Save As > "
    "'Text CSV', 'Edit filter settings', character set 'Unicode (UTF-8)') or as a workbook (.xlsx)"
)
_NO_HEADER = (
    "the header (row 1) names no column syncer knows ({columns}) split at ',', ';' or tabs: name the columns "
    "as syncer sheet export does; if the names show garbled, the file was saved in another character set: "
    "open the original in LibreOffice and pick its character set in the Text Import dialog (in Excel: Data > "
    "From Text/CSV, File origin), then {save}"
)
_AMBIGUOUS_ENCODING = (
    "the header names other columns read as {one} ({a}) than read as {two} ({b}): the encoding is ambiguous; {save}"
)
_AMBIGUOUS_SEPARATOR = (
    "the header names as many columns split at {one} as at {two}: a column name holds the other separator; "
    "rename that column, or {save}"
)


class _Reading(NamedTuple):
    """The file's text in one encoding, and the separators that split its header into the most columns."""

    encoding: str
    text: str
    separators: tuple[str, ...]  # the best, each splitting the header differently ((",",) when none names any)
    named: frozenset[str]  # the columns the best split names (casefolded)


def _sniff(encoding: str, text: str, columns: frozenset[str]) -> _Reading:
    splits: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {}
    for sep in SEPARATORS:
        header = _first_record(text, sep)
        named = frozenset(c.strip().casefold() for c in header) & columns
        splits.setdefault(header, (sep, named))
    best = max(len(named) for _, named in splits.values())
    winners = [(sep, named) for sep, named in splits.values() if len(named) == best]
    return _Reading(encoding, text, tuple(sep for sep, _ in winners), winners[0][1])


def _first_record(text: str, sep: str) -> tuple[str, ...]:
    """The header split at `sep`, read from the text's first HEADER_SPAN characters (a longer header is cut,
    below csv's field size limit, and names what its start names)."""
    return tuple(next(csv.reader(io.StringIO(text[:HEADER_SPAN], newline=""), delimiter=sep), []))


def _choose(readings: list[_Reading], display: str) -> _Reading:
    """The first reading whose header names every column any other names; refused when none does, or when
    its best separators are more than one."""
    at = Source(display, 1, 1)
    named = [r for r in readings if r.named]
    if not named:
        shown = ", ".join(KEY_COLUMNS) + ", a field alias of catalog.yaml"
        raise SyncerError(_NO_HEADER.format(columns=shown, save=SAVE_UTF8), source=at)
    best = next((r for r in named if all(o.named <= r.named for o in named)), None)
    if best is None:
        one, two = named[0], named[1]
        a, b = (", ".join(sorted(x.named - y.named)) for x, y in ((one, two), (two, one)))
        raise SyncerError(
            _AMBIGUOUS_ENCODING.format(one=one.encoding, a=a, two=two.encoding, b=b, save=SAVE_UTF8), source=at
        )
    if len(best.separators) > 1:
        first, second = (_shown(s) for s in best.separators[:2])
        raise SyncerError(_AMBIGUOUS_SEPARATOR.format(one=first, two=second, save=SAVE_UTF8), source=at)
    return best


def _table(reading: _Reading, display: str) -> Book:
    """The reading's records as cells, numbered as a spreadsheet numbers its rows."""
    sep = reading.separators[0]
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(reading.text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        raise SyncerError(
            f"not a readable csv file read as {reading.encoding}, separated by {_shown(sep)} ({exc}): check the "
            f"quotes of this row, or {SAVE_UTF8}",
            source=Source(display, len(records) + 1, 1),
        ) from None
    rows: list[tuple[Cell, ...]] = []
    for number, record in enumerate(records, start=1):
        rows.append(tuple(Cell(row=number, col=c, value=v) for c, v in enumerate(record, start=1) if v != ""))
    header = rows[0] if rows else ()
    return Book(display, "csv", (Table(None, tuple(header), tuple(r for r in rows[1:] if r)),))


def _shown(sep: str) -> str:
    return "tabs" if sep == "\t" else repr(sep)


def _where(before: bytes, codec: str, display: str) -> Source:
    """The line and column of the byte after `before` (which decodes in `codec`)."""
    text = before.decode(codec, "replace")
    return Source(display, text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1)
