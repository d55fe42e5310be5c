"""The workbook format: sheet names Excel accepts, and a clear message when the optional extra is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syncer.errors import SyncerError
from syncer.sheet.table import Lists, OutTable
from syncer.sheet.xlsx import render_xlsx, sheet_title
from syncer.sheet.xlsxread import read_xlsx


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
