"""Whether a file is already in the canonical layout (syncer.edit.layout), told in one pass over libyaml's
events, no tree built: what makes `syncer fmt --check` of a large, formatted root cost about a parse.

The pass writes, line by line, what `layout.render` writes for a document without comments, and compares
each line with the file's as it goes. It answers True only when the whole file is that text, and False
as soon as a line differs or it cannot tell: a value over several lines, a duplicate key, keys out of
order, a mapping whose values are aligned (the catalog's fields), nesting the loader refuses, line breaks
other than `\\n`, anything libyaml refuses. Comments are allowed only as a header of whole-line comments
at the top. What the layout never writes needs no check of its own: a comment elsewhere, a flow
collection (`{...}`, `[...]`), an anchor (and so an alias) or a tag, `---` or `...` leave text on a line
that no written line equals. False only means "not shown formatted here": the full path
(syncer.edit.fmt.reformat) then decides, so the verdict is always the full path's (tests/edit/
test_formatted.py holds the two to agree on many generated and mutated files).
"""

from __future__ import annotations

from collections.abc import Callable

import yaml
from yaml.events import (
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from syncer.edit.layout import Path, Rules
from syncer.edit.scalars import double_quoted, plain_ok
from syncer.load.yamlparse import MAX_DEPTH, NULL_PLAIN

_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")  # YAML line breaks that str.split("\n") would not see


class _Unsure(Exception):
    """The pass cannot tell, or the file is not in the layout: False, and the full path decides."""


class _Block:
    """A block collection being read: its indentation, its path, and for a mapping the key whose value is
    awaited (its line as written, `key:`, until the value shows how it goes on)."""

    __slots__ = ("count", "head", "is_map", "item", "key", "keys", "pad", "path", "rank", "ranks")

    def __init__(self, is_map: bool, pad: str, path: Path, ranks: dict[str, int], item: str | None) -> None:
        self.is_map = is_map
        self.pad = pad
        self.path = path
        self.ranks = ranks  # the keys that come first (Rules.order), by rank
        self.rank = 0  # the rank of the last key: the layout keeps keys in rank order
        self.keys: set[str] = set()
        self.head: str | None = None  # a mapping's key line, waiting for its value
        self.key = ""
        self.item = item  # a list item's mapping: its first key goes on the `- ` line
        self.count = 0  # a list's items so far


def is_formatted(text: str, rules: Rules) -> bool:
    """True when `text` (decoded, no byte order mark) is certainly what the full path would write for it
    under `rules`: it loads, has no construct fmt refuses, and is in the canonical layout. False when it is
    not, or when this pass cannot tell (see the module doc)."""
    if not yaml.__with_libyaml__:  # pragma: no cover - PyYAML built without libyaml: the full path only
        return False
    if any(b in text for b in _OTHER_BREAKS):
        return False
    lines = text.split("\n")
    if lines[-1]:  # the layout ends with a line break
        return False
    start = _header(lines)
    if start is None:
        return False
    try:
        return _Pass(lines, rules).run(yaml.CBaseLoader(text).get_event, start)
    except (_Unsure, yaml.YAMLError):
        return False


def _header(lines: list[str]) -> int | None:
    """The index of the first line after the header of whole-line comments (None when the header is not in
    the layout: blank lines are empty, at most one in a row, none first; comments have no trailing blanks).
    A blank line last is left to the pass: the layout keeps it only before an entry."""
    end = 0
    while end < len(lines) - 1 and (lines[end].startswith("#") or not lines[end].strip()):
        line = lines[end]
        if line.startswith("#"):
            if line != line.rstrip(" \t"):
                return None
        elif line or not lines[end - 1]:  # (first, lines[-1] is the empty one after the last line break)
            return None
        end += 1
    return end - 1 if end and not lines[end - 1] else end


class _Pass:
    def __init__(self, lines: list[str], rules: Rules) -> None:
        self.lines = lines
        self.rules = rules
        self.at = 0  # the next line of the file to compare
        self.opened = False  # the last line written opens a block: no blank line after it

    def _write(self, line: str, *, opens: bool = False) -> None:
        if self.lines[self.at] != line:
            raise _Unsure
        self.at += 1
        self.opened = opens

    def _gap(self, line: int) -> None:
        """The blank line the layout keeps before an entry (at `line`, 1-based) that had one, but not first in
        the document or a block, nor after a blank line. (Before the first line written, `lines[self.at -
        1]` is the empty one after the file's last line break.)"""
        lines = self.lines
        if not self.opened and lines[self.at - 1] and not lines[line - 2].strip():
            self._write("")

    def _value(self, text: str | None, quoted: bool, path: Path) -> str:
        """A one-line scalar as the layout writes it after `key: ` or `- ` (empty for null)."""
        if text is None:
            return ""
        if quoted or self.rules.quote(path, text) or not plain_ok(text):
            if "\n" in text:  # a literal block or not: left to the full path
                raise _Unsure
            return double_quoted(text)
        return text

    def run(self, get: Callable[[], Event | None], start: int) -> bool:
        self.at = start
        stack: list[_Block] = []
        while True:  # the other events (the stream's, the document's, an alias) write no line
            event = get()
            kind = type(event)
            if kind is ScalarEvent:
                assert isinstance(event, ScalarEvent)
                self._scalar(event, stack)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                assert isinstance(event, MappingStartEvent | SequenceStartEvent)
                if len(stack) >= MAX_DEPTH:  # refused by the loader
                    raise _Unsure
                stack.append(self._open(kind is MappingStartEvent, event, stack[-1] if stack else None))
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
            elif kind is StreamEndEvent:
                return self.at == len(self.lines) - 1

    def _open(self, is_map: bool, event: MappingStartEvent | SequenceStartEvent, top: _Block | None) -> _Block:
        """A block collection starts: the line that leads to it written, its own state returned."""
        item = None
        path: Path
        if top is None:
            pad, path = "", ()
        elif top.is_map:
            if top.head is None:  # a collection as a key: refused by the loader
                raise _Unsure
            self._write(top.head, opens=True)
            top.head = None
            pad, path = top.pad + "  ", (*top.path, top.key)
        else:
            assert event.start_mark is not None  # the parser marks every event
            self._gap(event.start_mark.line + 1)
            pad, path = top.pad + "  ", (*top.path, top.count)
            top.count += 1
            if is_map:
                item = top.pad + "- "
            else:
                self._write(top.pad + "-", opens=True)
        ranks: dict[str, int] = {}
        if is_map:
            if self.rules.aligned(path):
                raise _Unsure
            ranks = {k: i for i, k in enumerate(self.rules.order(path))}
        return _Block(is_map, pad, path, ranks, item)

    def _scalar(self, event: ScalarEvent, stack: list[_Block]) -> None:
        value, style = event.value, event.style
        if not stack or "\r" in value:  # a document that is a scalar; a line break the loader rewrites
            raise _Unsure
        text = None if not style and value in NULL_PLAIN else value  # as the loader reads it (a tag: no line matches)
        top = stack[-1]
        if not top.is_map:
            assert event.start_mark is not None  # the parser marks every event
            self._gap(event.start_mark.line + 1)
            shown = self._value(text, bool(style), (*top.path, top.count))
            top.count += 1
            self._write(f"{top.pad}- {shown}" if shown else f"{top.pad}-")
        elif top.head is not None:  # the value of the key before
            shown = self._value(text, bool(style), (*top.path, top.key))
            self._write(f"{top.head} {shown}" if shown else top.head)
            top.head = None
        else:  # a key
            if text is None or text in top.keys:  # refused by the loader (a null key, a duplicate)
                raise _Unsure
            top.keys.add(text)
            rank = top.ranks.get(text, len(top.ranks))
            if rank < top.rank:
                raise _Unsure
            top.rank = rank
            key = text
            if style or self.rules.quote_key(top.path, text) or not plain_ok(text):
                key = double_quoted(text)
            if top.item is not None:  # a list item's first key: the item's blank line was written
                prefix, top.item = top.item, None
            else:
                assert event.start_mark is not None  # the parser marks every event
                self._gap(event.start_mark.line + 1)
                prefix = top.pad
            top.head = f"{prefix}{key}:"
            top.key = text
