"""What a sheet may not change (syncer.sheet.protect), through the CLI on a copy of the example: a closed
semester, the fields admins enter in Feishu, the key cells of exported rows. A workbook marks them (locked,
greyed, a note on the header); an edit of one, in a workbook or a csv file, is refused at its cell, exit 1,
and nothing is written. The import's summary counts rows changed, added, refused and left alone."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from syncer.sheet.model import KEYS_SHEET
from syncer.sheet.xlsx import GREY
from tests.sheet.helpers import cells_of, edit_workbook, export, run, snapshot

CLOSED = "2026-H1"


def test_the_workbook_locks_and_greys_what_may_not_change_and_says_why(root: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(export(root, tmp_path / "book.xlsx"))
    open_ws, closed_ws = wb["2026-H2"], wb[CLOSED]
    for ws in (open_ws, closed_ws):
        assert ws.protection.sheet and not ws.protection.password  # protected, with no password
    row = cells_of(open_ws, "bob", "revenue")
    for name in ("file", "reviewee", "metric"):
        assert row[name].protection.locked and row[name].fill.fgColor.rgb.endswith(GREY)
    assert not row["actual"].protection.locked and row["actual"].fill.fill_type is None
    calibration = cells_of(open_ws, "tang.rui", "csat")["calibration"]  # input_setting: admin
    assert calibration.protection.locked and calibration.fill.fgColor.rgb.endswith(GREY)
    header = {c.value: c for c in open_ws[1]}
    assert "type a new row below the last one" in header["reviewee"].comment.text
    assert "input_setting: admin" in header["calibration"].comment.text
    assert header["actual"].comment is None
    assert not open_ws.column_dimensions["B"].protection.locked  # rows typed below are open
    closed_actual = cells_of(closed_ws, "bob", "revenue")["actual"]
    assert closed_actual.protection.locked and closed_actual.fill.fgColor.rgb.endswith(GREY)
    assert "is closed" in closed_ws["A1"].comment.text
    assert wb[KEYS_SHEET].sheet_state == "veryHidden"


def _closed_actual(wb: Any) -> str:
    c = cells_of(wb[CLOSED], "bob", "revenue")["actual"]
    c.value = "1"
    return str(c.coordinate)


def _admin_value(wb: Any) -> str:
    c = cells_of(wb["2026-H2"], "tang.rui", "csat")["calibration"]
    c.value = "B+"
    return str(c.coordinate)


@pytest.mark.parametrize(
    ("edit", "sheet", "reason"),
    [
        (_closed_actual, CLOSED, "semester '2026-H1' is closed (closed: true in catalog.yaml)"),
        (_admin_value, "2026-H2", "field 'calibration' is entered by admins in Feishu"),
    ],
)
def test_an_edit_of_a_protected_value_in_a_workbook_is_refused_at_its_cell(
    root: Path, tmp_path: Path, edit: Any, sheet: str, reason: str
) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / "book.xlsx")
    coords: list[str] = []
    edit_workbook(book, lambda wb: coords.append(edit(wb)))
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert f"book.xlsx!{sheet}!{coords[0]}: error: {reason}" in r.output
    assert "[sheet-protected]" in r.output and "1 refused" in r.output and "nothing was written" in r.output
    assert "[admin-field]" not in r.output  # the refusal says it once
    assert snapshot(root) == before


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("semester", "reviewee", "metric", "field", "reason"),
    [
        (CLOSED, "bob", "revenue", "actual", "semester '2026-H1' is closed"),
        ("2026-H2", "tang.rui", "csat", "calibration", "field 'calibration' is entered by admins in Feishu"),
        ("2026-H2", "bob", "revenue", "file", "this row is written in teams/sales.yaml"),
    ],
)
def test_a_csv_file_gets_the_same_refusals(
    root: Path, tmp_path: Path, semester: str, reviewee: str, metric: str, field: str, reason: str
) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / "book.csv")
    rows = _csv_rows(book)
    header = rows[0]
    at = next(
        i for i, r in enumerate(rows) if r[0] == semester and r[header.index("reviewee")] == reviewee and r[3] == metric
    )
    rows[at][header.index(field)] = "teams/other.yaml" if field == "file" else "7"
    _write_csv(book, rows)
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert f"book.csv:{at + 1}:{header.index(field) + 1}: error: {reason}" in r.output
    assert "1 refused" in r.output
    assert snapshot(root) == before


@pytest.mark.parametrize(("name", "sort"), [("reviewee", False), ("metric", False), ("reviewee", True)])
def test_an_edited_key_of_an_exported_row_is_refused_not_read_as_a_new_row(
    root: Path, tmp_path: Path, name: str, sort: bool
) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / "book.xlsx")
    coords: list[str] = []
    exported: list[str] = []

    def change(wb: Any) -> None:
        ws = wb["2026-H2"]
        if sort:  # the row edited is next to rows moved, which are no edit
            first, last_row = list(ws[2]), list(ws[ws.max_row])
            for a, b in zip(first, last_row, strict=True):
                a.value, b.value = b.value, a.value
        cell = ws["B3"] if sort else cells_of(ws, "bob", "revenue")[name]
        coords.append(cell.coordinate)
        exported.append(cell.value)
        cell.value = "sam.lead" if name == "reviewee" else "on_time_delivery"

    edit_workbook(book, change)
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert (
        f"book.xlsx!2026-H2!{coords[0]}: error: the {name} of an exported row is protected "
        f"(it says which row of the data files the values belong to; exported as "
        f"{exported[0]!r})"
    ) in r.output
    assert r.output.count("[sheet-protected]") == 1 and "1 refused" in r.output  # the rows moved are no edit
    assert snapshot(root) == before


def test_rows_moved_inserted_or_typed_below_are_no_key_edit(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.xlsx")

    def change(wb: Any) -> None:
        ws = wb["2026-H2"]
        first, last_row = list(ws[2]), list(ws[ws.max_row])  # the first and last rows swapped (a sort)
        for a, b in zip(first, last_row, strict=True):
            a.value, b.value = b.value, a.value
        ws.insert_rows(3, 2)  # blank rows in the middle shift every row below
        last = ws.max_row + 1
        for col, value in enumerate(["teams/sales.yaml", "sam.lead", "nps", "10%"], start=1):
            ws.cell(row=last, column=col).value = value

    edit_workbook(book, change)
    r = run("sheet", "import", str(book), "--root", str(root), "--dry-run")
    assert r.exit_code == 0, r.output
    assert "1 new row" in r.output and "0 refused" in r.output


def test_the_summary_counts_rows_changed_added_and_left_alone(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.csv", "--path", "teams/sales.yaml")
    rows = _csv_rows(book)
    header = rows[0]
    held = len(rows) - 1
    rows[1][header.index("actual")] = "1"  # one row changed
    rows.append(["2026-H2", "teams/sales.yaml", "sam.lead", "nps", "10%"] + [""] * (len(header) - 5))  # one added
    del rows[2]  # one deleted from the sheet: left alone
    _write_csv(book, rows)
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert f"{held} rows read: 1 changed, 1 added, 0 refused; 1 row of the data files left alone" in r.output
    unchanged = run("sheet", "import", str(export(root, tmp_path / "again.csv")), "--root", str(root))
    assert (
        "0 changed, 0 added, 0 refused; 0 rows of the data files left alone (not in the sheet); nothing to change"
        in (unchanged.output)
    )


def test_a_new_row_in_a_closed_semester_is_refused(root: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    book = export(root, tmp_path / "book.csv")
    rows = _csv_rows(book)
    header = rows[0]
    rows.append([CLOSED, "archive/2026-H1-sales.yaml", "sam.lead", "nps", "10%"] + [""] * (len(header) - 5))
    _write_csv(book, rows)
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert f"book.csv:{len(rows)}:5: error: semester '2026-H1' is closed" in r.output and "1 refused" in r.output
    assert "1 error (listed above)" in r.output  # the refusal alone, not also "a new row with no values"
    assert snapshot(root) == before
