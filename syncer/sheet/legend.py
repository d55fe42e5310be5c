"""The legend sheet of an exported workbook: what its colours and marks mean, what is protected and why,
how to type values and add a reviewee, and how the workbook goes back into the data files. Written by
syncer.sheet.xlsx (last, after the semesters' sheets); never read as data (syncer.sheet.model.LEGEND_SHEET)."""

from __future__ import annotations

import gettext
from typing import Any

from syncer.sheet.look import FONT, FONT_SIZE, LINE_POINTS, line_count
from syncer.sheet.model import LEGEND_SHEET
from syncer.sheet.styles import print_setup


def legend_rows(t: gettext.NullTranslations) -> tuple[tuple[str, str], ...]:
    """(what, what it means) in the reader's language; the first two rows' first cells are drawn as the cells
    they explain."""
    return (
        (
            t.pgettext("legend", "grey"),
            t.gettext(
                "May not change: the values of a closed semester (syncer never applies them), the fields admins "
                "enter in Feishu (Feishu refuses to overwrite them), and the file, reviewee and metric of every row "
                "exported (they say which row of the data files the values belong to). The note on a column's "
                "header (its red corner) says why. An edit of a grey cell is refused at import, at the cell."
            ),
        ),
        (
            t.pgettext("legend", "white"),
            t.gettext("Yours to change: the values, and the empty rows below the last row for new ones."),
        ),
        (
            t.pgettext("legend", "protection"),
            t.gettext(
                "Each sheet is protected without a password, against slips: filtering and sizing rows and columns "
                "work. Review > Unprotect Sheet lifts it; the import refuses an edit of a grey cell all the same."
            ),
        ),
        (
            t.pgettext("legend", "add a reviewee"),
            t.gettext(
                "Type a new row below the last one: file (the data file, relative to the metrics root, e.g. "
                "teams/platform.yaml; import creates it when it does not exist), reviewee and metric (from the "
                "drop-downs; a raw user ID is fine too), then its values. One row per reviewee and metric."
            ),
        ),
        (
            t.pgettext("legend", "delete a row"),
            t.gettext(
                "Deletes nothing: rows the sheet does not hold are left alone in the data files (the import counts "
                "them). Remove a value or a row from the YAML by hand."
            ),
        ),
        (
            t.pgettext("legend", "numbers"),
            t.gettext(
                "Digits, with an optional minus sign and decimal point: 1200000, -3.5. No thousands separators, "
                "spaces, or letters: 1,200, 1 200 and 12O0 are refused by the cell's check and by the import."
            ),
        ),
        (
            t.pgettext("legend", "percentages"),
            t.gettext("Shown with their %: type 40% (or 40, the same value). A weight of 0.4 is 0.4 %, not 40 %."),
        ),
        (
            t.pgettext("legend", "back into the files"),
            t.gettext(
                "syncer sheet import THIS.xlsx --root ROOT --dry-run shows the change of each data file; without "
                "--dry-run it writes them, then review syncer plan. An unedited workbook imports as nothing to "
                "change."
            ),
        ),
    )


WIDTHS = (22, 90)


def write_legend(wb: Any, grey: str, t: gettext.NullTranslations) -> None:
    """The legend sheet of a write-only workbook in the reader's language, protected without a password,
    printed as the semesters' sheets are, after every other sheet."""
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.protection import SheetProtection

    ws = wb.create_sheet(LEGEND_SHEET)
    font, bold = Font(name=FONT, size=FONT_SIZE, family=2), Font(name=FONT, size=FONT_SIZE, family=2, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = WIDTHS
    ws.protection = SheetProtection(sheet=True, formatColumns=False, formatRows=False)
    print_setup(ws)
    title = Cell(
        ws, row=1, column=1, value=t.gettext("How to read and edit this workbook (written by syncer sheet export)")
    )
    title.font = bold
    ws.append([title])
    for r, (what, meaning) in enumerate(legend_rows(t), start=2):
        a, b = Cell(ws, row=1, column=1, value=what), Cell(ws, row=1, column=1, value=meaning)
        a.font, b.font = bold, font
        a.alignment = b.alignment = wrap
        if r == 2:
            a.fill = PatternFill("solid", fgColor=grey)
        lines = line_count(meaning, WIDTHS[1])
        if lines > 1:
            ws.row_dimensions[r].height = lines * LINE_POINTS
        ws.append([a, b])
