"""syncer.fieldtypes as a specification: each type's grammar (with validate's messages), its canonical,
wire and live forms, and the promise that a value written in YAML and the same value read from Feishu
are one canonical value (else `plan --refresh` shows drift that never goes away)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.fieldtypes import (
    FIELD_TYPES,
    PERCENTAGE_FORMATS,
    FieldTypeDef,
    Refusal,
    UnknownFieldType,
    _registry,
    feishu_type_name,
    field_type,
    render_value,
    unstorable,
)
from tests.paths import SCHEMAS

NUMBER = field_type("number")
PERCENTAGE = field_type("percentage")
TEXT = field_type("text")
PERSON = field_type("person")


def parse(t: FieldTypeDef, text: str, *, max_length: int = 1000) -> str | Refusal:
    return t.parse(text, alias="sales", max_length=max_length)


# --- the registry ---------------------------------------------------------------------------------------------


def test_the_catalog_schema_lists_the_registry_names_in_its_order() -> None:
    schema = json.loads((SCHEMAS / "catalog.schema.json").read_text(encoding="utf-8"))
    field = schema["properties"]["metrics"]["additionalProperties"]["properties"]["fields"]
    enum = field["additionalProperties"]["properties"]["type"]["enum"]
    assert enum == list(FIELD_TYPES)


def test_every_type_is_registered_under_its_own_name() -> None:
    assert all(name == t.name for name, t in FIELD_TYPES.items())
    assert [field_type(n) for n in FIELD_TYPES] == list(FIELD_TYPES.values())


def test_cache_codes_are_fixed_and_distinct() -> None:
    # The check cache stores these: a code may never change or be reused for another type.
    assert {n: t.code for n, t in FIELD_TYPES.items()} == {"text": "t", "number": "n", "percentage": "p", "person": "u"}


def test_an_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownFieldType, match=r"unknown field type 'date': syncer knows text, number, percentage"):
        field_type("date")
    with pytest.raises(UnknownFieldType):
        render_value("1", field_type="date", percentage_format="40%")


def test_feishu_names_map_to_the_catalog_names() -> None:
    assert feishu_type_name("pencentage") == "percentage"  # the platform's spelling
    assert feishu_type_name("Percentage") == "percentage"
    assert feishu_type_name("PERSON") == "person"
    assert feishu_type_name("Formula") == "formula"  # unknown: lowercased, for the caller to report


def test_the_flags_callers_ask() -> None:
    assert [n for n, t in FIELD_TYPES.items() if t.numeric] == ["number", "percentage"]
    assert [n for n, t in FIELD_TYPES.items() if t.percent] == ["percentage"]
    assert [n for n, t in FIELD_TYPES.items() if t.person] == ["person"]
    assert [n for n, t in FIELD_TYPES.items() if t.limited] == ["text"]
    assert {n: t.cell for n, t in FIELD_TYPES.items()} == {
        "text": "text",
        "number": "number",
        "percentage": "percentage",
        "person": "key",
    }
    assert {n: t.column for n, t in FIELD_TYPES.items()} == {
        "text": "text",
        "number": "number",
        "percentage": "percentage",
        "person": "person",
    }


# --- grammar --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "1200000", "-3.5", "007", "1310000.0", "-0", "12345678901234567890.5"])
def test_a_number_is_kept_as_written(text: str) -> None:
    assert parse(NUMBER, text) == text


@pytest.mark.parametrize("text", ["", "1,200", "1e3", "+1", ".5", "5.", "1.2.3", " 1", "1 ", "40%", "1\n", "١٢"])
def test_what_is_not_a_number(text: str) -> None:
    assert parse(NUMBER, text) == Refusal(
        "bad-number",
        "{value} is not a number for 'sales': write digits with an optional minus sign and decimal point, "
        "e.g. 1200000 or -3.5",
    )


@pytest.mark.parametrize(("text", "canonical"), [("40%", "40"), ("40", "40"), ("-2.5%", "-2.5"), ("0.45%", "0.45")])
def test_a_percentage_is_canonical_without_its_sign(text: str, canonical: str) -> None:
    assert parse(PERCENTAGE, text) == canonical


@pytest.mark.parametrize("text", ["", "%", "40%%", "% 40", "40 %", "40‰", "0.4.5", "forty"])
def test_what_is_not_a_percentage(text: str) -> None:
    assert parse(PERCENTAGE, text) == Refusal(
        "bad-percentage", "{value} is not a percentage for 'sales': write e.g. 40% or 40 (the same value)"
    )


def test_text_is_any_text_up_to_max_length() -> None:
    assert parse(TEXT, " a  b\n", max_length=6) == " a  b\n"
    assert parse(TEXT, "", max_length=0) == ""
    assert parse(TEXT, "abcd", max_length=3) == Refusal(
        "too-long", "'sales' is 4 characters long, more than its max_length 3; shorten it"
    )


def test_a_person_is_any_text_resolved_by_the_caller() -> None:
    assert parse(PERSON, "alice", max_length=1) == "alice"  # no max_length: it is an alias or an ID


# --- wire and live forms --------------------------------------------------------------------------------------


def test_render_value() -> None:
    assert render_value("40", field_type="percentage", percentage_format="40%") == "40%"
    assert render_value("40.5", field_type="percentage", percentage_format="40") == "40.5"
    assert render_value("40%", field_type="percentage", percentage_format="40") == "40"
    assert render_value("40", field_type="number", percentage_format="40%") == "40"
    assert render_value("40%", field_type="text", percentage_format="40") == "40%"


def test_live_values_syncer_cannot_write() -> None:
    assert NUMBER.live("1,200") == Refusal(
        "bad-number", "not a number syncer can write (digits, optional minus sign and decimal point)"
    )
    assert PERCENTAGE.live("40 %") == Refusal("bad-percentage", "not a percentage syncer can write (e.g. 40% or 40)")


def test_live_text_gets_the_yaml_loaders_line_breaks() -> None:
    assert TEXT.live("a\r\nb\rc\n") == "a\nb\nc\n"


def test_the_text_live_import_writes() -> None:
    assert PERCENTAGE.written("40") == "40%"
    assert NUMBER.written("40") == "40"
    assert TEXT.written("40") == "40"


DECIMALS = st.builds(
    lambda neg, whole, frac: ("-" if neg else "") + whole + ("." + frac if frac else ""),
    st.booleans(),
    st.text("0123456789", min_size=1, max_size=20),
    st.text("0123456789", max_size=8),
)


@settings(max_examples=300)
@given(DECIMALS, st.sampled_from(PERCENTAGE_FORMATS), st.booleans())
def test_a_percentage_means_one_thing_in_yaml_on_the_wire_and_live(
    number: str, percentage_format: str, signed: bool
) -> None:
    canonical = parse(PERCENTAGE, number + ("%" if signed else ""))
    assert canonical == number
    sent = PERCENTAGE.wire(number, percentage_format=percentage_format)
    assert sent == (number + "%" if percentage_format == "40%" else number)
    assert PERCENTAGE.live(sent) == canonical  # Feishu answers what was sent
    assert parse(PERCENTAGE, PERCENTAGE.written(number)) == canonical  # live import's text reads back


@settings(max_examples=300)
@given(DECIMALS, st.sampled_from(PERCENTAGE_FORMATS))
def test_a_number_means_one_thing_in_yaml_on_the_wire_and_live(number: str, percentage_format: str) -> None:
    canonical = parse(NUMBER, number)
    assert canonical == number
    assert Decimal(number).is_finite()
    sent = NUMBER.wire(number, percentage_format=percentage_format)
    assert NUMBER.live(sent) == canonical
    assert parse(NUMBER, NUMBER.written(number)) == canonical


@settings(max_examples=300)
@given(st.text(max_size=40), st.sampled_from(PERCENTAGE_FORMATS))
def test_yaml_and_live_agree_on_what_is_a_value(text: str, percentage_format: str) -> None:
    # The two readers accept the same texts and make them the same canonical value.
    for t in (NUMBER, PERCENTAGE):
        from_yaml = parse(t, text)
        from_live = t.live(text)
        assert isinstance(from_yaml, Refusal) == isinstance(from_live, Refusal)
        if not isinstance(from_yaml, Refusal):
            assert from_live == from_yaml
            assert t.live(t.wire(from_yaml, percentage_format=percentage_format)) == from_yaml


@settings(max_examples=300)
@given(st.text(max_size=40), st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(PERCENTAGE_FORMATS))
def test_text_read_live_equals_the_text_yaml_holds(text: str, newline: str, percentage_format: str) -> None:
    # The YAML loader gives line breaks as \n; Feishu may answer \r\n or \r.
    in_yaml = text.replace("\r", "")
    live = in_yaml.replace("\n", newline)
    canonical = parse(TEXT, in_yaml)
    if isinstance(canonical, Refusal):  # a character no value may hold: YAML can't give it as a value
        assert canonical.code == "bad-character"
        return
    assert TEXT.live(live) == canonical
    assert TEXT.wire(in_yaml, percentage_format=percentage_format) == in_yaml


@pytest.mark.parametrize(
    ("second", "shared"),
    [
        ({"name": "text", "code": "x", "feishu_names": ("x",)}, "share a name"),
        ({"name": "x", "code": "t", "feishu_names": ("x",)}, "share a code"),
        ({"name": "x", "code": "x", "feishu_names": ("text",)}, "share a name of Feishu's"),
    ],
)
def test_the_registry_refuses_two_types_that_share_a_name_a_code_or_a_feishu_name(
    second: dict[str, Any], shared: str
) -> None:
    first = FIELD_TYPES["text"]
    with pytest.raises(ValueError, match=shared):
        _registry(first, FieldTypeDef(**second))
    assert list(_registry(first, FieldTypeDef(name="x", code="x", feishu_names=("x",)))) == ["text", "x"]


# --- characters no value may hold -----------------------------------------------------------------------------


@pytest.mark.parametrize("t", list(FIELD_TYPES.values()), ids=list(FIELD_TYPES))
@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\ud800", "\udfff"])
def test_every_type_refuses_what_no_backend_can_record(t: FieldTypeDef, ch: str) -> None:
    # U+0000 (PostgreSQL's text refuses it), the other C0 controls, and lone surrogates (UTF-8 cannot
    # encode them): refused first, whatever the type's grammar would say.
    refused = parse(t, f"4{ch}0")
    assert isinstance(refused, Refusal) and refused.code == "bad-character"
    assert "{value}" in refused.message and "{detail}" in refused.message
    assert refused.detail == f" (U+{ord(ch):04X})"
    kind = "a lone surrogate" if ord(ch) >= 0xD800 else "a control character"
    assert kind in refused.message
    assert unstorable(f"x{ch}") == f"{kind} (U+{ord(ch):04X})"


@pytest.mark.parametrize("ok", ["a\tb", "a\nb", "a\rb", "\x7f", "\x85", "\U0001f600", "汉字"])
def test_tab_line_breaks_and_the_rest_of_unicode_are_values(ok: str) -> None:
    assert unstorable(ok) is None
    assert parse(TEXT, ok) == ok
