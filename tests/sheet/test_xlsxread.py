"""Workbooks read (syncer.sheet.xlsxread): the limit on what a workbook unpacks to, and what read-only
mode would get wrong."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from syncer.sheet.xlsx import UNPACKED_RATIO
from syncer.sheet.xlsxread import read_xlsx
from tests.example import copy_example
from tests.sheet.helpers import export, patch_sheet_xml, run


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
