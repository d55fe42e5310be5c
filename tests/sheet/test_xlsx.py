"""The workbook format: sheet names Excel accepts, and a clear message when the optional extra is missing."""

from __future__ import annotations

import sys
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
