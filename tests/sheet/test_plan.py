"""plan_import's --semester: the semester of a csv file saved from one sheet of a workbook (no semester
column, and csv has no sheet name); an unknown semester, or the flag on a workbook, is refused in one line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.sheet.helpers import export, run, snapshot


def _one_sheet(root: Path, tmp_path: Path) -> Path:
    """The open semester's rows of the csv export, without the semester column, separated by `;`: what a
    spreadsheet program writes when the 2026-H2 sheet of the workbook is saved as csv."""
    rows = list(csv.reader(io.StringIO(export(root, tmp_path / "all.csv").read_text("utf-8-sig"), newline="")))
    assert rows[0][0] == "semester"
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(r[1:] for r in rows if r[0] in ("semester", "2026-H2"))
    path = tmp_path / "h2.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_a_sheet_saved_as_csv_imports_with_its_semester_named(root: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    sheet = _one_sheet(root, tmp_path)
    r = run("sheet", "import", str(sheet), "--root", str(root), "--semester", "2026-H2")
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert snapshot(root) == before
    text = sheet.read_text("utf-8")
    assert text.count(";1055000;") == 1  # alice's revenue actual
    sheet.write_text(text.replace(";1055000;", ";1066000;"), "utf-8")
    r = run("sheet", "import", str(sheet), "--root", str(root), "--semester", "2026-H2")
    assert r.exit_code == 0 and "1 value updated" in r.output, r.output
    assert "actual: 1066000\n" in (root / "teams" / "sales.yaml").read_text("utf-8")


def test_a_sheet_saved_as_csv_without_its_semester_is_refused_with_the_advice(root: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    r = run("sheet", "import", str(_one_sheet(root, tmp_path)), "--root", str(root))
    assert r.exit_code == 1 and "nothing was written" in r.output
    assert "name its semester with --semester ALIAS [sheet-column]" in r.output
    assert snapshot(root) == before


def test_a_semester_not_in_the_catalog_is_refused_in_one_line(root: Path, tmp_path: Path) -> None:
    sheet = _one_sheet(root, tmp_path)
    for given in ("2026-H3", "7293040702907514898"):  # an unknown alias; an ID of no semester of the catalog
        r = run("sheet", "import", str(sheet), "--root", str(root), "--semester", given)
        assert r.exit_code == 1 and r.exception is not None and not isinstance(r.exception, AssertionError)
        assert r.output.splitlines()[-1] == (
            f"error: --semester '{given}' is not a semester of catalog.yaml: name one of 2026-H2, 2026-H1 (or its ID)"
        )


def test_a_semester_given_by_its_id_names_it_too(root: Path, tmp_path: Path) -> None:
    r = run(
        "sheet", "import", str(_one_sheet(root, tmp_path)), "--root", str(root), "--semester", "7293040702907514899"
    )
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output


def test_the_semester_of_a_workbook_is_its_sheets_never_the_flag(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path / "book.xlsx")
    r = run("sheet", "import", str(book), "--root", str(root), "--semester", "2026-H2")
    assert r.exit_code == 1
    assert r.output.splitlines()[-1] == (
        "error: --semester '2026-H2': a workbook's sheets are named after their semesters; --semester is for a csv "
        "file saved from one sheet"
    )


def test_a_sheet_imported_under_the_wrong_semester_writes_nothing(root: Path, tmp_path: Path) -> None:
    """Each exported row's file cell names a data file of 2026-H2, not of the semester named."""
    before = snapshot(root)
    r = run("sheet", "import", str(_one_sheet(root, tmp_path)), "--root", str(root), "--semester", "2026-H1")
    assert r.exit_code == 1 and "nothing was written" in r.output
    assert "[sheet-file]" in r.output
    assert snapshot(root) == before
