"""Reading one cell without guessing: each habit of a workbook, read or refused with what to type."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from syncer.sheet.cells import Read, Unreadable, format_kind, number_text, read_cell
from syncer.sheet.model import Cell


def cell(value: object, fmt: str = "General", **kw: bool) -> Cell:
    return Cell(row=2, col=3, value=value, number_format=fmt, **kw)  # type: ignore[arg-type]


def test_a_float_that_is_a_whole_number_is_that_number() -> None:
    assert read_cell(cell(1310000.0), "number") == Read("1310000", composed=True)
    assert read_cell(cell(4.7), "number") == Read("4.7", composed=True)
    assert read_cell(cell(-3.5), "number") == Read("-3.5", composed=True)
    assert read_cell(cell(1310000), "number") == Read("1310000", composed=True)


def test_float_noise_is_an_error_that_says_what_to_type() -> None:
    with pytest.raises(Unreadable) as err:
        read_cell(cell(0.1 + 0.2), "number")
    assert err.value.code == "sheet-float"
    assert err.value.value == "0.30000000000000004"
    assert err.value.detail == ", e.g. 0.3"


def test_a_percent_cell_is_the_percentage_it_shows() -> None:
    assert read_cell(cell(0.4, "0%"), "percentage") == Read("40%", composed=True)
    assert read_cell(cell(0.455, "0.0%"), "percentage") == Read("45.5%", composed=True)
    assert read_cell(cell(0.07, "0%"), "percentage") == Read("7%", composed=True)  # no 7.000000000000001
    assert read_cell(cell(45), "percentage") == Read("45", composed=True)  # a plain 45 in a percentage field


def test_a_percent_cell_outside_percentage_fields_is_an_error() -> None:
    with pytest.raises(Unreadable) as err:
        read_cell(cell(0.9, "0%"), "number")
    assert err.value.code == "sheet-format" and err.value.detail == " (e.g. 0.9 or 90)"


@pytest.mark.parametrize("kind", ["number", "percentage", "text", "key"])
def test_dates_are_an_error_in_every_column(kind: str) -> None:
    for value in (datetime(2026, 1, 2), date(2026, 1, 2)):
        with pytest.raises(Unreadable) as err:
            read_cell(cell(value, "yyyy-mm-dd"), kind)  # type: ignore[arg-type]
        assert err.value.code == "sheet-date" and "format the cell as Text" in err.value.message


def test_trailing_spaces_are_dropped_outside_text_fields_and_kept_in_them() -> None:
    assert read_cell(cell(" alice  "), "key") == Read("alice")
    assert read_cell(cell("1200000 "), "number") == Read("1200000")
    assert read_cell(cell(" a note "), "text") == Read(" a note ")
    assert read_cell(cell("line\r\nnext"), "text") == Read("line\nnext")


def test_blank_cells_are_none() -> None:
    assert read_cell(cell(None), "number") is None
    assert read_cell(cell("   "), "text") is None


def test_formulas_are_read_by_their_saved_result_and_refused_without_one() -> None:
    assert read_cell(cell(42, formula=True), "number") == Read("42", composed=True)
    with pytest.raises(Unreadable) as err:
        read_cell(cell(None, formula=True), "number")
    assert err.value.code == "sheet-formula"


def test_error_values_and_logical_values_are_errors() -> None:
    with pytest.raises(Unreadable) as err:
        read_cell(cell("#DIV/0!", error=True), "number")
    assert err.value.code == "sheet-error" and err.value.value == "#DIV/0!"
    with pytest.raises(Unreadable) as err:
        read_cell(cell(True), "text")
    assert err.value.code == "sheet-boolean" and err.value.value == "TRUE"


def test_a_number_in_a_text_column_is_read_only_under_general_or_text() -> None:
    assert read_cell(cell(12), "text") == Read("12", composed=True)
    assert read_cell(cell(12, "@"), "key") == Read("12", composed=True)
    with pytest.raises(Unreadable) as err:
        read_cell(cell(4.5, "0.00"), "text")
    assert err.value.code == "sheet-format"


def test_number_formats() -> None:
    assert format_kind("General") == "general"
    assert format_kind("@") == "text"
    assert format_kind("0.00%") == "percent"
    assert format_kind('0.00" %"') == "number"  # a quoted % is a literal, not a percent format
    assert format_kind("#,##0") == "number"
    assert number_text(1e-05) == "0.00001"
