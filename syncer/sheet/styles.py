"""The cells of an exported workbook styled as syncer.sheet.look decides, through openpyxl (imported only
when a workbook is written): a semester's table filled in, and the print setup of a sheet."""

from __future__ import annotations

from typing import Any

from syncer.errors import SyncerError
from syncer.sheet.look import CJK_FONT, FONT, FONT_SIZE, column_width, has_wide, number_cell, row_height, shown
from syncer.sheet.model import column_letter
from syncer.sheet.table import OutTable


def illegal(text: str) -> bool:
    """Whether a workbook cannot hold `text` (control characters other than tab and line breaks)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.search(text) is not None


def fill_table(ws: Any, table: OutTable, headers: list[str]) -> None:
    """The header (`headers`: the columns' names as the reader reads them) and the cells, in the workbook's font,
    wrapped and aligned to the top; a value of a number column that reads back exactly as a number cell, every
    other a text cell (a percentage with its `%`: syncer.sheet.look); columns as wide as their widest line (East
    Asian wide characters count two), rows as tall as their longest note. The columns carry the same styles, for
    the rows typed below."""
    from openpyxl.styles import Alignment, Font

    plain, cjk = Font(name=FONT, size=FONT_SIZE, family=2), Font(name=CJK_FONT, size=FONT_SIZE, family=2)
    wrap = Alignment(wrap_text=True, vertical="top")
    right = Alignment(wrap_text=True, vertical="top", horizontal="right")  # numbers and percentages
    aligns = [right if kind in ("number", "percentage") else wrap for kind in table.kinds]
    lines: list[list[str]] = [[name + "   "] for name in headers]  # the filter's button covers the end
    for col, name in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        cell.value = name
        cell.data_type = "s"
        cell.number_format = "@"
        cell.font = Font(name=CJK_FONT if has_wide(name) else FONT, size=FONT_SIZE, family=2, bold=True)
        cell.alignment = wrap
    for r, (row, where) in enumerate(zip(table.rows, table.sources, strict=True), start=2):
        for col, text in enumerate(row, start=1):
            cell = ws.cell(row=r, column=col)
            cell.number_format = "@"
            cell.alignment = aligns[col - 1]
            cell.font = plain
            if text is None:
                continue
            if illegal(text):
                raise SyncerError(
                    f"{where}: a value of this row holds a control character that a workbook cannot hold; "
                    "export as csv (--format csv) or change the value"
                )
            kind = table.kinds[col - 1]
            number = number_cell(text, kind)
            if number is None:
                cell.value = shown(text, kind)
                cell.data_type = "s"  # never a formula, a number or a date
            else:
                cell.value = number
                cell.number_format = "General"
            lines[col - 1].append(shown(text, kind))
            if has_wide(text):
                cell.font = cjk
    widths = [column_width(texts) for texts in lines]
    for col, width in enumerate(widths, start=1):
        dim = ws.column_dimensions[column_letter(col)]
        dim.width = width
        dim.number_format = "@"  # new rows typed in stay text
        dim.alignment = aligns[col - 1]
        dim.font = plain
    for r, row in enumerate(table.rows, start=2):
        height = row_height([(t, widths[c]) for c, t in enumerate(row) if t is not None])
        if height is not None:
            ws.row_dimensions[r].height = height


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
