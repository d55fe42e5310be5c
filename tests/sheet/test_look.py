"""How an exported workbook looks: widths by display width, rows tall enough for their notes, numbers and
percentages written as number cells only where they read back as the same text, cell checks that hold
typed text to the import's grammar, and Excel's "number stored as text" mark turned off."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.fieldtypes import NUMBER, PERCENTAGE
from syncer.sheet.cells import read_cell
from syncer.sheet.look import (
    CJK_LINE_POINTS,
    LINE_POINTS,
    MAX_WIDTH,
    check_formula,
    column_width,
    display_width,
    line_count,
    number_cell,
    row_height,
    shown,
)
from syncer.sheet.model import Cell
from syncer.sheet.table import ColumnKind
from tests.sheet.helpers import need_libreoffice, soffice


def test_east_asian_wide_characters_count_two_columns() -> None:
    assert display_width("sales") == 5
    assert display_width("销售目标") == 8
    assert display_width("ＡＢ") == 4  # full-width Latin
    assert display_width("ｱｲ") == 2  # half-width katakana is narrow


def test_a_column_is_as_wide_as_its_widest_line_and_wraps_past_the_limit() -> None:
    assert column_width(["ab", "第一行\nx"]) == 6 + 2
    assert column_width(["x" * 200]) == MAX_WIDTH
    assert column_width([]) == 2


def test_a_row_is_as_tall_as_its_longest_wrapped_note() -> None:
    assert line_count("one\ntwo\nthree", 20) == 3
    assert line_count("x" * 37, 20) == 3  # 18 characters a line
    assert line_count("说" * 10, 20) == 2  # 20 columns of text in 18
    assert row_height([("one line", 20), ("7", 5)]) is None
    assert row_height([("a\nb", 20), ("c", 5)]) == 2 * LINE_POINTS
    assert row_height([("第一行\n第二行", 20)]) == 2 * CJK_LINE_POINTS


@pytest.mark.parametrize(("text", "value"), [("1499000", 1499000), ("4.7", 4.7), ("-3.5", -3.5), ("0", 0)])
def test_an_exact_number_is_a_number_cell(text: str, value: float) -> None:
    got = number_cell(text, "number")
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0012", "number"),  # not the number's own text: 12 would come back
        ("1.50", "number"),
        ("-0", "number"),
        ("123456789012", "number"),  # General would show 1.23457E+11
        ("30", "percentage"),  # a percentage is text: see shown()
        ("30", "text"),  # a text field's "30" stays text
    ],
)
def test_a_value_that_would_not_read_back_as_written_stays_text(text: str, kind: ColumnKind) -> None:
    assert number_cell(text, kind) is None


def test_a_percentage_shows_its_sign_and_everything_else_as_written() -> None:
    assert shown("30", "percentage") == "30%"
    assert shown("12.50%", "percentage") == "12.50%"
    assert shown("30", "number") == "30"
    assert shown("ou_1", "person") == "ou_1"


@given(st.decimals(min_value=-(10**10), max_value=10**10, places=3, allow_nan=False, allow_infinity=False))
def test_every_number_cell_reads_back_as_its_text(d: Decimal) -> None:
    """What the workbook gives back (openpyxl writes 16 significant digits; the reader takes the double's
    shortest decimal) is the value written: an unedited export is no change."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("", "-0") else text
    value = number_cell(text, "number")
    if value is None:
        return
    stored = float("%.16g" % value)  # as openpyxl writes it  # noqa: UP031
    read = read_cell(Cell(2, 4, stored, "General"), "number")
    assert read is not None and read.text == text


def test_the_checks_fit_excels_limit_or_are_left_out() -> None:
    for kind in ("number", "percentage"):
        formula = check_formula("ZZ2", kind)
        assert formula is not None and len(formula) <= 255
    assert check_formula("AAA2", "percentage") is None


#: What a person may type, and whether the import's grammar takes it (spaces around aside, which it drops).
TYPED = [
    "40", "40%", "-3.5", "1200000", "007", "0.4", "12.5%", "1.50",
    "40 %", "1,200", "12O0", "1e3", ".5", "5.", "-.5", "5.%", "40%%", "4%0", "%", "-", "1.2.3", "0,4",
    "1-2", "$12", "(1)", "+1", "1 200", "１２", "--5", "1/2",
]  # fmt: skip


def _grammar(text: str, kind: str) -> bool:
    return (NUMBER if kind == "number" else PERCENTAGE).match(text) is not None


def test_the_checks_take_exactly_what_the_import_takes_in_libreoffice(tmp_path: Path) -> None:
    """The formulas evaluated by LibreOffice (headless, its own profile): true for exactly the texts the
    import's grammar takes. Excel's evaluation of the same functions cannot be run here."""
    need_libreoffice("soffice")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, text in enumerate(TYPED, start=2):
        cell = ws.cell(row=r, column=1, value=text)
        cell.data_type = "s"
        ws.cell(row=r, column=2, value="=" + str(check_formula(f"A{r}", "number")))
        ws.cell(row=r, column=3, value="=" + str(check_formula(f"A{r}", "percentage")))
    wb.save(tmp_path / "checks.xlsx")
    out = soffice(tmp_path / "checks.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)  # UTF-8
    rows = list(csv.reader(out.open(encoding="utf-8")))[1:]
    assert [r[0] for r in rows] == TYPED
    for text, number, percentage in rows:
        assert (number == "TRUE") == _grammar(text, "number"), text
        assert (percentage == "TRUE") == _grammar(text, "percentage"), text
