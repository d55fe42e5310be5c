"""The cells of an exported workbook as people see them: read back with openpyxl, each property asserted;
the workbook still imports as nothing to change."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.sheet.look import check_formula
from syncer.sheet.model import column_letter
from syncer.sheet.styles import illegal, number_cell_xml, text_cell
from syncer.sheet.table import ColumnKind
from syncer.sheet.xlsx import CHECKED_ROWS
from tests.example import copy_example
from tests.sheet.helpers import cells_of, export, run, with_note

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def test_the_workbook_renders_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Named font and size, wrapped notes aligned to the top in rows tall enough for every line, widths by
    display width, numbers as numbers and percentages with their % (both aligned right), landscape one page
    wide with the header on every page and gridlines, a frozen header, the number checks, and no "number
    stored as text" marks."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    with_note(root)
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")
    ws = openpyxl.load_workbook(book)["2026-H2"]
    header = {c.value: c for c in ws[1]}
    for c in header.values():
        assert (c.font.name, c.font.sz, c.font.b) == ("Calibri", 11, True)
    alice = cells_of(ws, "alice", "nps")
    note = alice["note"]
    assert note.value == "销售目标说明：第一季度按新客户计算，续约另计入\nsecond line\nthird line"
    assert (note.font.name, note.font.sz) == ("Microsoft YaHei", 11)
    assert (alice["target"].font.name, alice["target"].font.sz) == ("Calibri", 11)
    assert note.alignment.wrap_text and note.alignment.vertical == "top"
    assert alice["target"].alignment.wrap_text and alice["target"].alignment.vertical == "top"
    letter = note.column_letter
    assert ws.column_dimensions[letter].width == 23 * 2 + 2  # the Chinese line, each character two columns
    assert ws.row_dimensions[note.row].height == 3 * 18  # three lines of Microsoft YaHei 11
    assert ws.row_dimensions[cells_of(ws, "bob", "nps")["note"].row].height is None
    weight = alice["weight"]
    assert weight.value == "40%" and weight.data_type == "s" and weight.alignment.horizontal == "right"
    assert alice["target"].value == 45 and alice["target"].data_type == "n"
    assert alice["target"].alignment.horizontal == "right" and note.alignment.horizontal is None
    assert ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert ws.print_options.gridLines
    assert ws.freeze_panes == "A2"
    checks = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    kinds: tuple[tuple[str, ColumnKind], ...] = (("weight", "percentage"), ("target", "number"))
    for name, kind in kinds:
        col = header[name].column_letter
        dv = checks[f"{col}2"]
        assert dv.type == "custom" and dv.formula1 == check_formula(f"{col}2", kind) and dv.showErrorMessage
    with zipfile.ZipFile(book) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    every = f"A1:{column_letter(ws.max_column)}{ws.max_row + CHECKED_ROWS}"  # the rows typed below too
    tags = [el.tag.rpartition("}")[2] for el in ElementTree.fromstring(xml)]
    ignored = ElementTree.fromstring(xml).find(f"{{{MAIN}}}ignoredErrors/{{{MAIN}}}ignoredError")
    assert ignored is not None and ignored.attrib == {"sqref": every, "numberStoredAsText": "1"}
    assert tags.index("ignoredErrors") < tags.index("legacyDrawing")  # where the schema orders it: Excel checks
    dimension = ElementTree.fromstring(xml).find(f"{{{MAIN}}}dimension")  # else a read-only reader parses twice
    assert dimension is not None and dimension.attrib == {"ref": f"A1:{column_letter(ws.max_column)}{ws.max_row}"}
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output


def test_a_percentage_written_without_its_sign_imports_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weight the YAML writes as `59.5` is shown `59.5%` (a text cell, which no lost format can turn into
    0.595 %); read back, it is the same value, and the file keeps its style."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    path = root / "teams" / "sales.yaml"
    before = path.read_text(encoding="utf-8")
    path.write_text(
        before.replace("weight: 60%", "weight: 59.5", 1).replace("weight: 40%", "weight: 40.5", 1), encoding="utf-8"
    )
    edited = path.read_bytes()
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")
    ws = openpyxl.load_workbook(book)["2026-H2"]
    assert cells_of(ws, "alice", "revenue")["weight"].value == "59.5%"
    assert cells_of(ws, "bob", "revenue")["weight"].value == "60%"
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert path.read_bytes() == edited


def _openpyxl_writes(value: str | int | float, *, style: bool) -> str:
    """The XML openpyxl's own writer gives a cell of a write-only sheet holding `value` (text as text)."""
    import io

    from et_xmlfile import xmlfile  # type: ignore[import-untyped]
    from openpyxl.cell._writer import etree_write_cell
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font

    ws = openpyxl.Workbook(write_only=True).create_sheet("s")
    cell = Cell(ws, row=7, column=3, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if style:
        cell.font = Font(name="Calibri", size=11, family=2)
    out = io.BytesIO()
    with xmlfile(out) as xf, xf.element("row"):
        etree_write_cell(xf, ws, cell, cell.has_style)
    return out.getvalue().decode()


@given(st.text(st.characters(codec="utf-8"), max_size=12).filter(lambda t: not illegal(t)))
def test_a_text_cell_is_written_as_openpyxl_writes_it(text: str) -> None:
    """Escaped, whitespace kept where it matters, empty as an empty cell, a formula's `=` as text."""
    assert f"<row>{text_cell('C7', '', text)}</row>" == _openpyxl_writes(text, style=False)


@pytest.mark.parametrize("number", [0, 7, -3, 1200000, 99999999999, 0.5, -3.25, 12345.678])
def test_a_number_cell_is_written_as_openpyxl_writes_it(number: float) -> None:
    written = number_cell_xml("C7", ' s="1"', number)  # the first style after the default one
    assert f"<row>{written}</row>" == _openpyxl_writes(number, style=True)
