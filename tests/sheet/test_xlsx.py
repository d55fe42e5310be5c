"""The workbook format: sheet names Excel accepts, and a clear message when the optional extra is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syncer.errors import SyncerError
from syncer.i18n import translations
from syncer.sheet.table import Lists, OutTable
from syncer.sheet.xlsx import render_xlsx, sheet_title
from syncer.sheet.xlsxread import read_xlsx
from tests.example import copy_example
from tests.sheet.helpers import export, run


def test_a_semester_alias_excel_cannot_name_a_sheet_after_gives_its_id() -> None:
    taken: set[str] = set()
    assert sheet_title("2026-H2", "1", taken) == "2026-H2"
    assert sheet_title("2026/H1", "7250000000000000001", taken) == "7250000000000000001"
    assert sheet_title("x" * 32, "3", taken) == "3"
    assert sheet_title("2026-h2", "4", taken) == "4"  # Excel compares names ignoring case


def test_without_openpyxl_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    table = OutTable("2026-H2", "1", ("file",), ("key",), (), ())
    for call in (lambda: render_xlsx([table], Lists((), ()), t=translations("en")), lambda: read_xlsx(b"", "x.xlsx")):
        with pytest.raises(SyncerError, match=r"pip install 'feishu-syncer\[sheet\]'"):
            call()


def test_keys_and_values_that_start_with_an_equals_sign_are_written_as_text() -> None:
    """An alias may start with `=` (any text without spaces): it is text on the sheet and on the keys sheet,
    never a formula, so the keys read back and the row is known as the one exported."""
    columns = ("file", "reviewee", "metric", "note")
    table = OutTable(
        "2026-H2", "1", columns, ("key", "person", "metric", "text"), (("t.yaml", "=bob", "=m", "=x"),), ("t.yaml:3:5",)
    )
    book = read_xlsx(render_xlsx([table], Lists(("=m",), ("=bob",)), t=translations("en")), "x.xlsx")
    assert book.exported == {"2026-H2": (("=bob", "=m"),)}
    assert [c.value for c in book.tables[0].rows[0]] == ["t.yaml", "=bob", "=m", "=x"]
    assert not any(c.formula for c in book.tables[0].rows[0])


def test_a_workbook_in_chinese_names_its_key_columns_notes_checks_and_legend_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`language: zh-CN`: the key columns' headers, the notes on protected headers, the cells' checks and the
    legend are Chinese; field aliases, sheet names and values are written as they are."""
    import openpyxl

    from syncer.sheet.legend import legend_rows
    from syncer.sheet.model import LEGEND_SHEET

    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    (root / "syncer.yaml").write_text((root / "syncer.yaml").read_text() + "language: zh-CN\n")
    wb = openpyxl.load_workbook(export(root, tmp_path / "book.xlsx"))
    ws = wb["2026-H2"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["文件", "被评估人", "指标", "weight"]
    assert ws["B1"].comment.text.startswith("导出的行中此列受保护")
    checks = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert checks["F2"].error.startswith("请输入数字") and checks["F2"].errorTitle == "target"
    assert checks["B2"].error.startswith("不是 catalog.yaml 中的人员别名") and checks["B2"].errorTitle == "被评估人"
    legend = wb[LEGEND_SHEET]
    assert legend["A1"].value == "如何阅读和编辑本工作簿（由 syncer sheet export 生成）"
    said = [legend.cell(row=r, column=1).value for r in range(2, legend.max_row + 1)]
    assert said == [what for what, _ in legend_rows(translations("zh_CN"))] and said[0] == "灰色"
    closed = wb["2026-H1"]
    assert closed["A1"].comment.text.startswith("周期 '2026-H1' 已关闭")


@pytest.mark.parametrize(("exported", "importing"), [("zh-CN", "en"), ("zh-CN", "zh-CN"), ("en", "zh-CN")])
def test_a_workbook_exported_in_either_language_imports_as_nothing_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exported: str, importing: str
) -> None:
    """The headers are the import's keys: it knows the key columns by their name in every language syncer
    writes, whatever the language of the root importing it."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    settings = root / "syncer.yaml"
    plain = settings.read_text()
    settings.write_text(plain + f"language: {exported}\n")
    book = export(root, tmp_path / "book.xlsx")
    settings.write_text(plain + f"language: {importing}\n")
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output


def test_a_field_named_as_a_key_column_in_another_language_is_refused_at_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field alias 被评估人 could not be told from the reviewee column of a Chinese workbook."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    catalog = root / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "      note:" in text
    catalog.write_text(
        text.replace("      note:", '      被评估人: {id: "99", type: text}\n      note:', 1), encoding="utf-8"
    )
    r = run("sheet", "export", "--root", str(root), "--out", str(tmp_path / "book.xlsx"))
    assert r.exit_code == 1 and "has a field named '被评估人'" in r.output, r.output
