"""csv files: UTF-8 with a byte order mark (so that Excel shows Chinese names), comma-separated, every
cell text. Rows are numbered as a spreadsheet numbers them (the header is row 1), whatever line breaks
the cells hold."""

from __future__ import annotations

import csv
import io

from syncer.errors import LoadError, SyncerError
from syncer.fieldtypes import NUMBER
from syncer.load.yamlread import check_utf8
from syncer.sheet.model import Book, Cell, Table
from syncer.sheet.table import OutTable

BOM = "\ufeff"
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


def read_csv(data: bytes, display: str) -> Book:
    """A csv file as one table; refuses what is not UTF-8 (with advice for Excel's other csv formats)."""
    try:
        text = check_utf8(data, display).decode("utf-8")
    except LoadError as exc:
        raise SyncerError(
            f"{exc}; in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'", source=exc.source
        ) from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise SyncerError(f"{display}: not a readable csv file ({exc}); save it again as CSV UTF-8") from None
    rows: list[tuple[Cell, ...]] = []
    for number, record in enumerate(records, start=1):
        cells = tuple(Cell(row=number, col=c, value=v) for c, v in enumerate(record, start=1) if v != "")
        rows.append(cells)
    header = rows[0] if rows else ()
    if len(header) == 1 and isinstance(header[0].value, str) and (";" in header[0].value or "\t" in header[0].value):
        raise SyncerError(
            f"{display}:1:1: the header is one cell that holds ';' or tabs: the file is not comma-separated "
            "(Excel in some languages saves with ';'); save it as 'CSV UTF-8 (Comma delimited)'"
        )
    return Book(display, "csv", (Table(None, tuple(header), tuple(r for r in rows[1:] if r)),))
