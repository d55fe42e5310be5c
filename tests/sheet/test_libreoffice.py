"""The exported workbook as LibreOffice shows it (headless, a profile of its own): printed one page wide
with the header row on every page of a semester and every line of a note; saved again by LibreOffice (a
workbook, and a csv export with `;` separators), imported as nothing to change. Skipped where LibreOffice
(soffice) or poppler's pdftotext is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from syncer.i18n import translations
from syncer.sheet.legend import legend_rows
from tests.sheet.helpers import export, run, snapshot, soffice, with_note

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (soffice) and poppler's pdftotext are not both installed",
)

HEADER = ("file", "reviewee", "metric", "weight", "unit", "target", "actual", "note", "owner", "calibration")


def test_printed_one_page_wide_with_the_header_on_every_page_and_notes_whole(root: Path, tmp_path: Path) -> None:
    """The example's two semesters (41 and 27 rows) and the legend: without a print setup LibreOffice printed
    9 portrait pages, the columns split across them; now each page holds every column, under the header."""
    with_note(root)
    pdf = soffice(export(root, tmp_path / "book.xlsx"), "pdf", tmp_path / "out")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    legend = [p for p in pages if "How to read and edit this workbook" in p]
    semesters = [p for p in pages if p not in legend]
    assert len(legend) == 1 and all(what in legend[0] for what, _ in legend_rows(translations("en")))
    assert 2 <= len(semesters) <= 4, len(semesters)  # one page wide: a few pages tall, whatever the paper
    for page in semesters:
        assert page.lstrip().splitlines()[0].split() == list(HEADER)
    lines = [line.strip() for line in text.splitlines()]
    at = next(i for i, line in enumerate(lines) if line.endswith("second line"))
    assert lines[at + 1].endswith("third line")  # the note's lines, one under the other, none cut


def test_a_workbook_saved_again_by_libreoffice_imports_as_nothing_to_change(root: Path, tmp_path: Path) -> None:
    with_note(root)
    before = snapshot(root)
    saved = soffice(export(root, tmp_path / "book.xlsx"), "xlsx", tmp_path / "out")
    r = run("sheet", "import", str(saved), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert snapshot(root) == before


def test_a_csv_export_saved_again_with_semicolons_imports_as_nothing_to_change(root: Path, tmp_path: Path) -> None:
    """As LibreOffice saves csv where the list separator is `;`: it reads the export's cells as numbers and
    percentages (`50%` comes back `50.00%`) and quotes the text; the values are the same."""
    with_note(root)
    before = snapshot(root)
    book = export(root, tmp_path / "book.csv")
    saved = soffice(book, "csv:Text - txt - csv (StarCalc):59,34,76,1", tmp_path / "out", infilter="CSV:44,34,76,1")
    assert saved.read_text(encoding="utf-8").startswith('"semester";"file";')
    r = run("sheet", "import", str(saved), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert "separated by ';'" in r.output
    assert snapshot(root) == before
