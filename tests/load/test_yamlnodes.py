"""The tree's nodes (syncer.load.yamlnodes): what each says of itself, the tree as plain data, and the
location of a JSON path into it."""

from __future__ import annotations

from syncer.load.yamlnodes import MapNode, Scalar, SeqNode, kind, locate, text_of, to_plain
from syncer.load.yamlparse import parse


def test_kind_names_a_node_as_a_message_would() -> None:
    assert kind(MapNode(1, 1)) == "a mapping"
    assert kind(SeqNode(1, 1)) == "a list"
    assert kind(Scalar("x", 1, 1, False)) == "text"
    assert kind(Scalar(None, 1, 1, False)) == "null"


def test_text_of_is_a_scalars_text_and_none_for_anything_else() -> None:
    assert text_of(Scalar("x", 1, 1, True)) == "x"
    assert text_of(Scalar(None, 1, 1, False)) is None
    assert text_of(MapNode(1, 1)) is None
    assert text_of(None) is None


def test_a_mapping_looks_up_values_and_keys_by_text() -> None:
    tree = parse(b"a: 1\nb: [x]\n", "t.yaml")
    assert isinstance(tree, MapNode)
    b = tree.get("b")
    assert isinstance(b, SeqNode) and to_plain(b) == ["x"]
    key = tree.key("b")
    assert key is not None and (key.line, key.col) == (2, 1)
    assert tree.get("c") is None and tree.key("c") is None


def test_to_plain_gives_dicts_lists_text_and_none() -> None:
    tree = parse(b"a: [1, ~, {b: c}]\nd:\n", "t.yaml")
    assert to_plain(tree) == {"a": ["1", None, {"b": "c"}], "d": None}
    assert to_plain(None) is None


def test_locate_follows_keys_and_indexes_and_stops_at_the_nearest_ancestor() -> None:
    tree = parse(b"top:\n  - a\n  - k: v\n", "t.yaml")
    assert locate(tree, ["top", 1, "k"]) == (3, 8)
    assert locate(tree, ["top", 0]) == (2, 5)
    assert locate(tree, ["top", 5]) == (1, 1)  # no such index: the key `top`
    assert locate(tree, []) == (1, 1)  # the root itself
    assert locate(None, ["x"]) == (1, 1)
