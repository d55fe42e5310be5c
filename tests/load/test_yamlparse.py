from __future__ import annotations

import contextlib
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.errors import LoadError
from syncer.load.yamlnodes import MapNode, Scalar, SeqNode, locate, to_plain
from syncer.load.yamlparse import parse
from syncer.load.yamlread import check_utf8


def values(text: str) -> dict[str, str | None]:
    tree = parse(text.encode(), "t.yaml")
    assert isinstance(tree, MapNode)
    return {k.text: (v.text if isinstance(v, Scalar) else None) for k, v in tree.items}  # type: ignore[misc]


def test_values_are_the_text_typed() -> None:
    v = values("a: yes\nb: on\nc: 0012\nd: 1_000\ne: 12:30\nf: 1e3\ng: 2026-01-01\nh: 0x1F\ni: .5\nj: +1\n")
    assert v == {
        "a": "yes",
        "b": "on",
        "c": "0012",
        "d": "1_000",
        "e": "12:30",
        "f": "1e3",
        "g": "2026-01-01",
        "h": "0x1F",
        "i": ".5",
        "j": "+1",
    }


def test_nulls_and_quoted_null() -> None:
    v = values("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: \"null\"\ng: 'NULL'\nh: nUll\ni: ''\n")
    assert v == {"a": None, "b": None, "c": None, "d": None, "e": None, "f": "null", "g": "NULL", "h": "nUll", "i": ""}


def test_block_and_quoted_scalars_keep_text_and_line_breaks_are_normalised() -> None:
    tree = parse(b'a: |\r\n  one\r\n  two\r\nb: "x\\r\\ny"\r\nc: >\r\n  f\r\n  g\r\n', "t.yaml")
    assert isinstance(tree, MapNode)
    assert to_plain(tree) == {"a": "one\ntwo\n", "b": "x\ny", "c": "f g\n"}


def test_locations_are_one_based() -> None:
    tree = parse(b"top:\n  key: value\n", "t.yaml")
    assert isinstance(tree, MapNode)
    assert locate(tree, ["top", "key"]) == (2, 8)
    assert locate(tree, ["top", "missing"]) == (1, 1)


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(LoadError) as exc:
        parse(b"a: 1\nb: 2\na: 3\n", "t.yaml")
    assert str(exc.value) == "t.yaml:3:1: duplicate key 'a': also at line 1; keep one of them"


def test_duplicate_keys_can_be_collected_and_the_first_is_kept() -> None:
    found: list[LoadError] = []
    tree = parse(b"a: 1\na: 2\nb: {x: 1, x: 2}\n", "t.yaml", duplicates=found)
    assert to_plain(tree) == {"a": "1", "b": {"x": "1"}}
    assert [(e.source.line, e.source.col) for e in found if e.source] == [(2, 1), (3, 11)]


def test_quoted_and_plain_keys_of_same_text_are_duplicates() -> None:
    with pytest.raises(LoadError, match="duplicate key 'yes'"):
        parse(b"yes: 1\n'yes': 2\n", "t.yaml")


def test_alias_bomb_is_refused_quickly_and_never_expanded() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    start = time.perf_counter()
    with pytest.raises(LoadError, match="alias bomb"):
        parse("\n".join(lines).encode(), "bomb.yaml")
    assert time.perf_counter() - start < 1.0  # generous: it takes about a millisecond


def test_a_few_aliases_are_fine_and_shared() -> None:
    tree = parse(b"base: &b {target: 1}\nx: *b\ny: *b\n", "t.yaml")
    assert isinstance(tree, MapNode)
    assert tree.get("x") is tree.get("base")


def test_recursive_alias_refused() -> None:
    with pytest.raises(LoadError, match="recursive"):
        parse(b"a: &x [1, *x]\n", "t.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a: !!int 1\n", "YAML tag"),
        (b"a: !custom x\n", "YAML tag"),
        (b"a: !!set {x}\n", "YAML tag"),
        (b"? [a]\n: 1\n", "mapping key must be plain text"),
        (b"~: 1\n", "empty (null) mapping key"),
        (b"a: 1\n---\nb: 2\n", "more than one YAML document"),
        (b"a: [1\n", "YAML syntax error"),
        (b"a: \x07\n", "U+0007 is not allowed"),
        (b"a: *nowhere\n", "unknown alias *nowhere"),
    ],
)
def test_refusals(text: bytes, message: str) -> None:
    with pytest.raises(LoadError, match=re.escape(message)):
        parse(text, "t.yaml")


def test_depth_is_bounded() -> None:
    with pytest.raises(LoadError, match="nesting deeper"):
        parse(("[" * 200 + "]" * 200).encode(), "t.yaml")


def test_empty_documents_are_none() -> None:
    assert parse(b"", "t.yaml") is None
    assert parse(b"# only a comment\n", "t.yaml") is None


def test_sequences() -> None:
    tree = parse(b"- a\n- [b, ~]\n", "t.yaml")
    assert isinstance(tree, SeqNode)
    assert to_plain(tree) == ["a", ["b", None]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_bytes_raise_only_our_errors(data: bytes) -> None:
    with contextlib.suppress(LoadError):
        parse(check_utf8(data, "f.yaml"), "f.yaml")


YAMLISH = st.lists(
    st.sampled_from([*list("ab: -?[]{},&*!|>'\"#~\n\t\r%@`\\0."), "  ", "\n  ", "&x ", "*x"]), max_size=60
).map("".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_fuzz_yaml_like_text_raises_only_our_errors(text: str) -> None:
    try:
        tree = parse(text.encode(), "f.yaml")
    except LoadError as exc:
        assert exc.source is not None and exc.source.line >= 1 and exc.source.col >= 1
    else:
        to_plain(tree)


def test_an_alias_adds_the_anchored_nodes_size_to_its_parents() -> None:
    tree = parse(b"base: &b {t: 1, u: [2, 3]}\nx: *b\n", "t.yaml")
    assert isinstance(tree, MapNode)
    base = tree.get("base")
    assert isinstance(base, MapNode) and base.size == 2  # itself and its list: a size counts collections
    assert tree.size == 1 + 2 + 2  # the root, base, and base again through the alias


def test_a_duplicate_keys_value_is_dropped_and_the_mapping_reads_on() -> None:
    duplicates: list[LoadError] = []
    tree = parse(b"m:\n  a: 1\n  a: [2]\n  b: 3\nn: 4\n", "t.yaml", duplicates=duplicates)
    assert to_plain(tree) == {"m": {"a": "1", "b": "3"}, "n": "4"}
    assert [(d.source.line, d.source.col) for d in duplicates if d.source] == [(3, 3)]
