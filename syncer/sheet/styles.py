"""The cells of an exported workbook styled as syncer.sheet.look decides, through openpyxl (imported only
when a workbook is written): a semester's table streamed into a write-only sheet, and the print setup of a
sheet.

A write-only sheet writes each row as it is appended, so everything before the rows (column widths and
styles, the frozen header) is set first, and the widths come from a first pass over the values. Each
combination of styles is made once, on a template cell, and its style array given to every cell that has
it: assigning a font or a fill to a cell makes openpyxl look the style up by hashing it, which was most of
an export's time at a million values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncer.errors import SyncerError
from syncer.sheet.look import CJK_FONT, FONT, FONT_SIZE, column_width, has_wide, number_cell, row_height, shown
from syncer.sheet.model import column_letter
from syncer.sheet.table import OutTable


def illegal(text: str) -> bool:
    """Whether a workbook cannot hold `text` (control characters other than tab and line breaks)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.search(text) is not None


def fill_table(
    ws: Any,
    table: OutTable,
    headers: list[str],
    *,
    notes: dict[int, str],
    locked: Callable[[int], frozenset[int]],
    grey: str,
    ignored: str,
) -> None:
    """The header (`headers`: the columns' names as the reader reads them; `notes`: a note on the header cell
    of these columns, 1-based) and the cells, in the workbook's font, wrapped and aligned to the top; a value
    of a number column that reads back exactly as a number cell, every other a text cell (a percentage with
    its `%`: syncer.sheet.look); columns as wide as their widest line (East Asian wide characters count two),
    rows as tall as their longest note. The cells
    of `locked(i)` (0-based columns of the i-th row) are greyed and stay locked, every other is unlocked;
    the columns are unlocked unless the table is closed, and carry the same styles, for the rows typed
    below; Excel's "number stored as text" mark is turned off over `ignored` (a range). Call once the
    sheet's view (the frozen header) and properties are set: they are written before the rows."""
    from openpyxl.cell.cell import Cell
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    plain, cjk = Font(name=FONT, size=FONT_SIZE, family=2), Font(name=CJK_FONT, size=FONT_SIZE, family=2)
    wrap = Alignment(wrap_text=True, vertical="top")
    right = Alignment(wrap_text=True, vertical="top", horizontal="right")  # numbers and percentages
    aligns = [right if kind in ("number", "percentage") else wrap for kind in table.kinds]
    fill, unlocked = PatternFill("solid", fgColor=grey), Protection(locked=False)
    styles: dict[tuple[int, bool, bool, bool], Any] = {}

    def style(col: int, wide: bool, number: bool, is_grey: bool) -> Any:
        key = (col, wide, number, is_grey)
        found = styles.get(key)
        if found is None:
            template = Cell(ws, row=1, column=1)
            template.font = cjk if wide else plain
            template.alignment = aligns[col]
            template.number_format = "General" if number else "@"
            if is_grey:
                template.fill = fill
            else:
                template.protection = unlocked
            found = styles[key] = template._style
        return found

    widths = _widths(table, headers)
    for col, width in enumerate(widths, start=1):
        dim = ws.column_dimensions[column_letter(col)]
        dim.width = width
        dim.number_format = "@"  # new rows typed in stay text
        dim.alignment = aligns[col - 1]
        dim.font = plain
        if not table.closed:
            dim.protection = unlocked
    start_rows(ws, dimension=f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}", ignored=ignored)
    header = []
    for col, name in enumerate(headers, start=1):
        cell = Cell(ws, row=1, column=col, value=name)
        cell.data_type = "s"
        cell.number_format = "@"
        cell.font = Font(name=CJK_FONT if has_wide(name) else FONT, size=FONT_SIZE, family=2, bold=True)
        cell.alignment = wrap
        if col in notes:
            cell.comment = Comment(notes[col], "syncer", width=320, height=120)
        header.append(cell)
    ws.append(header)
    ids: dict[tuple[int, bool, bool, bool], str] = {}

    def style_id(col: int, wide: bool, number: bool, is_grey: bool) -> str:
        key = (col, wide, number, is_grey)
        found = ids.get(key)
        if found is None:
            found = ids[key] = f' s="{ws.parent._cell_styles.add(style(*key))}"'
        return found

    letters = [column_letter(col) for col in range(1, len(table.columns) + 1)]
    for i, row in enumerate(table.rows):
        r = i + 2
        height = row_height([(t, widths[c]) for c, t in enumerate(row) if t is not None])
        if height is not None:
            ws.row_dimensions[r].height = height
        grey_columns = locked(i)
        cells = []
        for col, text in enumerate(row):
            ref = f"{letters[col]}{r}"
            is_grey = col in grey_columns
            if text is None:
                cells.append(f'<c r="{ref}"{style_id(col, False, False, is_grey)} t="n" />')
                continue
            kind = table.kinds[col]
            number = number_cell(text, kind)
            if number is None:  # never a formula, a number or a date
                cells.append(text_cell(ref, style_id(col, has_wide(text), False, is_grey), shown(text, kind)))
            else:
                cells.append(number_cell_xml(ref, style_id(col, has_wide(text), True, is_grey), number))
        ws.append(RawRow(("".join(cells),)))


class RawRow(tuple[str]):
    """A row of a write-only sheet started by start_rows, given as the XML of its cells (text_cell,
    number_cell_xml): written as it is, which is what openpyxl would write for the same cells, without its
    cell objects and XML tree per cell (most of an export's time at a million values)."""


def text_cell(ref: str, style: str, text: str) -> str:
    """A text cell at `ref` (`style`: its ` s="N"` attribute, or empty), as openpyxl writes it."""
    if not text:
        return f'<c r="{ref}"{style} t="inlineStr" />'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def number_cell_xml(ref: str, style: str, number: float) -> str:
    """A number cell at `ref`, as openpyxl writes it."""
    return f'<c r="{ref}"{style} t="n"><v>{number:.16g}</v></c>'


def start_rows(ws: Any, *, dimension: str, ignored: str | None = None) -> None:
    """Start the write-only sheet's stream (what comes before its rows, the widths included) with a writer
    that takes rows appended as cells already placed (their row and column set, none None; openpyxl would
    try each as a value first, and format an exception for each) or as RawRow. It writes the sheet's
    `dimension` (the range its cells fill), which write-only mode leaves out: without it a reader in
    read-only mode (openpyxl's, the import's) parses the whole sheet once more to look for it. And, given
    `ignored`, the sheet's `ignoredErrors` over that range, which openpyxl has no setting for: IDs and texts
    that look like numbers are text on purpose. It goes where the schema orders it: after the page breaks,
    before the drawings (the notes' legacyDrawing) and table parts."""
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.xml.functions import Element, SubElement

    class Writer(WorksheetWriter):  # type: ignore[misc]
        def write_dimensions(self) -> None:
            self.xf.send(Element("dimension", ref=dimension))

        def write_breaks(self) -> None:
            super().write_breaks()
            if ignored is not None:
                mark = Element("ignoredErrors")
                SubElement(mark, "ignoredError", sqref=ignored, numberStoredAsText="1")
                self.xf.send(mark)

        def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
            if type(row) is not RawRow:
                super().write_row(xf, row, row_idx)
                return
            attrs = {"r": f"{row_idx}", **dict(self.ws.row_dimensions.get(row_idx, {}))}
            xf._file("<row" + "".join(f' {k}="{v}"' for k, v in attrs.items()) + ">" + row[0] + "</row>")

    ws._writer = Writer(ws)  # what WriteOnlyWorksheet._get_writer does on the first row, with this writer
    ws._writer.write_top()
    ws._values_to_row = lambda cells, _row: cells


def _widths(table: OutTable, headers: list[str]) -> list[int]:
    """Each column's width (syncer.sheet.look.column_width), the header's name with room for the filter's
    button; a value a workbook cannot hold is refused here, before anything is written."""
    widest = [[name + "   "] for name in headers]  # the filter's button covers the end
    for row, where in zip(table.rows, table.sources, strict=True):
        for col, text in enumerate(row):
            if text is None:
                continue
            if illegal(text):
                raise SyncerError(
                    f"{where}: a value of this row holds a control character that a workbook cannot hold; "
                    "export as csv (--format csv) or change the value"
                )
            widest[col].append(shown(text, table.kinds[col]))
    return [column_width(texts) for texts in widest]


def print_setup(ws: Any) -> None:
    """Landscape, as many pages tall as it takes and one page wide, the header row on every page, the
    gridlines printed."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
