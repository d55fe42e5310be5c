"""The pure rules of what a sheet import writes: a percentage in the file's own style, a file cell as a
path inside the root, and when two values are one."""

from __future__ import annotations

import pytest

from syncer.model import FieldDef
from syncer.sheet.cells import Read
from syncer.sheet.edits import normal_path, same_value, styled

WEIGHT = FieldDef("weight", "2", "percentage", role="weight")
NOTE = FieldDef("note", "7", "text")


def test_text_is_written_as_read() -> None:
    assert styled(Read("40", composed=True), "60%", NOTE, percentage_format="40%") == "40"


def test_a_percentage_typed_as_text_is_written_as_typed() -> None:
    assert styled(Read("40"), "60%", WEIGHT, percentage_format="40%") == "40"


@pytest.mark.parametrize(("old", "expected"), [("60%", "40%"), ("60", "40")])
def test_a_percentage_held_as_a_number_takes_the_style_of_the_value_it_replaces(old: str, expected: str) -> None:
    assert styled(Read("40%", composed=True), old, WEIGHT, percentage_format="40") == expected


@pytest.mark.parametrize(("fmt", "expected"), [("40%", "40%"), ("40", "40")])
def test_a_new_percentage_held_as_a_number_takes_the_target_percentage_format(fmt: str, expected: str) -> None:
    assert styled(Read("40%", composed=True), None, WEIGHT, percentage_format=fmt) == expected


@pytest.mark.parametrize(
    ("text", "rel"),
    [
        ("teams/sales.yaml", "teams/sales.yaml"),
        (" teams\\sales.yaml ", "teams/sales.yaml"),
        ("./teams/../teams/new.yaml", "teams/new.yaml"),
    ],
)
def test_a_file_cell_is_a_posix_path_relative_to_the_root(text: str, rel: str) -> None:
    assert normal_path(text) == rel


@pytest.mark.parametrize("text", ["", " ", ".", "..", "../x.yaml", "teams/../../x.yaml", "/abs.yaml", "C:/x.yaml"])
def test_a_file_cell_that_leaves_the_root_or_is_absolute_is_no_path(text: str) -> None:
    assert normal_path(text) is None


def test_numbers_and_percentages_are_one_value_when_their_decimals_are_equal() -> None:
    assert same_value("0.40", "0.4", "number")
    assert same_value("40", "40.0", "percentage")
    assert not same_value("40", "41", "number")


def test_text_is_one_value_only_when_it_is_the_same_text() -> None:
    assert not same_value("1.0", "1", "text")
    assert same_value("CNY", "CNY", "text")
