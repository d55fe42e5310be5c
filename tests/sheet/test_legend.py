"""The legend sheet: last in the workbook, protected, explaining the grey and white cells, protection, how
to add a reviewee and how to type numbers and percentages; an import never reads it as data."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from syncer.i18n import translations
from syncer.sheet.legend import legend_rows
from syncer.sheet.model import LEGEND_SHEET
from syncer.sheet.xlsx import GREY, sheet_title
from tests.sheet.helpers import export, run


def test_the_legend_sheet_explains_the_workbook(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[-1] == LEGEND_SHEET and wb.sheetnames[0] == "2026-H2"
    ws = wb[LEGEND_SHEET]
    assert ws.protection.sheet
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    said = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    assert list(said) == [what for what, _ in legend_rows(translations("en"))]
    assert "closed semester" in said["grey"] and "admins" in said["grey"] and "reviewee" in said["grey"]
    assert "new row below the last one" in said["add a reviewee"]
    assert "1,200" in said["numbers"] and "40%" in said["percentages"]
    assert ws["A2"].fill.fgColor.rgb.endswith(GREY)  # drawn as the cells it explains
    assert ws["B2"].alignment.wrap_text and ws.row_dimensions[2].height > 15


def test_an_import_skips_the_legend_and_no_semester_takes_its_name(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.xlsx")
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert sheet_title(LEGEND_SHEET, "7", set()) == "7"
