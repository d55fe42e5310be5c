"""The workbook format: sheet names Excel accepts, and a clear message when the optional extra is missing."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from syncer.errors import SyncerError
from syncer.sheet.look import check_formula
from syncer.sheet.model import column_letter
from syncer.sheet.table import ColumnKind, Lists, OutTable
from syncer.sheet.xlsx import CHECKED_ROWS, UNPACKED_RATIO, read_xlsx, render_xlsx, sheet_title
from tests.example import copy_example
from tests.sheet.helpers import cells_of, export, patch_sheet_xml, run


def test_a_semester_alias_excel_cannot_name_a_sheet_after_gives_its_id() -> None:
    taken: set[str] = set()
    assert sheet_title("2026-H2", "1", taken) == "2026-H2"
    assert sheet_title("2026/H1", "7250000000000000001", taken) == "7250000000000000001"
    assert sheet_title("x" * 32, "3", taken) == "3"
    assert sheet_title("2026-h2", "4", taken) == "4"  # Excel compares names ignoring case


def test_without_openpyxl_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    table = OutTable("2026-H2", "1", ("file",), ("key",), (), ())
    for call in (lambda: render_xlsx([table], Lists((), ())), lambda: read_xlsx(b"", "x.xlsx")):
        with pytest.raises(SyncerError, match=r"pip install 'feishu-syncer\[sheet\]'"):
            call()


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook is a zip file: a small one can unpack to gigabytes (a zip bomb). Its members' sizes are
    checked against max_file_bytes (times UNPACKED_RATIO) before openpyxl reads any."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "max_file_bytes: 200000\n", encoding="utf-8")
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")
    assert run("sheet", "import", str(book), "--root", str(root)).exit_code == 0
    padding = " " * (200000 * UNPACKED_RATIO)
    patch_sheet_xml(book, lambda xml: xml.replace("</worksheet>", padding + "</worksheet>"))
    assert book.stat().st_size < 200000  # the file itself is under the limit
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert "unpacks to" in r.output and "max_file_bytes" in r.output and "Traceback" not in r.output


NOTE = "销售目标说明：第一季度按新客户计算，续约另计入\\nsecond line\\nthird line"


def _with_note(root: Path) -> None:
    """alice's nps gets a three-line note whose first line is Chinese."""
    path = root / "teams" / "sales.yaml"
    text = path.read_text(encoding="utf-8")
    assert "      actual: 42\n" in text
    path.write_text(
        text.replace("      actual: 42\n", f'      actual: 42\n      note: "{NOTE}"\n', 1), encoding="utf-8"
    )


def test_the_workbook_renders_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Named font and size, wrapped notes aligned to the top in rows tall enough for every line, widths by
    display width, numbers as numbers and percentages with their % (both aligned right), landscape one page
    wide with the header on every page and gridlines, a frozen header, the number checks, and no "number
    stored as text" marks."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    _with_note(root)
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
    assert f'<ignoredError sqref="{every}" numberStoredAsText="1"/>' in xml
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
