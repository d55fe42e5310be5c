"""`syncer sheet import` of what spreadsheet programs do to a sheet: each habit read by its rule or
refused at its cell with what to type; all problems at once, and nothing written while one stands."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

from tests.example import copy_example
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


@pytest.fixture
def book(root: Path, tmp_path: Path) -> Path:
    return export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")


def refused(root: Path, book: Path, before: dict[str, bytes], *expected: str) -> str:
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 1, r.output
    assert "nothing was written" in r.output and "Traceback" not in r.output and "internal error" not in r.output
    for text in expected:
        assert text in r.output, r.output
    assert snapshot(root) == before
    return r.output


def imported(root: Path, book: Path, *expected: str) -> str:
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0, r.output
    for text in expected:
        assert text in r.output, r.output
    return r.output


def test_float_noise_is_an_error_at_its_cell(root: Path, book: Path) -> None:
    before = snapshot(root)
    where: list[str] = []

    def change(wb: Any) -> None:
        c = cells_of(wb["2026-H2"], "tang.rui", "csat")["actual"]
        set_number(c, 0.3)
        where.append(c.coordinate)

    edit_workbook(book, change)
    patch_sheet_xml(book, lambda xml: set_cell_xml(xml, where[0], "<v>0.30000000000000004</v>"))  # 0.1+0.2
    refused(root, book, before, f"book.xlsx!2026-H2!{where[0]}: error:", "0.30000000000000004", "e.g. 0.3")


def test_a_date_is_an_error_even_in_a_text_field(root: Path, book: Path) -> None:
    from datetime import datetime

    before = snapshot(root)

    def change(wb: Any) -> None:
        c = cells_of(wb["2026-H2"], "alice", "revenue")["note"]
        c.value = datetime(2026, 3, 4)
        c.number_format = "yyyy-mm-dd"

    edit_workbook(book, change)
    refused(root, book, before, "turned what was typed into a date", "[sheet-date]")


def test_trailing_spaces_on_aliases_and_numbers_change_nothing(root: Path, book: Path) -> None:
    before = snapshot(root)

    def change(wb: Any) -> None:
        row = cells_of(wb["2026-H2"], "alice", "nps")
        row["reviewee"].value = "alice  "
        row["actual"].value = "42 "
        row["metric"].value = " nps"

    edit_workbook(book, change)
    imported(root, book, "nothing to change")
    assert snapshot(root) == before


def test_lost_leading_zeros_name_the_alias_or_are_an_error_when_ambiguous(root: Path, tmp_path: Path) -> None:
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text() + '  "007": ou_00000000000000000000000000000007\n')
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")

    def add_row(wb: Any) -> None:
        ws = wb["2026-H2"]
        header = [c.value for c in ws[1]]
        r = ws.max_row + 1
        ws.cell(r, header.index("file") + 1, "teams/sales.yaml")
        set_number(ws.cell(r, header.index("reviewee") + 1), 7)  # Excel made 007 the number 7
        ws.cell(r, header.index("metric") + 1, "nps")
        set_number(ws.cell(r, header.index("target") + 1), 45)

    edit_workbook(book, add_row)
    imported(root, book, "1 value added (1 new row)")
    # quoted, as syncer fmt writes it (YAML 1.1 would read 007 as the number 7)
    assert '  "007":\n    nps:\n      target: 45\n' in (root / "teams" / "sales.yaml").read_text()

    copy = copy_example(tmp_path / "other")
    (copy / "catalog.yaml").write_text(
        catalog.read_text() + '  "0007": ou_00000000000000000000000000000070\n', encoding="utf-8"
    )
    before = snapshot(copy)
    refused(copy, book, before, "it could be any of '0007', '007'", "[sheet-zeros]")


def test_merged_key_cells_fill_down_and_other_merges_are_errors(root: Path, book: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    wb = openpyxl.load_workbook(book)
    ws = wb["2026-H2"]
    first = cells_of(ws, "alice", "revenue")["reviewee"]
    second = cells_of(ws, "alice", "nps")["reviewee"]
    second.value = None
    ws.merge_cells(f"{first.coordinate}:{second.coordinate}")
    wb.save(book)
    imported(root, book, "nothing to change")
    assert snapshot(root) == before

    target = cells_of(ws, "bob", "revenue")["target"]
    actual = cells_of(ws, "bob", "revenue")["actual"]
    ws.merge_cells(f"{target.coordinate}:{actual.coordinate}")
    wb.save(book)
    refused(root, book, before, f"!{target.coordinate}: error: merged cells {target.coordinate}:{actual.coordinate}")


def test_formulas_are_read_by_their_saved_result_and_refused_without_one(root: Path, book: Path) -> None:
    before = snapshot(root)
    where: list[str] = []

    def change(wb: Any) -> None:
        c = cells_of(wb["2026-H2"], "bob", "nps")["actual"]
        c.value = "=50+5"
        c.number_format = "General"
        where.append(c.coordinate)

    edit_workbook(book, change)
    refused(root, book, before, f"!{where[0]}: error: a formula with no saved result", "[sheet-formula]")
    coord = where[0]
    patch_sheet_xml(book, lambda xml: set_cell_xml(xml, coord, "<f>50+5</f><v>55</v>"))
    imported(root, book, "1 value updated")
    assert "actual: 55" in (root / "teams" / "sales.yaml").read_text()


def test_blank_rows_are_skipped(root: Path, book: Path) -> None:
    before = snapshot(root)

    def change(wb: Any) -> None:
        wb["2026-H2"].insert_rows(3, 2)
        wb["2026-H2"].append([None, "  "])

    edit_workbook(book, change)
    imported(root, book, "nothing to change")
    assert snapshot(root) == before


def test_headers_are_matched_by_name_whatever_their_order_and_case(root: Path, book: Path) -> None:
    before = snapshot(root)
    wb = openpyxl.load_workbook(book)
    ws = wb["2026-H2"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    order = list(reversed(range(len(rows[0]))))
    fresh = wb.create_sheet("2026-H2 copy")
    for row in rows:
        fresh.append([row[i] if i < len(row) else None for i in order])
    for c in fresh[1]:
        if c.value == "actual":
            c.value = "Actual "
    fresh.cell(1, len(order) + 1, "# my notes")
    fresh.cell(2, len(order) + 1, "call bob")
    del wb["2026-H2"]
    fresh.title = "2026-H2"
    wb.save(book)
    imported(root, book, "nothing to change")
    assert snapshot(root) == before

    for c in fresh[1]:
        if c.value == "Actual ":
            c.value = "actuals"
        elif c.value == "reviewee":
            c.value = "person"
    wb.save(book)
    refused(
        root,
        book,
        before,
        "unknown column 'actuals' (did you mean 'actual'?)",
        "unknown column 'person'",
        "no column 'reviewee'",
    )


def test_every_problem_at_once_with_validates_wording_and_nothing_written(root: Path, book: Path) -> None:
    before = snapshot(root)

    def change(wb: Any) -> None:
        ws = wb["2026-H2"]
        cells_of(ws, "alice", "revenue")["target"].value = "1,200,000"
        cells_of(ws, "alice", "revenue")["owner"].value = "grace.led"
        cells_of(ws, "bob", "revenue")["unit"].value = None
        cells_of(ws, "bob", "nps")["file"].value = "teams/support.yaml"
        ws.append([None, "zhao.lei", "nps", "10%"])

    edit_workbook(book, change)
    out = refused(
        root,
        book,
        before,
        "is not a number for 'target': write digits",
        "[bad-number]",
        "unknown person 'grace.led' in 'owner'",
        "(did you mean 'grace.lead'?)",
        "'unit' is empty here, and teams/sales.yaml:",
        "[null-value]",
        "this row is written in teams/sales.yaml",
        "a new row: name the data file it goes to",
        "5 errors",
    )
    assert out.index("[bad-number]") < out.index("[sheet-file]")  # sorted by row


def test_csv_problems_are_located_file_line_col(root: Path, tmp_path: Path) -> None:
    path = export(root, tmp_path / "book.csv")
    before = snapshot(root)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    col = rows[0].index("actual")
    rows[3][col] = "lots"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")  # no BOM: read the same
    refused(root, path, before, f"book.csv:4:{col + 1}: error: 'lots' is not a number for 'actual'")


def test_a_workbook_written_by_another_program_imports(root: Path, tmp_path: Path) -> None:
    """Built with openpyxl's own API: styles, a percent format, floats, a formula with its saved result,
    columns in an order of its own, a title-case header; new rows go to --into."""
    path = tmp_path / "theirs.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2026-H2"
    ws.append(["Metric", "Reviewee", "Weight", "Target", "Actual"])
    for c in ws[1]:
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="305496")
    ws.append(["nps", "zhao.lei", 0.2, 40.0, None])
    ws["C2"].number_format = "0%"
    ws.append(["nps", "bob", 0.4, 45.0, "=A1"])
    ws["C3"].number_format = "0.0%"
    ws["E3"].number_format = "0"
    wb.save(path)
    patch_sheet_xml(path, lambda xml: set_cell_xml(xml, "E3", "<f>A1</f><v>52</v>"))
    r = run("sheet", "import", str(path), "--root", str(root), "--into", str(root / "teams" / "new.yaml"))
    assert r.exit_code == 0, r.output
    assert "1 value updated, 2 values added (1 new row) in 2 files" in r.output
    sales = (root / "teams" / "sales.yaml").read_text()
    assert "      target: 45\n      actual: 52\n" in sales  # bob's nps: the formula's result, weight unchanged
    new = (root / "teams" / "new.yaml").read_text()
    assert "semester: 2026-H2\nreviewees:\n  zhao.lei:\n    nps:\n      weight: 20%\n      target: 40\n" in new
    assert run("validate", "--root", str(root)).exit_code == 0


def test_with_redact_values_no_message_tells_a_cells_value(root: Path, book: Path) -> None:
    """The advice of float-noise and percent-format errors quotes the value: hidden like the value itself."""
    before = snapshot(root)
    where: list[str] = []

    def change(wb: Any) -> None:
        row = cells_of(wb["2026-H2"], "tang.rui", "csat")
        set_number(row["actual"], 0.3)
        set_number(row["target"], 0.55, "0%")  # a percent format in a number column
        where.append(row["actual"].coordinate)

    edit_workbook(book, change)
    patch_sheet_xml(book, lambda xml: set_cell_xml(xml, where[0], "<v>0.30000000000000004</v>"))
    r = run("sheet", "import", str(book), "--root", str(root), "--redact-values")
    assert r.exit_code == 1, r.output
    assert "[sheet-float]" in r.output and "[sheet-format]" in r.output, r.output
    for told in ("e.g. 0.3", "0.55", " 55)"):
        assert told not in r.output, r.output
    assert snapshot(root) == before
    shown = run("sheet", "import", str(book), "--root", str(root)).output
    assert "e.g. 0.3" in shown and "e.g. 0.55 or 55" in shown, shown


def test_a_new_row_never_goes_through_a_symlinked_directory(root: Path, tmp_path: Path) -> None:
    """A symlinked directory under the root is an error unless excluded, and an excluded one is not read:
    a new data file in it would be written outside the root, and never read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "teams" / "out").symlink_to(outside, target_is_directory=True)
    settings = root / "syncer.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("exclude: []", "exclude: [teams/out]"), encoding="utf-8"
    )
    path = export(root, tmp_path / "book.csv", "--semester", "2026-H2")
    before = snapshot(root)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    head = rows[0]
    new = [""] * len(head)
    for name, text in (("semester", "2026-H2"), ("reviewee", "wu.hao"), ("metric", "nps"), ("target", "40")):
        new[head.index(name)] = text
    for i, file in enumerate(("teams/out/new.yaml", "teams/../teams/out/new.yaml")):
        new[head.index("file")] = file
        out = io.StringIO()
        csv.writer(out).writerows([*rows, new])
        path.write_text(out.getvalue(), encoding="utf-8")
        refused(root, path, before, f"book.csv:{len(rows) + 1}:", "symbolic link", "[sheet-file]")
        assert not any(outside.iterdir()), i


def test_a_text_other_yaml_readers_would_misread_is_written_quoted(root: Path, book: Path) -> None:
    """`no` is the text "no" to syncer, but false to a YAML 1.1 reader: it is written as `syncer fmt` would."""

    def change(wb: Any) -> None:
        cells_of(wb["2026-H2"], "alice", "revenue")["unit"].value = "no"

    edit_workbook(book, change)
    imported(root, book)
    text = (root / "teams" / "sales.yaml").read_text(encoding="utf-8")
    assert '      unit: "no"\n' in text and "unit: no\n" not in text
    from syncer.load.validate import validate_root

    result = validate_root(root)
    assert result.desired is not None
    assert "no" in {v.value for v in result.desired.values.values()}


def test_a_new_reviewee_before_a_new_metric_of_the_files_last_reviewee_lands_where_each_belongs(
    root: Path, tmp_path: Path
) -> None:
    """Both go in at the end of the file: the new metric under the reviewee the file ends with, the new
    reviewee after it, whatever the order of their rows in the sheet."""
    path = export(root, tmp_path / "book.csv", "--semester", "2026-H2")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    head = rows[0]

    def row(**cells: str) -> list[str]:
        new = [""] * len(head)
        for name, text in {"semester": "2026-H2", "file": "teams/engineering.yaml", **cells}.items():
            new[head.index(name)] = text
        return new

    newcomer = row(reviewee="sam.lead", metric="incidents", weight="100", target="1")
    last = row(reviewee="he.jun", metric="nps", weight="20", target="40")
    out = io.StringIO()
    csv.writer(out).writerows([head, newcomer, last, *rows[1:]])
    path.write_text(out.getvalue(), encoding="utf-8")
    imported(root, path)
    text = (root / "teams" / "engineering.yaml").read_text(encoding="utf-8")
    he_jun, sam = text.index("\n  he.jun:\n"), text.index("\n  sam.lead:\n")
    assert he_jun < text.index("\n    nps:\n      weight: 20\n      target: 40\n", he_jun) < sam
    assert text.endswith("  sam.lead:\n    incidents:\n      weight: 100\n      target: 1\n")
    assert run("fmt", "--check", "--root", str(root)).exit_code == 0


def test_a_field_a_sheet_adds_goes_where_fmt_keeps_it(root: Path, tmp_path: Path) -> None:
    """A note for a row that had none goes before `owner`, as the catalog orders the fields: `syncer fmt
    --check` has nothing to say after the import."""
    path = export(root, tmp_path / "book.csv", "--semester", "2026-H2")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    head = rows[0]
    for r in rows[1:]:
        if r[head.index("reviewee")] == "huang.tao" and r[head.index("metric")] == "on_time_delivery":
            r[head.index("note")] = "on track"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    imported(root, path)
    text = (root / "teams" / "engineering.yaml").read_text(encoding="utf-8")
    assert "      actual: 95\n      note: on track\n      owner: hiro.lead\n" in text
    assert run("fmt", "--check", "--root", str(root)).exit_code == 0
