"""The workbook format: sheet names Excel accepts, and a clear message when the optional extra is missing."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import pytest

from syncer.errors import SyncerError
from syncer.sheet.table import Lists, OutTable
from syncer.sheet.xlsx import UNPACKED_RATIO, read_xlsx, render_xlsx, sheet_title
from tests.example import copy_example
from tests.sheet.helpers import export, patch_sheet_xml, run


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


def test_keys_and_values_that_start_with_an_equals_sign_are_written_as_text() -> None:
    """An alias may start with `=` (any text without spaces): it is text on the sheet and on the keys sheet,
    never a formula, so the keys read back and the row is known as the one exported."""
    columns = ("file", "reviewee", "metric", "note")
    table = OutTable(
        "2026-H2", "1", columns, ("key", "person", "metric", "text"), (("t.yaml", "=bob", "=m", "=x"),), ("t.yaml:3:5",)
    )
    book = read_xlsx(render_xlsx([table], Lists(("=m",), ("=bob",))), "x.xlsx")
    assert book.exported == {"2026-H2": (("=bob", "=m"),)}
    assert [c.value for c in book.tables[0].rows[0]] == ["t.yaml", "=bob", "=m", "=x"]
    assert not any(c.formula for c in book.tables[0].rows[0])


def test_a_workbook_whose_dimension_is_wrong_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only reading trusts a sheet's <dimension> unless told not to, and a program may write a wrong
    one: every row and cell the file holds is read all the same."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")
    before = read_xlsx(book.read_bytes(), "book.xlsx")
    wrong = '<dimension ref="A1:B2"/>'  # two columns of two rows; openpyxl's write-only mode writes none
    patch_sheet_xml(
        book,
        lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', "", xml).replace("<sheetViews", wrong + "<sheetViews", 1),
    )
    assert wrong in zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml").decode()
    assert read_xlsx(book.read_bytes(), "book.xlsx").tables == before.tables
