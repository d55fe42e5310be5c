"""Scalars written so that syncer's loader reads them back as the same text (syncer.edit.scalars): the
shortcuts for common text give what the rules spelled out give."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.edit.scalars import _double_quoted, _plain_ok, double_quoted, plain_ok
from syncer.load.yamlnodes import MapNode, to_plain
from syncer.load.yamlparse import parse

_TEXTS = st.text(st.sampled_from("aZ09_.%/@+- :#\"'\\\t\n~!&*[]{}|>,?`\x85\u00e9\u4e09\ufeff"), max_size=8)
_WORDS = ["a", "null", "Null", "NULL", "~", "", "x y", "x ", " x", "-1", "-", "a:", "a: b", "a #b", "a#b", "---x"]


@settings(max_examples=500)
@given(_TEXTS | st.sampled_from(_WORDS))
def test_plain_ok_is_its_rules_spelled_out(text: str) -> None:
    assert plain_ok(text) == _plain_ok(text)


@settings(max_examples=500)
@given(_TEXTS | st.sampled_from(_WORDS))
def test_double_quoted_is_its_escapes_spelled_out_and_reads_back(text: str) -> None:
    assert double_quoted(text) == _double_quoted(text)
    tree = parse(f"k: {double_quoted(text)}\n", "t.yaml")
    assert isinstance(tree, MapNode)
    assert to_plain(tree) == {"k": text}


def test_common_text_takes_the_shortcuts() -> None:
    assert plain_ok("ou_3245842393d09e9428ad4655da6e30b3") and plain_ok("note 12") and not plain_ok("null")
    assert double_quoted("note 12") == '"note 12"' and double_quoted('a"b\\c') == '"a\\"b\\\\c"'


# Each character class the shortcuts and the rules tell apart: letters, digits and the signs the shortcut lets
# through, YAML's indicators, blanks (unicode's too), line breaks, controls, the byte order mark, beyond 16 bits.
_SIGNS = "aZ09_.%/@+- :#\"'\\\t\n\r~!&*[]{}|>,?`\x00\x7f\x85\xa0\u2028\u3000\ufeff\U0001f600"
_READ_AS_OTHERS = ["no", "yes", "on", "0x10", "1e3", "1_000", ".5", "+1", "007", "12:30", "2026-01-01", "null", "~"]


def test_every_short_text_takes_the_shortcuts_only_where_its_rules_agree_and_reads_back() -> None:
    texts = ["".join(t) for size in range(3) for t in itertools.product(_SIGNS, repeat=size)] + _WORDS
    for text in texts + _READ_AS_OTHERS + [f"a{t}b" for t in texts]:
        assert plain_ok(text) == _plain_ok(text), text
        assert double_quoted(text) == _double_quoted(text), text
        written = text if plain_ok(text) else double_quoted(text)
        read = text.replace("\r\n", "\n").replace("\r", "\n")  # the loader's line breaks, even escaped
        assert to_plain(parse(f"k: {written}\n", "t.yaml")) == {"k": read}, text
