"""Export then import changes no byte; the issue's newcomer loop: export the example, change a percent
cell and a number the way Excel stores them, import, and the plan shows exactly those two updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.cli.test_plan import apply_all
from tests.sheet.helpers import (
    cells_of,
    edit_workbook,
    export,
    patch_sheet_xml,
    run,
    set_cell_xml,
    set_number,
    snapshot,
)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_changes_no_byte(root: Path, tmp_path: Path, suffix: str) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / f"book{suffix}")
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "nothing to change" in r.output
    assert snapshot(root) == before


def test_the_export_holds_numbers_as_numbers_where_exact_and_the_rest_as_text_cells(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[:2] == ["2026-H2", "2026-H1"]
    ws = wb["2026-H2"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]][:4] == ["file", "reviewee", "metric", "weight"]
    row = cells_of(ws, "dev.patel", "incidents")
    assert row["weight"].value == "30%" and row["weight"].data_type == "s"  # the YAML's 30, with its %
    assert cells_of(ws, "tang.rui", "csat")["actual"].value == 4.7
    assert cells_of(ws, "alice", "revenue")["weight"].value == "60%"
    unit = cells_of(ws, "alice", "revenue")["unit"]
    assert unit.value == "CNY" and unit.data_type == "s" and unit.number_format == "@"
    kinds = {str(dv.sqref)[0]: dv for dv in ws.data_validations.dataValidation}
    assert kinds["C"].type == "list"  # metric
    assert kinds["B"].type == "list" and kinds["B"].errorStyle == "warning"  # people: raw IDs allowed
    assert kinds["D"].type == "custom"  # weight: a number check
    assert wb["_syncer_lists"].sheet_state == "hidden"  # the people list is too long to write inline
    text = export(root, tmp_path / "book.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbfsemester,file,reviewee,metric,")


def test_a_newcomers_two_excel_edits_are_exactly_two_updates_in_the_plan(root: Path, tmp_path: Path) -> None:
    apply_all(root, root / ".syncer" / "state")
    assert "No changes" in run("plan", "--root", str(root)).output
    book = export(root, tmp_path / "book.xlsx")

    def change(wb: Any) -> None:
        ws = wb["2026-H2"]
        set_number(cells_of(ws, "dev.patel", "incidents")["weight"], 0.45, "0%")  # typed 45% in a number cell
        actual = cells_of(ws, "bob", "revenue")["actual"]
        set_number(actual, 1310000)
        change.coord = actual.coordinate  # type: ignore[attr-defined]

    edit_workbook(book, change)
    coord = change.coord  # type: ignore[attr-defined]
    patch_sheet_xml(book, lambda xml: set_cell_xml(xml, coord, "<v>1310000.0</v>"))
    assert openpyxl.load_workbook(book)["2026-H2"][coord].value == 1310000.0  # a float, as Excel may store it
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "2 values updated, 0 values added" in r.output
    plan = run("plan", "--root", str(root), "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert '~ incidents.weight: "30%" -> "45%"' in plan.output
    assert '~ revenue.actual: "1499000" -> "1310000"' in plan.output
    assert "Plan: 2 values changed (0 to create, 2 to update, 0 to forget)" in plan.output


def test_dry_run_prints_the_diff_and_writes_nothing_and_redacts(root: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / "book.xlsx")
    edit_workbook(book, lambda wb: set_number(cells_of(wb["2026-H2"], "bob", "nps")["actual"], 55))
    r = run("sheet", "import", str(book), "--root", str(root), "--dry-run")
    assert r.exit_code == 0, r.output
    assert "-      actual: 51\n+      actual: 55" in r.output and "Dry run: 1 value updated" in r.output
    redacted = run("sheet", "import", str(book), "--root", str(root), "--dry-run", "--redact-values")
    assert "55" not in redacted.output and "+      actual: (redacted)" in redacted.output
    assert snapshot(root) == before
