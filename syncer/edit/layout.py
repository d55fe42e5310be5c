"""One layout for a YAML document, comments kept: the tree (syncer.load.yamlnodes) written out again, with
what the tree does not keep (syncer.edit.scan).

Block mappings and lists are indented two spaces a level, flow collections (`{...}`, `[...]`) stay flow on
one line, keys follow the order `Rules` gives, and each scalar is written plain when it reads back as the
same text, else double-quoted (or as a literal block when it has line breaks); a scalar the user quoted
stays quoted. Comments travel with the entry they belong to:

- a comment after content on a line stays at the end of that entry's line, at its column when there is
  room, else two spaces after the content;
- a comment on a line of its own goes with the entry below it, at that entry's indentation; one indented
  deeper than the entry below ends the block above and stays there;
- one blank line is kept where the file had one or more, except at the start of a block.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syncer.edit.scalars import double_quoted, plain_in, scalar
from syncer.edit.scan import Comment, Layout, line_starts
from syncer.load.yamlnodes import MapNode, Node, Scalar, SeqNode

Path = tuple[str | int, ...]


def _no_order(path: Path) -> Sequence[str]:
    return ()


def _never(path: Path, text: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Rules:
    """What depends on the kind of file: `order(path)` the keys that come first, in that order (the others
    keep theirs, after them); `quote(path, text)` whether the plain scalar at `path` must be quoted anyway
    (an ID, a value another YAML reader would misread); `quote_key` the same for a key of the mapping at
    `path`; `aligned(path)` whether the mapping's one-line values start in one column."""

    order: Callable[[Path], Sequence[str]] = _no_order
    quote: Callable[[Path, str], bool] = _never
    quote_key: Callable[[Path, str], bool] = _never
    aligned: Callable[[Path], bool] = lambda path: False


@dataclass(eq=False, slots=True)
class _Anchor:
    """An entry of a block collection (a key, or a list item), with the comments that go with it."""

    line: int
    col: int
    depth: int
    parent: _Anchor | None
    blank_before: bool
    leading: list[tuple[Comment, bool]] = field(default_factory=list)
    trailing: list[Comment] = field(default_factory=list)
    trailers: list[tuple[Comment, bool]] = field(default_factory=list)


def render(text: str, tree: Node | None, layout: Layout, rules: Rules) -> str:
    """The document `text` (whose tree is `tree` and layout `layout`) in the canonical layout."""
    return _Writer(text, tree, layout, rules).run()


class _Writer:
    def __init__(self, text: str, tree: Node | None, layout: Layout, rules: Rules) -> None:
        self.rules = rules
        self.layout = layout
        starts = line_starts(text)
        ends = [*starts[1:], len(text)]
        self.blank = [not text[a:b].strip() for a, b in zip(starts, ends, strict=True)]
        self.anchors: dict[int, _Anchor] = {}
        self.order: list[_Anchor] = []
        self.tree = tree
        if tree is not None:
            self._collect(tree, 0, None)
        self.order.sort(key=lambda a: (a.line, a.col, a.depth))
        self.keys = [(a.line, a.col, a.depth) for a in self.order]
        self.head: list[tuple[Comment, bool]] = []  # comments of a document without entries
        self.tail: list[tuple[Comment, bool]] = []
        self._attach()
        self.out: list[str] = []
        self.opened = False  # the last line opens a block: no blank line after it

    def _blank_before(self, line: int) -> bool:
        return line >= 2 and self.blank[line - 2]

    # -- which comment goes with which entry --

    def _collect(self, node: Node, depth: int, parent: _Anchor | None) -> None:
        if isinstance(node, Scalar) or self._flow(node):
            return
        children = [(k, v) for k, v in node.items] if isinstance(node, MapNode) else [(v, v) for v in node.items]
        for at, value in children:
            anchor = _Anchor(at.line, at.col, depth, parent, self._blank_before(at.line))
            self.anchors[id(at)] = anchor
            self.order.append(anchor)
            self._collect(value, depth + 1, anchor)

    def _flow(self, node: MapNode | SeqNode) -> bool:
        return (node.line, node.col) in self.layout.flows

    def _attach(self) -> None:
        for c in self.layout.comments:
            at = bisect.bisect_left(self.keys, (c.line, c.col, -1))
            before = self.order[at - 1] if at > 0 else None
            after = self.order[at] if at < len(self.order) else None
            blank = self._blank_before(c.line)
            if not c.own_line:
                if before is not None:
                    before.trailing.append(c)
                elif after is not None:
                    after.leading.append((c, blank))
                else:
                    self.head.append((c, blank))
                continue
            if after is not None and c.col <= after.col:
                after.leading.append((c, blank))
                continue
            owner = before
            while owner is not None and owner.col > c.col:
                owner = owner.parent
            if owner is not None:
                owner.trailers.append((c, blank))
            elif after is not None:
                after.leading.append((c, blank))
            elif before is not None:
                self.tail.append((c, blank))
            else:
                self.head.append((c, blank))

    # -- writing --

    def run(self) -> str:
        if self.layout.explicit_start:
            self._line("---")
        self._comments(self.head, 0)
        node = self.tree
        if isinstance(node, MapNode) and not self._flow(node):
            self._mapping(node, 0, ())
        elif isinstance(node, SeqNode) and not self._flow(node):
            self._sequence(node, 0, ())
        elif node is not None:
            self._line(self._inline(node, (), flow=False, indent=0))
        self._comments(self.tail, 0)
        if self.layout.explicit_end:
            self._line("...")
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    def _line(self, line: str, *, opens: bool = False) -> None:
        self.out.append(line.rstrip(" ") if line.strip() else line)
        self.opened = opens

    def _gap(self, blank: bool) -> None:
        if blank and self.out and self.out[-1] and not self.opened:
            self.out.append("")

    def _comments(self, comments: list[tuple[Comment, bool]], indent: int) -> None:
        for c, blank in comments:
            self._gap(blank)
            self._line(" " * indent + c.text)

    def _head(self, anchor: _Anchor, line: str, *, opens: bool, more: Sequence[str] = ()) -> None:
        """An entry's first line, with its comments from the end of lines; then its other lines."""
        indent = len(line) - len(line.lstrip(" "))
        comments = anchor.trailing
        for c in comments[:-1]:  # several end-of-line comments (a flow collection over lines): all but one above
            self._line(" " * indent + c.text)
        if comments:
            c = comments[-1]
            line = line.rstrip(" ")
            line += " " * max(c.col - 1 - len(line), 2) + c.text
        self._line(line, opens=opens and not more)
        for extra in more:
            self.out.append(extra)
            self.opened = False

    def _entries(self, m: MapNode, path: Path) -> list[tuple[Scalar, Node]]:
        first = {k: i for i, k in enumerate(self.rules.order(path))}
        ranked = sorted(enumerate(m.items), key=lambda t: (first.get(t[1][0].text or "", len(first)), t[0]))
        return [kv for _, kv in ranked]

    def _key(self, k: Scalar, path: Path, *, flow: bool) -> str:
        text = k.text or ""
        if k.quoted or self.rules.quote_key(path, text) or not plain_in(text, flow=flow):
            return double_quoted(text)
        return text

    def _is_block(self, node: Node) -> bool:
        return not isinstance(node, Scalar) and not self._flow(node)

    def _mapping(self, m: MapNode, indent: int, path: Path, *, first_prefix: str | None = None) -> None:
        entries = self._entries(m, path)
        width = 0
        if self.rules.aligned(path):
            width = max(
                (len(self._key(k, path, flow=False)) + 1 for k, v in entries if not self._is_block(v)), default=0
            )
        pad = " " * indent
        for i, (k, v) in enumerate(entries):
            anchor = self.anchors[id(k)]
            prefix = pad
            if i == 0 and first_prefix is not None:
                prefix = first_prefix  # a list item's first entry: its comments go above the `- ` line
                self._comments(anchor.leading, len(first_prefix) - 2)
            else:
                self._comments(anchor.leading, indent)
                self._gap(anchor.blank_before)
            ktext = self._key(k, path, flow=False)
            sub = (*path, k.text or "")
            head = f"{prefix}{ktext}:"
            if isinstance(v, MapNode) and not self._flow(v):
                self._head(anchor, head, opens=True)
                self._mapping(v, indent + 2, sub)
            elif isinstance(v, SeqNode) and not self._flow(v):
                self._head(anchor, head, opens=True)
                self._sequence(v, indent + 2, sub)
            else:
                value = self._inline(v, sub, flow=False, indent=indent)
                first, *more = value.split("\n")
                spaces = " " * (1 + max(0, width - len(ktext) - 1)) if first else ""
                self._head(anchor, head + spaces + first, opens=False, more=more)
            self._comments(anchor.trailers, indent)

    def _sequence(self, s: SeqNode, indent: int, path: Path) -> None:
        pad = " " * indent
        for i, item in enumerate(s.items):
            anchor = self.anchors[id(item)]
            self._comments(anchor.leading, indent)
            self._gap(anchor.blank_before)
            sub = (*path, i)
            if isinstance(item, MapNode) and not self._flow(item) and item.items:
                self._item_mapping(anchor, item, indent, sub)
            elif isinstance(item, SeqNode) and not self._flow(item):
                self._head(anchor, f"{pad}-", opens=True)
                self._sequence(item, indent + 2, sub)
            else:
                first, *more = self._inline(item, sub, flow=False, indent=indent).split("\n")
                self._head(anchor, f"{pad}- {first}".rstrip(" "), opens=False, more=more)
            self._comments(anchor.trailers, indent)

    def _item_mapping(self, anchor: _Anchor, item: MapNode, indent: int, path: Path) -> None:
        """A mapping as a list item: its first entry on the `- ` line (the item's comments go with it)."""
        entries = self._entries(item, path)
        first = self.anchors[id(entries[0][0])]
        first.trailing[:0] = anchor.trailing
        anchor.trailing = []
        self._mapping(item, indent + 2, path, first_prefix=" " * indent + "- ")

    def _inline(self, node: Node, path: Path, *, flow: bool, indent: int) -> str:
        if isinstance(node, Scalar):
            text = node.text
            if text is None:
                return "null" if flow else ""
            if node.quoted or self.rules.quote(path, text) or not plain_in(text, flow=flow):
                if not flow and "\n" in text:
                    written = scalar(text, indent=indent)
                    if written.startswith("|"):
                        return written
                return double_quoted(text)
            return text
        if isinstance(node, SeqNode):
            return (
                "["
                + ", ".join(self._inline(n, (*path, i), flow=True, indent=0) for i, n in enumerate(node.items))
                + "]"
            )
        parts = [
            f"{self._key(k, path, flow=True)}: {self._inline(v, (*path, k.text or ''), flow=True, indent=0)}"
            for k, v in self._entries(node, path)
        ]
        return "{" + ", ".join(parts) + "}"
