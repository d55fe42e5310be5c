"""The exported workbook as people see it, through LibreOffice (headless, a profile of its own): printed to
PDF and PNG, landscape and one page wide, the header row on every page, every row once and every note
whole; saved again by LibreOffice (a workbook, csv with `;` separators, also where the decimal mark is a
comma, and each sheet of the workbook as csv with `;`), imported as nothing to change.

Skipped where LibreOffice (soffice) or poppler-utils (pdfinfo, pdftotext, pdftoppm) is missing; .ci/run
installs them and sets SYNCER_REQUIRE_LIBREOFFICE=1, which makes a missing tool a failure instead. The
example is printed once for the module (a render takes seconds); each check reads that one print."""

from __future__ import annotations

import html
import math
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from syncer.i18n import translations
from syncer.sheet.legend import legend_rows
from tests.example import copy_example
from tests.sheet.helpers import NOTE, REQUIRE_LIBREOFFICE, export, need_libreoffice, run, snapshot, soffice, with_note

HEADER = ("file", "reviewee", "metric", "weight", "unit", "target", "actual", "note", "owner", "calibration")
LEGEND_TITLE = "How to read and edit this workbook"
#: A note of one line, too long for the widest column (60 characters): it wraps in its cell.
LONG_NOTE = (
    "Pipeline review: three enterprise renewals moved from December into January, "
    "so the first quarter forecast carries them."
)


@dataclass(frozen=True)
class Word:
    """A word as printed on a page, with its box (points from the top left)."""

    x0: float
    y0: float
    x1: float
    text: str


@dataclass(frozen=True)
class Printed:
    """The example (with NOTE) exported as a workbook and printed by LibreOffice: its PDF's page count,
    each page's text as laid out, each page's words with their boxes, and each page as a PNG file."""

    book: Path
    pages: int
    layout: tuple[str, ...]
    words: tuple[tuple[Word, ...], ...]
    pngs: tuple[Path, ...]


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>')


def _words(bbox: str) -> tuple[tuple[Word, ...], ...]:
    """The pages of `pdftotext -bbox` output, as words."""
    pages = bbox.split("<page ")[1:]
    return tuple(
        tuple(Word(float(x0), float(y0), float(x1), html.unescape(s)) for x0, y0, x1, s in _WORD.findall(page))
        for page in pages
    )


def _text(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    need_libreoffice()
    base = tmp_path_factory.mktemp("printed")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        root = copy_example(base / "metrics")
        with_note(root)
        sales = root / "teams" / "sales.yaml"  # bob's nps (alice's has 42) gets LONG_NOTE
        text = sales.read_text(encoding="utf-8")
        sales.write_text(
            text.replace("      actual: 51\n", f"      actual: 51\n      note: '{LONG_NOTE}'\n", 1), "utf-8"
        )
        book = export(root, base / "book.xlsx")
    pdf = soffice(book, "pdf", base / "out")
    pages = int(next(line for line in _text("pdfinfo", str(pdf)).splitlines() if line.startswith("Pages:")).split()[1])
    layout = tuple(
        _text("pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-") for n in range(1, pages + 1)
    )
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(base / "page")], check=True, timeout=120)
    pngs = tuple(sorted(base.glob("page-*.png")))
    return Printed(book, pages, layout, _words(_text("pdftotext", "-bbox", str(pdf), "-")), pngs)


def _semester_pages(p: Printed) -> list[str]:
    return [page for page in p.layout if LEGEND_TITLE not in page]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_printed_landscape_a_few_pages_each_one_page_wide_under_the_header(printed: Printed) -> None:
    """The example's two semesters (41 and 27 rows) and the legend: without a print setup LibreOffice printed
    9 portrait pages, the columns split across them; now each page holds every column, under the header."""
    assert len(printed.layout) == printed.pages == len(printed.pngs)
    legend = [page for page in printed.layout if LEGEND_TITLE in page]
    assert len(legend) == 1 and all(what in legend[0] for what, _ in legend_rows(translations("en")))
    semesters = _semester_pages(printed)
    assert 2 <= len(semesters) <= 4, len(semesters)  # one page wide: a few pages tall, whatever the paper
    for page in semesters:
        assert page.lstrip().splitlines()[0].split() == list(HEADER), page[:300]
    for png in printed.pngs:
        width, height = _png_size(png)
        assert width > height, (png.name, width, height)  # landscape, as the PNG shows it


def test_every_row_is_printed_once(printed: Printed) -> None:
    """Each row of the semesters' sheets starts one printed line (its file, reviewee and metric), on some
    page: none lost at a page break, none printed twice."""
    wb = openpyxl.load_workbook(printed.book)
    rows = sorted(
        tuple(str(c) for c in row[:3])
        for ws in wb.worksheets
        if not ws.title.startswith("_")
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[0]
    )
    assert len(rows) == 41 + 27
    lines = [line.split() for page in _semester_pages(printed) for line in page.splitlines()]
    assert sorted(tuple(words[:3]) for words in lines if words and words[0].endswith(".yaml")) == rows


def _note_cells(printed: Printed) -> list[str]:
    """The text printed in the note cell of each row, page after page (its words joined without spaces: a
    wrapped line may break inside a word); each row runs from the top of its file cell to the next one's."""
    cells = []
    for page, words in zip(printed.layout, printed.words, strict=True):
        if LEGEND_TITLE in page:
            continue
        top = min(w.y0 for w in words)
        x = {w.text: w.x0 for w in words if abs(w.y0 - top) < 1}  # the header row
        left, right = x["note"] - 0.5, x["owner"] - 0.5
        rows = sorted(w.y0 for w in words if abs(w.x0 - x["file"]) < 0.5 and w.y0 > top + 1)
        for y, below in zip(rows, [*rows[1:], math.inf], strict=True):
            cell = [w for w in words if left <= w.x0 < right and y - 0.5 <= w.y0 < below - 0.5]
            assert all(w.x1 < right for w in cell), [w.text for w in cell]  # not cut at the column's edge
            cells.append("".join(w.text for w in cell))
    return cells


def test_every_note_is_printed_whole_in_its_own_cell(printed: Printed) -> None:
    """Each row's note, every line of it, inside its cell: multi-line notes one line under the other (they
    showed only their last line, drawn in the row above), long lines wrapped (not cut at the column's edge
    or spilled into the next), the row tall enough for them all."""
    wb = openpyxl.load_workbook(printed.book)
    notes = [
        "".join(str(row[HEADER.index("note")] or "").split())
        for ws in wb.worksheets
        if not ws.title.startswith("_")
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[0]
    ]
    assert "".join(NOTE.replace("\\n", "").split()) in notes and "".join(LONG_NOTE.split()) in notes
    assert _note_cells(printed) == notes
    lines = [line.strip() for page in printed.layout for line in page.splitlines()]
    first, second, third = NOTE.split("\\n")
    at = next(i for i, line in enumerate(lines) if line.endswith(first))
    assert lines[at + 1 : at + 3] == [second, third]  # the note's lines one under the other, in its cell


def test_a_workbook_saved_again_by_libreoffice_imports_as_nothing_to_change(root: Path, tmp_path: Path) -> None:
    need_libreoffice("soffice")
    with_note(root)
    before = snapshot(root)
    saved = soffice(export(root, tmp_path / "book.xlsx"), "xlsx", tmp_path / "out")
    r = run("sheet", "import", str(saved), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert snapshot(root) == before


def test_a_csv_export_saved_again_with_semicolons_imports_as_nothing_to_change(root: Path, tmp_path: Path) -> None:
    """As LibreOffice saves csv where the list separator is `;`: it reads the export's cells as numbers and
    percentages (`50%` comes back `50.00%`) and quotes the text; the values are the same."""
    need_libreoffice("soffice")
    with_note(root)
    before = snapshot(root)
    book = export(root, tmp_path / "book.csv")
    saved = soffice(book, "csv:Text - txt - csv (StarCalc):59,34,76,1", tmp_path / "out", infilter="CSV:44,34,76,1")
    assert saved.read_text(encoding="utf-8").startswith('"semester";"file";')
    r = run("sheet", "import", str(saved), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output, r.output
    assert "separated by ';'" in r.output
    assert snapshot(root) == before


#: LibreOffice's csv filter writing `;`, every text quoted, in UTF-8, cells as shown, each sheet of a workbook to
#: FILE-SheetName.csv (the 12th option, -1; by default it writes the first sheet alone).
EVERY_SHEET_SEMICOLONS = "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,true,true,true,false,false,-1"


def test_each_sheet_of_a_workbook_saved_as_csv_with_semicolons_imports_with_its_semester_as_nothing_to_change(
    root: Path, tmp_path: Path
) -> None:
    """A sheet saved as csv has no semester column (the sheet's name was its semester): --semester names it.
    The open semester's sheet and the closed one's, each as LibreOffice writes it where the list separator is
    `;`."""
    need_libreoffice("soffice")
    with_note(root)
    before = snapshot(root)
    soffice(export(root, tmp_path / "book.xlsx"), EVERY_SHEET_SEMICOLONS, tmp_path / "out")
    assert all(line in (tmp_path / "out" / "book-2026-H2.csv").read_text("utf-8") for line in NOTE.split("\\n"))
    for semester in ("2026-H2", "2026-H1"):
        saved = tmp_path / "out" / f"book-{semester}.csv"
        assert saved.read_text(encoding="utf-8").startswith('"file";"reviewee";"metric";')
        r = run("sheet", "import", str(saved), "--root", str(root), "--semester", semester)
        assert r.exit_code == 0 and "nothing to change" in r.output and "separated by ';'" in r.output, r.output
    assert snapshot(root) == before


def _saved_in_german(root: Path, tmp_path: Path, infilter: str) -> Path:
    """The csv export of `root` opened by LibreOffice in a German locale (decimal comma) with `infilter` and
    saved as csv with `;`."""
    book = export(root, tmp_path / "book.csv")
    semicolons = "csv:Text - txt - csv (StarCalc):59,34,76,1"
    return soffice(book, semicolons, tmp_path / "out", infilter=infilter, locale="de_DE.UTF-8")


def test_a_csv_saved_again_in_a_german_locale_imports_as_nothing_to_change_without_special_numbers(
    root: Path, tmp_path: Path
) -> None:
    """With "Detect special numbers" unchecked (the 8th option), `50%` stays text and `4.5` is no number
    where the decimal mark is a comma: the file saved with `;` holds the values as written."""
    need_libreoffice("soffice")
    with_note(root)
    before = snapshot(root)
    saved = _saved_in_german(root, tmp_path, "CSV:44,34,76,1,,,false,false")
    assert '"50%"' in saved.read_text(encoding="utf-8")
    r = run("sheet", "import", str(saved), "--root", str(root))
    assert r.exit_code == 0 and "nothing to change" in r.output and "separated by ';'" in r.output, r.output
    assert snapshot(root) == before


def test_a_csv_saved_again_in_a_german_locale_is_refused_at_each_percentage_never_misread(
    root: Path, tmp_path: Path
) -> None:
    """By default LibreOffice reads `50%` as a number and writes it back as shown there, `50,00 %` (a no-break
    space before the `%`); import does not take that form (a known gap), so it refuses each such cell at
    its place and writes nothing."""
    need_libreoffice("soffice")
    before = snapshot(root)
    saved = _saved_in_german(root, tmp_path, "CSV:44,34,76,1")
    text = saved.read_text(encoding="utf-8")
    assert ";50,00\u00a0%;" in text and '"4.5"' in text
    r = run("sheet", "import", str(saved), "--root", str(root))
    refused = [line for line in r.output.splitlines() if "[bad-percentage]" in line]
    assert r.exit_code == 1 and "nothing was written" in r.output
    assert len(refused) == text.count("\u00a0%") and refused[0].startswith(f"{saved}:2:5: error: '50,00\\xa0%'")
    assert snapshot(root) == before


def _outcome(*tools: str) -> str:
    """What need_libreoffice(*tools) does to a test: "run", or "skip: why", or "fail: why"."""
    try:
        need_libreoffice(*tools)
    except pytest.skip.Exception as e:
        return f"skip: {e.msg}"
    except pytest.fail.Exception as e:
        return f"fail: {e.msg}"
    return "run"


def test_a_missing_tool_skips_here_and_fails_where_ci_requires_libreoffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pdftoppm" else f"/usr/bin/{name}")
    monkeypatch.delenv(REQUIRE_LIBREOFFICE, raising=False)
    missing = "not installed: pdftoppm (Debian packages libreoffice-calc-nogui, poppler-utils)"
    assert _outcome("soffice") == "run"
    assert _outcome() == f"skip: {missing}"
    monkeypatch.setenv(REQUIRE_LIBREOFFICE, "1")
    assert _outcome("soffice") == "run"
    assert _outcome() == f"fail: {REQUIRE_LIBREOFFICE}=1 but {missing}"
