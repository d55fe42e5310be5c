"""Workbooks read (syncer.sheet.xlsxread): the limit on what a workbook unpacks to, and what read-only
mode would get wrong."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import python_calamine

from syncer.sheet import xlsxread, xlsxscan
from syncer.sheet.cells import format_kind
from syncer.sheet.model import Book
from syncer.sheet.xlsx import UNPACKED_RATIO
from syncer.sheet.xlsxread import read_xlsx
from tests.example import copy_example
from tests.sheet.helpers import export, patch_member, patch_sheet_xml, run


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


# The two readers (python-calamine where it gives what openpyxl would, else openpyxl): the same cells.


def _with_style(path: Path, number_format: str) -> str:
    """A cell style with `number_format` added to the workbook: its index, for s="..."."""
    styles = zipfile.ZipFile(path).read("xl/styles.xml").decode()
    index = len(re.findall(r"<xf ", styles.split("<cellXfs", 1)[1].split("</cellXfs>", 1)[0]))
    fmt = f'<numFmt numFmtId="200" formatCode="{number_format}"/>'
    patch_member(
        path,
        "xl/styles.xml",
        lambda xml: re.sub(r'<numFmts count="0"\s*/>', f'<numFmts count="1">{fmt}</numFmts>', xml).replace(
            "</cellXfs>", '<xf numFmtId="200" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>'
        ),
    )
    return str(index)


def _cells(book: Book) -> list[tuple[object, ...]]:
    """What a reading gives that the import looks at: a number's exact value (an int or a float alike), a
    number format by what it does to a number (General and Text alike), formula, error, merged range."""

    def value(v: object) -> object:
        return Decimal(v) if isinstance(v, int | float) and not isinstance(v, bool) else v  # exact: 1 and 1.0 alike

    def fmt(f: str) -> str:
        return "General" if format_kind(f) in ("general", "text") else f

    return [
        (t.name, c.row, c.col, value(c.value), fmt(c.number_format), c.formula, c.error, c.merged)
        for t in book.tables
        for row in (t.header, *t.rows)
        for c in row
    ] + [("keys", book.exported)]


def _by_openpyxl(data: bytes, monkeypatch: pytest.MonkeyPatch) -> Book:
    with monkeypatch.context() as m:
        m.setattr(xlsxread, "load_calamine", lambda: None)
        return read_xlsx(data, "book.xlsx")


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example's workbook: every semester, merged key cells down a column, and a merged range over
    cells the file does not hold."""
    monkeypatch.chdir(tmp_path)
    book = export(copy_example(tmp_path / "metrics"), tmp_path / "book.xlsx")
    patch_sheet_xml(
        book,
        lambda xml: xml.replace(
            "</sheetData>",
            '</sheetData><mergeCells count="2"><mergeCell ref="A2:A3"/><mergeCell ref="K2:K3"/></mergeCells>',
            1,
        ),
    )
    return book


def test_calamine_reads_an_export_to_the_cells_openpyxl_gives(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export needs nothing but values: python-calamine reads it (many times faster), to the cells,
    merged ranges and keys openpyxl gives."""
    data = exported.read_bytes()
    fast = xlsxread._read_values(python_calamine, data, "book.xlsx")
    assert fast is not None
    assert fast.exported and any(c.merged for t in fast.tables for row in t.rows for c in row)
    assert _cells(fast) == _cells(_by_openpyxl(data, monkeypatch))


def test_calamine_reads_a_number_under_a_format_with_that_format(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine gives no number formats: the cells under a format other than General or Text are found in
    the sheet's XML, and carry it (45% here, not 0.45)."""
    style = _with_style(exported, "0%")
    patch_sheet_xml(
        exported,
        lambda xml: re.sub(r'<c r="F2"[^>]*?(/>|>.*?</c>)', f'<c r="F2" s="{style}"><v>0.45</v></c>', xml, count=1),
    )
    data = exported.read_bytes()
    fast = xlsxread._read_values(python_calamine, data, "book.xlsx")
    assert fast is not None
    assert next(c for c in fast.tables[0].rows[0] if c.col == 6).number_format == "0%"
    assert _cells(fast) == _cells(_by_openpyxl(data, monkeypatch))


#: Cells calamine could give otherwise than openpyxl (coordinate, the cell's attributes, its XML; STYLE: a
#: style of its own, of the format FORMATS gives): each is read as openpyxl reads it.
TRICKY = {
    "a formula": ("F2", "", "<f>50+5</f><v>55</v>"),
    "an error value": ("F2", ' t="e"', "<v>#N/A</v>"),
    "an ISO date": ("F2", ' t="d"', "<v>2026-01-02T00:00:00</v>"),
    "a whole number of 17 digits": ("F2", "", "<v>12345678901234567</v>"),
    "an _xHHHH_ escape in text": ("C2", ' t="inlineStr"', "<is><t>_x0041_</t></is>"),
    "an empty text": ("J2", ' t="inlineStr"', '<is><t xml:space="preserve"></t></is>'),
    "an empty text, written short": ("J2", ' t="inlineStr"', "<is><t/></is>"),
    "spaces before a text not marked to keep them": ("C2", ' t="inlineStr"', "<is><t>  x</t></is>"),
    "spaces after a text not marked to keep them": ("C2", ' t="inlineStr"', "<is><r><t>x</t></r><r><t>y </t></r></is>"),
    "a date format only openpyxl knows": ("F2", "STYLE", "<v>45000.5</v>"),
    "a format only calamine reads as a date": ("F2", "STYLE", "<v>45000.5</v>"),
    "a formatted cell without its place": ("F2", "STYLE", "<v>0.45</v>"),
    "a formatted cell, its style in single quotes": ("F2", "STYLE'", "<v>0.45</v>"),
    "a formatted cell, spaces around its style's =": ("F2", "STYLE =", "<v>0.45</v>"),
    "an error value, its type in single quotes": ("F2", " t='e'", "<v>#N/A</v>"),
    "a number with white space around it": ("H2", "", "<v>\n5\n</v>"),
    "a space before a text, as a character reference": ("H2", ' t="inlineStr"', "<is><t>&#32;note</t></is>"),
    "a line break after a text, as a character reference": ("H2", ' t="inlineStr"', "<is><t>note&#10;</t></is>"),
    "spaces around a text in a CDATA section": ("H2", ' t="inlineStr"', "<is><t><![CDATA[ note ]]></t></is>"),
    "spaces around a text marked to drop them": ("H2", ' t="inlineStr"', '<is><t xml:space="default"> a </t></is>'),
    "an empty inline string": ("J2", ' t="inlineStr"', "<is/>"),
    "an inline string without a text": ("J2", ' t="inlineStr"', "<is><r><rPr/></r></is>"),
}
FORMATS = {"a date format only openpyxl knows": "0.0*d", "a format only calamine reads as a date": "A/P"}


@pytest.mark.parametrize("case", sorted(TRICKY))
def test_a_cell_calamine_could_give_otherwise_is_read_as_openpyxl_reads_it(
    case: str, exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    coord, attrs, inner = TRICKY[case]
    if attrs.startswith("STYLE"):
        style = _with_style(exported, FORMATS.get(case, "0%"))
        attrs = {"STYLE": f' s="{style}"', "STYLE'": f" s='{style}'", "STYLE =": f' s = "{style}"'}[attrs]
    place = "" if "without its place" in case else f' r="{coord}"'
    if not place:  # the cell before it goes too, so that its place is still its order
        patch_sheet_xml(exported, lambda xml: re.sub(r'<c r="E2"[^>]*?(/>|>.*?</c>)', "", xml, count=1))
    patch_sheet_xml(
        exported,
        lambda xml: re.sub(rf'<c r="{coord}"[^>]*?(/>|>.*?</c>)', f"<c{place}{attrs}>{inner}</c>", xml, count=1),
    )
    data = exported.read_bytes()
    assert _cells(read_xlsx(data, "book.xlsx")) == _cells(_by_openpyxl(data, monkeypatch))


def test_cells_and_rows_out_of_order_are_all_read(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A program may write a row's cells, or the rows, out of order: every cell the file holds is read, by
    either reader (openpyxl's iter_rows would drop the cells of a row past its last one's column, and a row
    after a later one: an edit there silently left out where calamine reads it)."""

    def shuffle(xml: str) -> str:
        rows = {m.group(1): m.group(0) for m in re.finditer(r'<row r="(\d+)"[^>]*>.*?</row>', xml)}
        cells = re.findall(r'<c r="[A-Z]+2".*?(?:/>|</c>)', rows["2"])
        two = rows["2"][: rows["2"].index("<c ")] + "".join(reversed(cells)) + "</row>"
        return xml.replace(rows["2"] + rows["3"], rows["3"] + two, 1)

    keys = xlsxread.read_xlsx(exported.read_bytes(), "book.xlsx").exported
    patch_sheet_xml(exported, shuffle)
    patch_sheet_xml(exported, shuffle, sheet=3)  # the keys sheet
    data = exported.read_bytes()
    slow = _by_openpyxl(data, monkeypatch)
    assert [(c.col, c.value) for c in slow.tables[0].rows[0] if c.col in (2, 6)] == [(2, "dev.patel"), (6, 90)]
    assert [r[0].row for r in slow.tables[0].rows[:2]] == [2, 3]
    assert slow.exported == keys
    assert _cells(read_xlsx(data, "book.xlsx")) == _cells(slow)


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml", "xl/sharedStrings.xml"])
def test_a_sheet_in_utf16_is_read_whole(member: str, exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XML may be in UTF-16 (openpyxl reads it; calamine reads such a sheet as empty, and the XML's search
    for what calamine gives otherwise would find nothing): a data sheet, the keys sheet or the shared
    strings (which calamine refuses to read) so written are read whole, by either reader."""
    if member == "xl/sharedStrings.xml":
        _shared_strings(exported, "_x0041_ ")
        cell = '<c r="H2" t="s"><v>0</v></c>'
        patch_sheet_xml(exported, lambda xml: re.sub(r'<c r="H2"[^>]*?(/>|>.*?</c>)', cell, xml, count=1))
    patch_member(exported, member, lambda xml: '<?xml version="1.0" encoding="UTF-16"?>' + xml)
    with zipfile.ZipFile(exported) as z, zipfile.ZipFile(exported.with_suffix(".new"), "w") as out:
        for item in z.infolist():
            data = z.read(item.filename)
            out.writestr(item, data.decode().encode("utf-16") if item.filename == member else data)
    data = exported.with_suffix(".new").read_bytes()
    slow = _by_openpyxl(data, monkeypatch)
    assert slow.tables[0].header and slow.exported
    assert _cells(read_xlsx(data, "book.xlsx")) == _cells(slow)


def test_a_whole_number_past_15_digits_is_read_exactly_whatever_its_sign(exported: Path) -> None:
    """calamine reads every number as a float: a whole number of 16 digits, even written with a plus sign,
    is openpyxl's to read, exactly (as a float its 16 digits would be refused as noise)."""
    patch_sheet_xml(
        exported,
        lambda xml: re.sub(r'<c r="F2"[^>]*?(/>|>.*?</c>)', '<c r="F2"><v>+1234567890123456</v></c>', xml, count=1),
    )
    value = next(c for c in read_xlsx(exported.read_bytes(), "book.xlsx").tables[0].rows[0] if c.col == 6).value
    assert value == 1234567890123456 and isinstance(value, int)


def _shared_strings(path: Path, text: str) -> None:
    """A shared strings table holding `text` (index 0), as Excel keeps text, added to the workbook."""
    ns = "http://schemas.openxmlformats.org"
    table = f'<sst xmlns="{ns}/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'
    patch_member(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            "</Relationships>",
            f'<Relationship Id="rIdStrings" Type="{ns}/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>',
        ),
    )
    patch_member(
        path,
        "[Content_Types].xml",
        lambda xml: xml.replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
    )
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/sharedStrings.xml", table)


def test_an_escape_in_the_shared_strings_is_read_by_openpyxl(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel keeps text in a shared table: an _xHHHH_ escape there (calamine decodes it, openpyxl does not) is
    openpyxl's to read too."""
    _shared_strings(exported, "_x0041_")
    patch_sheet_xml(
        exported, lambda xml: re.sub(r'<c r="C2"[^>]*?(/>|>.*?</c>)', '<c r="C2" t="s"><v>0</v></c>', xml, count=1)
    )
    data = exported.read_bytes()
    assert next(c for c in _by_openpyxl(data, monkeypatch).tables[0].rows[0] if c.col == 3).value == "_x0041_"
    assert _cells(read_xlsx(data, "book.xlsx")) == _cells(_by_openpyxl(data, monkeypatch))


def test_a_chart_sheet_is_no_table(tmp_path: Path) -> None:
    """A workbook's chart sheets hold no cells: calamine lists them among the sheets, and they are left out
    (as openpyxl's worksheets leave them out)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.title = "2026-H2"
    wb.active.append(["reviewee", "metric", "target"])
    wb.active.append(["alice", "nps", 3])
    wb.create_chartsheet("chart")
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    fast = xlsxread._read_values(python_calamine, path.read_bytes(), "chart.xlsx")
    assert fast is not None
    assert [t.name for t in fast.tables] == ["2026-H2"]


def _missing_style(book: Path) -> None:
    """A cell whose style (s="99") is not among the workbook's: openpyxl fails on it with an IndexError."""
    patch_sheet_xml(
        book, lambda xml: re.sub(r'<c r="F2"[^>]*?(/>|>.*?</c>)', '<c r="F2" s="99"><v>90</v></c>', xml, count=1)
    )


def _empty_chart_sheet(book: Path) -> None:
    """A chart sheet that holds no chart: openpyxl's read-only mode fails on it with an AttributeError."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(book)
    wb.create_chartsheet("chart")
    wb.save(book)


@pytest.mark.parametrize(
    ("spoil", "error"), [(_missing_style, "IndexError"), (_empty_chart_sheet, "AttributeError")], ids=["style", "chart"]
)
def test_a_workbook_openpyxl_trips_over_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xlsx_reader: str, spoil: Callable[[Path], None], error: str
) -> None:
    """Where openpyxl fails inside itself on a workbook (a style it lacks, a chart sheet without a chart),
    that is one line naming the file and exit 1, never a traceback; calamine reads such a workbook (the
    cell under General, the chart sheet left out) and the import goes on."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    book = export(root, tmp_path / "book.xlsx", "--semester", "2026-H2")
    spoil(book)
    r = run("sheet", "import", str(book), "--root", str(root))
    if xlsx_reader == "openpyxl":
        assert r.exit_code == 1, r.output
        assert f"book.xlsx is not a workbook openpyxl can read ({error}:" in r.output
        assert "Traceback" not in r.output and "internal error" not in r.output
    else:
        assert r.exit_code == 0, r.output


@pytest.mark.parametrize("part", ["sheet", "shared strings"])
def test_a_text_cut_at_a_chunks_end_is_seen_whole(part: str, exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XML is searched a chunk at a time: a text element cut between two chunks, however long, is
    searched whole (its trailing space, not marked to be kept, makes it openpyxl's to read)."""
    text = "a note long enough to span several chunks "
    if part == "sheet":
        cell = f'<c r="C2" t="inlineStr"><is><t>{text}</t></is></c>'
    else:
        _shared_strings(exported, text)
        cell = '<c r="C2" t="s"><v>0</v></c>'
    patch_sheet_xml(exported, lambda xml: re.sub(r'<c r="C2"[^>]*?(/>|>.*?</c>)', cell, xml, count=1))
    monkeypatch.setattr(xlsxscan, "CHUNK", 7)
    data = exported.read_bytes()
    assert _cells(read_xlsx(data, "book.xlsx")) == _cells(_by_openpyxl(data, monkeypatch))
