"""The only place YAML is parsed.

Safe by construction: we never construct Python objects from YAML. libyaml's C parser hands us its event
stream and `TreeBuilder` builds a lean tree of nodes (`yamlnodes`) in which every scalar is the text the
user typed (no YAML 1.1 implicit typing: `yes`, `0012`, `1e3`, `2026-01-01` stay text), every node keeps
its line and column, duplicate keys are refused with both lines, and aliases are never expanded (an alias
is the anchored node itself, and their total expanded size is bounded, so an alias bomb is refused at
once). Plain `~`, `null`, `Null`, `NULL` and empty scalars are null.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
    StreamEndEvent,
)

from syncer.errors import LoadError
from syncer.load.yamlnodes import MapNode, Node, Scalar, SeqNode, kind
from syncer.load.yamlread import problem_of, read_tree_bytes
from syncer.model import Source
from syncer.problems import Problem

NULL_PLAIN = frozenset({"", "~", "null", "Null", "NULL"})
STR_TAGS = frozenset({None, "!", "tag:yaml.org,2002:str"})
MAP_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map"})
SEQ_TAGS = frozenset({None, "!", "tag:yaml.org,2002:seq"})
MAX_DEPTH = 64
ALIAS_BUDGET = 10_000  # nodes that aliases may add on top of a file's own nodes


def load_tree(path: Path, display: str, *, max_bytes: int) -> tuple[Node | None, list[Problem]]:
    """Load a YAML file, turning load failures and duplicate keys into problems (a link is one)."""
    data = read_tree_bytes(path, display, max_bytes=max_bytes)
    if isinstance(data, Problem):
        return None, [data]
    return parse_tree(data, display)


def parse_tree(data: bytes, display: str) -> tuple[Node | None, list[Problem]]:
    """The second half of `load_tree`: the tree, and its duplicate keys or the failure to parse as problems."""
    duplicates: list[LoadError] = []
    try:
        tree = parse(data, display, duplicates=duplicates)
    except LoadError as exc:
        return None, [problem_of(exc, display)]
    return tree, [problem_of(d, display) for d in duplicates]


def parse(data: bytes | str, display: str, *, duplicates: list[LoadError] | None = None) -> Node | None:
    """Parse one YAML document (bytes must be UTF-8 without a BOM) into a tree; None when the text holds no
    document (empty or only comments); see the module doc.

    With a `duplicates` list, duplicate keys are appended to it (the first entry is kept and reading goes
    on, so that every problem of the file can be reported); without one, the first raises."""
    try:
        return TreeBuilder(display, duplicates=duplicates).build(_events(data))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{what} ({exc.context})"
        raise LoadError(f"YAML syntax error: {what}", source=Source(display, line, col)) from None
    except yaml.reader.ReaderError as exc:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise LoadError(
            f"character U+{ord(char):04X} is not allowed in YAML; remove it",
            source=Source(display, line, col),
        ) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"YAML error: {exc}", source=Source(display, 1, 1)) from None


def _events(data: bytes | str) -> Iterator[Event]:
    if not yaml.__with_libyaml__:  # pragma: no cover - PyYAML built without libyaml
        yield from yaml.parse(data, Loader=yaml.SafeLoader)
        return
    get = yaml.CBaseLoader(data).get_event  # libyaml's parser: about 5x faster than PyYAML's own
    event = get()
    while event is not None:
        yield event
        if isinstance(event, StreamEndEvent):
            return
        event = get()


class _Open:
    """A collection still being read. For a mapping: the key that waits for its value, the keys so far (to
    find duplicates) and whether the coming value is dropped (its key is a duplicate)."""

    __slots__ = ("anchor", "key", "keys", "node", "skip")

    def __init__(self, node: MapNode | SeqNode, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.key: Scalar | None = None
        self.keys: dict[str, Scalar] = {}
        self.skip = False


class TreeBuilder:
    """The tree of one document, built from the parser's events: one method per kind of event.

    Its state: the collections still open (innermost last), the anchors defined so far (and those whose
    collection is still open: an alias to one would be recursive), and the node counts that bound what
    aliases may add."""

    __slots__ = (
        "_alias_used",
        "_anchors",
        "_display",
        "_documents",
        "_duplicates",
        "_open",
        "_open_anchors",
        "_own_nodes",
        "_root",
    )

    def __init__(self, display: str, *, duplicates: list[LoadError] | None) -> None:
        self._display = display
        self._duplicates = duplicates
        self._root: Node | None = None
        self._documents = 0
        self._open: list[_Open] = []
        self._anchors: dict[str, Node] = {}
        self._open_anchors: set[str] = set()
        self._alias_used = 0
        self._own_nodes = 0

    def build(self, events: Iterable[Event]) -> Node | None:
        """Read every event; the document's root node (None when there is none)."""
        scalar, start, end, alias, document = self.scalar, self.start, self.end, self.alias, self.document
        for event in events:  # the hot loop: the most frequent events first, methods bound once
            if isinstance(event, ScalarEvent):
                scalar(event)
            elif isinstance(event, CollectionStartEvent):
                start(event)
            elif isinstance(event, CollectionEndEvent):
                end()
            elif isinstance(event, AliasEvent):
                alias(event)
            elif isinstance(event, DocumentStartEvent):
                document(event)
        return self._root

    def scalar(self, event: ScalarEvent) -> None:
        """A scalar: its text as typed (null when plain and one of NULL_PLAIN), line breaks as `\\n`."""
        m = event.start_mark
        assert m is not None  # the parser marks every event
        line, col = m.line + 1, m.column + 1
        style = event.style
        tag = event.tag
        if tag not in STR_TAGS:
            raise LoadError(
                f"YAML tag {tag!r} is not supported; remove it (values are read as the text typed)",
                source=Source(self._display, line, col),
            )
        text = event.value
        if not style and tag is None and text in NULL_PLAIN:
            node = Scalar(None, line, col, False)
        else:
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            node = Scalar(text, line, col, bool(style))
        self._own_nodes += 1
        if event.anchor is not None:
            self._anchors[event.anchor] = node
        self._add(node, line, col)

    def start(self, event: CollectionStartEvent) -> None:
        """A mapping or a list opens: it is added where it stands, then filled until `end`."""
        m = event.start_mark
        assert m is not None  # the parser marks every event
        line, col = m.line + 1, m.column + 1
        is_map = isinstance(event, MappingStartEvent)
        if event.tag not in (MAP_TAGS if is_map else SEQ_TAGS):
            raise LoadError(
                f"YAML tag {event.tag!r} is not supported; remove it", source=Source(self._display, line, col)
            )
        if len(self._open) >= MAX_DEPTH:
            raise LoadError(f"nesting deeper than {MAX_DEPTH} levels", source=Source(self._display, line, col))
        node: MapNode | SeqNode = MapNode(line, col) if is_map else SeqNode(line, col)
        self._own_nodes += 1
        self._add(node, line, col)
        self._open.append(_Open(node, event.anchor))
        if event.anchor is not None:
            self._open_anchors.add(event.anchor)

    def end(self) -> None:
        """The innermost open collection closes: its size counts in its parent's, its anchor may be used."""
        done = self._open.pop()
        if self._open:
            self._open[-1].node.size += done.node.size
        anchor = done.anchor
        if anchor is not None:
            self._open_anchors.discard(anchor)
            self._anchors[anchor] = done.node

    def alias(self, event: AliasEvent) -> None:
        """An alias: the anchored node itself, added again (never copied), its size within the budget."""
        m = event.start_mark
        assert m is not None  # the parser marks every event
        line, col = m.line + 1, m.column + 1
        name = event.anchor
        if name in self._open_anchors:
            raise LoadError(
                f"alias *{name} refers to a node that contains it (a recursive structure)",
                source=Source(self._display, line, col),
            )
        target = self._anchors.get(name) if name is not None else None
        if target is None:  # libyaml reports this itself; kept for the pure-Python parser
            raise LoadError(f"unknown alias *{name}", source=Source(self._display, line, col))
        size = target.size if not isinstance(target, Scalar) else 1
        self._alias_used += size
        if self._alias_used > max(ALIAS_BUDGET, self._own_nodes):
            raise LoadError(
                "aliases expand to too many nodes (an alias bomb?); write the values out instead",
                source=Source(self._display, line, col),
            )
        if self._open:
            self._open[-1].node.size += size
        self._add(target, line, col)

    def document(self, event: DocumentStartEvent) -> None:
        """A document starts: only one is allowed in a file."""
        self._documents += 1
        if self._documents > 1:
            m = event.start_mark
            assert m is not None  # the parser marks every event
            raise LoadError(
                "more than one YAML document (---) in this file; put each in a file of its own",
                source=Source(self._display, m.line + 1, m.column + 1),
            )

    def _add(self, node: Node, line: int, col: int) -> None:
        """Place a node: the root, a list's next item, a mapping's next key, or the value of its key."""
        if not self._open:
            self._root = node
            return
        top = self._open[-1]
        parent = top.node
        if isinstance(parent, SeqNode):
            parent.items.append(node)
            return
        key = top.key
        if key is None:
            top.key = self._key(top, node, line, col)
        else:
            if top.skip:
                top.skip = False
            else:
                parent.items.append((key, node))
            top.key = None

    def _key(self, top: _Open, node: Node, line: int, col: int) -> Scalar:
        """Check a mapping's key: plain text, not null, and not one the mapping has (a duplicate's value is
        dropped when duplicates are collected, else it raises)."""
        if not isinstance(node, Scalar):
            raise LoadError(
                f"a mapping key must be plain text, not {kind(node)}", source=Source(self._display, line, col)
            )
        if node.text is None:
            raise LoadError("empty (null) mapping key", source=Source(self._display, line, col))
        other = top.keys.get(node.text)
        if other is None:
            top.keys[node.text] = node
            return node
        error = LoadError(
            f"duplicate key {node.text!r}: also at line {other.line}; keep one of them",
            source=Source(self._display, line, col),
            code="duplicate-key",
        )
        if self._duplicates is None:
            raise error
        self._duplicates.append(error)
        top.skip = True
        return node
