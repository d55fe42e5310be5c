"""The tree that `yamlparse` builds of a YAML file: `Scalar`, `MapNode` and `SeqNode`, each with its 1-based
line and column, and the few questions every reader of the tree asks (its kind in a message, a scalar's
text, the tree as plain data, the location of a JSON path)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Scalar:
    """A scalar: `text` is what was typed (None for null); line and col are 1-based."""

    __slots__ = ("col", "line", "quoted", "text")

    def __init__(self, text: str | None, line: int, col: int, quoted: bool) -> None:
        self.text = text
        self.line = line
        self.col = col
        self.quoted = quoted

    def __repr__(self) -> str:
        return f"Scalar({self.text!r}, {self.line}:{self.col})"


class MapNode:
    """A mapping: `items` keeps the document's order; keys are scalars with non-null, unique text. `size`
    counts the collections in it, itself included, and what the aliases in it add: what an alias to it
    costs of the alias budget (yamlparse)."""

    __slots__ = ("col", "items", "line", "size")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[tuple[Scalar, Node]] = []
        self.line = line
        self.col = col
        self.size = 1

    def get(self, key: str) -> Node | None:
        for k, v in self.items:
            if k.text == key:
                return v
        return None

    def key(self, key: str) -> Scalar | None:
        for k, _ in self.items:
            if k.text == key:
                return k
        return None

    def __repr__(self) -> str:
        return f"MapNode({len(self.items)} items, {self.line}:{self.col})"


class SeqNode:
    """A list: `items` in the document's order; `size` as for `MapNode`."""

    __slots__ = ("col", "items", "line", "size")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[Node] = []
        self.line = line
        self.col = col
        self.size = 1

    def __repr__(self) -> str:
        return f"SeqNode({len(self.items)} items, {self.line}:{self.col})"


Node = Scalar | MapNode | SeqNode


def kind(node: Node) -> str:
    """How a node reads in a message: 'a mapping', 'a list', 'text', 'null'."""
    if isinstance(node, MapNode):
        return "a mapping"
    if isinstance(node, SeqNode):
        return "a list"
    return "null" if node.text is None else "text"


def text_of(node: Node | None) -> str | None:
    """The text of a scalar (None for null, or for a mapping or list)."""
    return node.text if isinstance(node, Scalar) else None


def to_plain(node: Node | None) -> Any:
    """The tree as plain Python data (dicts, lists, str, None) for JSON Schema validation."""
    if node is None or isinstance(node, Scalar):
        return None if node is None else node.text
    if isinstance(node, SeqNode):
        return [to_plain(n) for n in node.items]
    return {k.text: to_plain(v) for k, v in node.items}


def locate(root: Node | None, path: Sequence[str | int]) -> tuple[int, int]:
    """Line and column of the node at a JSON path (keys and indexes) into `root`; the nearest ancestor's
    when the path leads nowhere (e.g. a missing required key)."""
    node = root
    line, col = (node.line, node.col) if node is not None else (1, 1)
    for part in path:
        if isinstance(node, MapNode) and isinstance(part, str):
            key = node.key(part)
            if key is None:
                break
            child = node.get(part)
            line, col = (key.line, key.col)
            node = child
            if isinstance(child, Scalar):
                line, col = child.line, child.col
        elif isinstance(node, SeqNode) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
            line, col = node.line, node.col
        else:
            break
    return line, col
