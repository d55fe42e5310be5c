"""Editing a YAML file as text, so that everything the user wrote (comments, order, quoting, spacing) stays
exactly as it was: insertions and line replacements are collected, placed with the line numbers the loader
keeps (syncer.load.yamlnodes), and applied bottom-up so that the numbers stay valid."""

from __future__ import annotations

from collections.abc import Iterable

from syncer.load.yamlnodes import MapNode, Node, Scalar


def last_line(node: Node) -> int:
    if isinstance(node, Scalar):
        return node.line
    best = node.line
    children: Iterable[Node] = [n for kv in node.items for n in kv] if isinstance(node, MapNode) else node.items
    for child in children:
        best = max(best, last_line(child))
    return best


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_content(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


class TextEdits:
    """The file as lines, with insertions collected and applied bottom-up (so line numbers stay valid)."""

    def __init__(self, text: str) -> None:
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.lines = text.splitlines()
        self.final_newline = text.endswith(("\n", "\r"))
        self.inserts: list[tuple[int, int, int, list[str]]] = []  # (index, indent, order, lines)
        self.replaced: dict[int, str] = {}

    def char_at(self, line: int, col: int) -> str:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return text[col - 1] if 0 < col <= len(text) else ""

    def insert(self, index: int, lines: list[str]) -> None:
        """Insert `lines` before line `index` (0-based). At one index, deeper blocks come first (a field of
        the last metric before a new metric), then in the order asked."""
        indent = min((indent_of(x) for x in lines if x.strip()), default=0)
        self.inserts.append((index, indent, len(self.inserts), lines))

    def end_of_block(self, start_line: int, node: Node | None, child_indent: int) -> int:
        """The index after the last line of a block (its key at `start_line`, its value `node`): continuation
        lines deeper than `child_indent` included, trailing comments and blank lines not."""
        last = max(start_line, last_line(node) if node is not None else start_line)
        while last < len(self.lines) and is_content(self.lines[last]) and indent_of(self.lines[last]) > child_indent:
            last += 1
        return last

    def render(self) -> str:
        lines = [self.replaced.get(i, line) for i, line in enumerate(self.lines)]
        for index, _, _, new in sorted(self.inserts, key=lambda t: (-t[0], t[1], -t[2])):
            lines[index:index] = new
        text = self.newline.join(lines)
        return text + self.newline if lines and (self.final_newline or self.inserts) else text
