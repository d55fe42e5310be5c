"""The only place YAML is read.

Safe by construction: we never construct Python objects from YAML. libyaml's C parser hands us its event
stream and we build a lean tree of `Scalar`, `Mapping` and `Sequence` nodes in which every scalar is the
text the user typed (no YAML 1.1 implicit typing: `yes`, `0012`, `1e3`, `2026-01-01` stay text), every node
keeps its line and column, duplicate keys are refused with both lines, and aliases are never expanded
(an alias is the anchored node itself, and their total expanded size is bounded, so an alias bomb is
refused at once). Plain `~`, `null`, `Null`, `NULL` and empty scalars are null.
"""

from __future__ import annotations

import bisect
import codecs
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml import events as ev

from syncer.errors import LoadError
from syncer.model import Source
from syncer.problems import Problem

try:  # libyaml's parser: about 5x faster than the pure-Python one. PyYAML wheels ship it.
    from yaml._yaml import CParser as _CParser

    _Parser: Any = _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = None

NULL_PLAIN = frozenset({"", "~", "null", "Null", "NULL"})
STR_TAGS = frozenset({None, "!", "tag:yaml.org,2002:str"})
MAP_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map"})
SEQ_TAGS = frozenset({None, "!", "tag:yaml.org,2002:seq"})
MAX_DEPTH = 64
ALIAS_BUDGET = 10_000  # nodes that aliases may add on top of a file's own nodes


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


class Mapping:
    """A mapping: `items` keeps the document's order; keys are scalars with non-null, unique text."""

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
        return f"Mapping({len(self.items)} items, {self.line}:{self.col})"


class Sequence:
    __slots__ = ("col", "items", "line", "size")

    def __init__(self, line: int, col: int) -> None:
        self.items: list[Node] = []
        self.line = line
        self.col = col
        self.size = 1

    def __repr__(self) -> str:
        return f"Sequence({len(self.items)} items, {self.line}:{self.col})"


Node = Scalar | Mapping | Sequence


def kind(node: Node) -> str:
    """How a node reads in a message: 'a mapping', 'a list', 'text', 'null'."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    return "null" if node.text is None else "text"


def read_text_bytes(path: Path, display: str, *, max_bytes: int) -> bytes:
    """Read a file's bytes, refusing oversize files and anything but UTF-8 (with or without a BOM).

    Returns the bytes without a BOM, known to be valid UTF-8."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}", source=Source(display, 1, 1)) from exc
    if size > max_bytes:
        raise LoadError(
            f"file is {size:,} bytes, more than max_file_bytes ({max_bytes:,}); split it into smaller files "
            "or raise max_file_bytes in syncer.yaml",
            source=Source(display, 1, 1),
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}", source=Source(display, 1, 1)) from exc
    if len(data) > max_bytes:  # grew between stat and read
        raise LoadError(f"file is larger than max_file_bytes ({max_bytes:,})", source=Source(display, 1, 1))
    return check_utf8(data, display)


def check_utf8(data: bytes, display: str) -> bytes:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise LoadError("file is UTF-32; save it as UTF-8", source=Source(display, 1, 1))
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise LoadError("file is UTF-16; save it as UTF-8", source=Source(display, 1, 1))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise LoadError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            source=Source(display, line, col),
        ) from None
    return data


def load_file(
    path: Path, display: str | None = None, *, max_bytes: int, duplicates: list[LoadError] | None = None
) -> Node | None:
    """Load one YAML file into a tree. None when the file holds no document (empty or only comments).

    With a `duplicates` list, duplicate keys are appended to it (the first entry is kept and reading goes
    on, so that every problem of the file can be reported); without one, the first raises."""
    name = display if display is not None else path.as_posix()
    return parse(read_text_bytes(path, name, max_bytes=max_bytes), name, duplicates=duplicates)


def parse(data: bytes | str, display: str, *, duplicates: list[LoadError] | None = None) -> Node | None:
    """Parse one YAML document (bytes must be UTF-8 without a BOM) into a tree; see the module doc."""
    try:
        return _build(_events(data), display, duplicates)
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


def _events(data: bytes | str) -> Iterator[Any]:
    if _Parser is not None:
        parser = _Parser(data)
        get = parser.get_event
        while True:
            event = get()
            yield event
            if isinstance(event, ev.StreamEndEvent):
                return
    else:  # pragma: no cover
        yield from yaml.parse(data, Loader=yaml.SafeLoader)


def _build(events: Iterator[Any], display: str, duplicates: list[LoadError] | None) -> Node | None:
    root: Node | None = None
    documents = 0
    # Stack of open collections; a mapping entry waits in `pending_key` for its value.
    stack: list[Mapping | Sequence] = []
    skip_value: list[bool] = []  # per open mapping: drop the value of a duplicate key
    pending: list[Scalar | None] = []
    seen: list[dict[str, Scalar]] = []  # the keys of each open mapping, for duplicate detection
    anchors: dict[str, Node] = {}
    open_anchors: set[str] = set()
    anchor_of: list[str | None] = []
    alias_used = 0
    own_nodes = 0

    def add(node: Node, line: int, col: int) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if isinstance(parent, Sequence):
            parent.items.append(node)
            return
        key = pending[-1]
        if key is None:
            if not isinstance(node, Scalar):
                raise LoadError(
                    f"a mapping key must be plain text, not {kind(node)}", source=Source(display, line, col)
                )
            if node.text is None:
                raise LoadError("empty (null) mapping key", source=Source(display, line, col))
            keys = seen[-1]
            other = keys.get(node.text)
            if other is not None:
                error = LoadError(
                    f"duplicate key {node.text!r}: also at line {other.line}; keep one of them",
                    source=Source(display, line, col),
                    code="duplicate-key",
                )
                if duplicates is None:
                    raise error
                duplicates.append(error)
                skip_value[-1] = True
            else:
                keys[node.text] = node
            pending[-1] = node
        else:
            if skip_value[-1]:
                skip_value[-1] = False
            else:
                parent.items.append((key, node))
            pending[-1] = None

    for event in events:
        cls = type(event)
        if cls is ev.ScalarEvent:
            m = event.start_mark
            line, col = m.line + 1, m.column + 1
            style = event.style
            tag = event.tag
            if tag not in STR_TAGS:
                raise LoadError(
                    f"YAML tag {tag!r} is not supported; remove it (values are read as the text typed)",
                    source=Source(display, line, col),
                )
            value: str | None = event.value
            plain = not style
            if plain and tag is None and value in NULL_PLAIN:
                value = None
            elif "\r" in value:  # type: ignore[operator]
                value = value.replace("\r\n", "\n").replace("\r", "\n")  # type: ignore[union-attr]
            node: Node = Scalar(value, line, col, not plain)
            own_nodes += 1
            if event.anchor is not None:
                anchors[event.anchor] = node
            add(node, line, col)
        elif cls is ev.MappingStartEvent or cls is ev.SequenceStartEvent:
            m = event.start_mark
            line, col = m.line + 1, m.column + 1
            is_map = cls is ev.MappingStartEvent
            if event.tag not in (MAP_TAGS if is_map else SEQ_TAGS):
                raise LoadError(
                    f"YAML tag {event.tag!r} is not supported; remove it", source=Source(display, line, col)
                )
            if len(stack) >= MAX_DEPTH:
                raise LoadError(f"nesting deeper than {MAX_DEPTH} levels", source=Source(display, line, col))
            coll: Mapping | Sequence = Mapping(line, col) if is_map else Sequence(line, col)
            own_nodes += 1
            add(coll, line, col)
            stack.append(coll)
            pending.append(None)
            seen.append({})
            skip_value.append(False)
            anchor_of.append(event.anchor)
            if event.anchor is not None:
                open_anchors.add(event.anchor)
        elif cls is ev.MappingEndEvent or cls is ev.SequenceEndEvent:
            done = stack.pop()
            pending.pop()
            seen.pop()
            skip_value.pop()
            anchor = anchor_of.pop()
            if stack:
                stack[-1].size += done.size
            if anchor is not None:
                open_anchors.discard(anchor)
                anchors[anchor] = done
        elif cls is ev.AliasEvent:
            m = event.start_mark
            line, col = m.line + 1, m.column + 1
            name = event.anchor
            if name in open_anchors:
                raise LoadError(
                    f"alias *{name} refers to a node that contains it (a recursive structure)",
                    source=Source(display, line, col),
                )
            target = anchors.get(name)
            if target is None:  # libyaml reports this itself; kept for the pure-Python parser
                raise LoadError(f"unknown alias *{name}", source=Source(display, line, col))
            size = target.size if not isinstance(target, Scalar) else 1
            alias_used += size
            if alias_used > max(ALIAS_BUDGET, own_nodes):
                raise LoadError(
                    "aliases expand to too many nodes (an alias bomb?); write the values out instead",
                    source=Source(display, line, col),
                )
            if stack:
                stack[-1].size += size
            add(target, line, col)
        elif cls is ev.DocumentStartEvent:
            documents += 1
            if documents > 1:
                m = event.start_mark
                raise LoadError(
                    "more than one YAML document (---) in this file; put each in a file of its own",
                    source=Source(display, m.line + 1, m.column + 1),
                )
    return root


def to_plain(node: Node | None) -> Any:
    """The tree as plain Python data (dicts, lists, str, None) for JSON Schema validation."""
    if node is None or isinstance(node, Scalar):
        return None if node is None else node.text
    if isinstance(node, Sequence):
        return [to_plain(n) for n in node.items]
    return {k.text: to_plain(v) for k, v in node.items}


def locate(root: Node | None, path: Any) -> tuple[int, int]:
    """Line and column of the node at a JSON path (keys and indexes) into `root`; the nearest ancestor's
    when the path leads nowhere (e.g. a missing required key)."""
    node = root
    line, col = (node.line, node.col) if node is not None else (1, 1)
    for part in path:
        if isinstance(node, Mapping) and isinstance(part, str):
            key = node.key(part)
            if key is None:
                break
            child = node.get(part)
            line, col = (key.line, key.col)
            node = child
            if isinstance(child, Scalar):
                line, col = child.line, child.col
        elif isinstance(node, Sequence) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
            line, col = node.line, node.col
        else:
            break
    return line, col


def text_of(node: Node | None) -> str | None:
    """The text of a scalar (None for null, or for a mapping or list)."""
    return node.text if isinstance(node, Scalar) else None


def problem_of(exc: LoadError, display: str) -> Problem:
    """A load failure as a problem, at its location (the file's start when it has none)."""
    src = exc.source
    if src is None:
        return Problem(display, 1, 1, "error", exc.code, exc.message)
    return Problem(src.file, src.line, src.col, "error", exc.code, exc.message)


def symlink_problem(path: Path, display: str, what: str = "file") -> Problem:
    """The one rule for links under a root: none is followed. A link can point outside the root (another
    repository's files, /etc) or make a file count twice; either way it is named, never skipped."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return Problem(
        display,
        1,
        1,
        "error",
        "symlink",
        f"this {what} is a symbolic link (to {target!r}): syncer follows no links under a root, which could "
        f"point outside it or count a file twice; put the {what} itself here, or exclude it",
    )


def load_tree(path: Path, display: str, *, max_bytes: int) -> tuple[Node | None, list[Problem]]:
    """Load a YAML file, turning load failures and duplicate keys into problems (a link is one)."""
    data = read_tree_bytes(path, display, max_bytes=max_bytes)
    if isinstance(data, Problem):
        return None, [data]
    return parse_tree(data, display)


def read_tree_bytes(path: Path, display: str, *, max_bytes: int) -> bytes | Problem:
    """The first half of `load_tree`: the file's bytes, or the problem that keeps it from being read (a
    symbolic link, too big, not UTF-8, unreadable)."""
    if path.is_symlink():
        return symlink_problem(path, display)
    try:
        return read_text_bytes(path, display, max_bytes=max_bytes)
    except LoadError as exc:
        return problem_of(exc, display)


def parse_tree(data: bytes, display: str) -> tuple[Node | None, list[Problem]]:
    """The second half of `load_tree`: the tree, and its duplicate keys or the failure to parse as problems."""
    duplicates: list[LoadError] = []
    try:
        tree = parse(data, display, duplicates=duplicates)
    except LoadError as exc:
        return None, [problem_of(exc, display)]
    return tree, [problem_of(d, display) for d in duplicates]


_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what YAML (1.1, as libyaml reads it) counts as a line break


class Comment(NamedTuple):
    """A comment: `text` from its `#` to the end of its line (trailing blanks dropped); 1-based position;
    `own_line` when nothing but blanks precede it on its line."""

    line: int
    col: int
    text: str
    own_line: bool


class Layout(NamedTuple):
    """What the tree does not keep of a file, for tools that rewrite it (syncer fmt)."""

    comments: list[Comment]
    flows: frozenset[tuple[int, int]]  # line, col of every flow collection ({...} or [...])
    references: list[tuple[int, int, str]]  # anchors (&), aliases (*) and directives (%): line, col, which
    explicit_start: bool  # the document opens with ---
    explicit_end: bool  # ... the document closes with ...


_REFERENCE = {"AnchorToken": "&", "AliasToken": "*", "DirectiveToken": "%"}


def line_starts(text: str) -> list[int]:
    """The index where each line of `text` starts, by YAML's own line breaks."""
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def scan_layout(text: str) -> Layout:
    """The comments, flow collections and references of a document that `parse` has accepted.

    Reads libyaml's tokens: everything between two tokens is blanks, line breaks and comments; a block
    scalar's header comment (`key: |  # note`) is inside the scalar's token and found on its first line."""
    starts = line_starts(text)
    comments: list[Comment] = []
    flows: set[tuple[int, int]] = set()
    refs: list[tuple[int, int, str]] = []
    explicit_start = explicit_end = False

    def add_comments(lo: int, hi: int) -> None:
        pos = text.find("#", lo, hi)
        while pos != -1:
            m = _BREAK.search(text, pos, hi)
            end = m.start() if m else hi
            line = bisect.bisect_right(starts, pos)
            own = not text[starts[line - 1] : pos].strip(" \t")
            comments.append(Comment(line, pos - starts[line - 1] + 1, text[pos:end].rstrip(" \t"), own))
            pos = text.find("#", end, hi)

    tokens = _tokens(text)
    prev_end = 0
    for tok in tokens:
        mark = tok.start_mark
        add_comments(prev_end, mark.index)
        name = type(tok).__name__
        if name in ("FlowMappingStartToken", "FlowSequenceStartToken"):
            flows.add((mark.line + 1, mark.column + 1))
        elif name in ("AnchorToken", "AliasToken", "DirectiveToken"):
            refs.append((mark.line + 1, mark.column + 1, _REFERENCE[name]))
        elif name == "DocumentStartToken":
            explicit_start = True
        elif name == "DocumentEndToken":
            explicit_end = True
        elif name == "ScalarToken" and tok.style in ("|", ">"):
            header = _BREAK.search(text, mark.index)
            stop = header.start() if header else len(text)
            hash_at = text.find("#", mark.index, stop)
            if hash_at != -1:
                add_comments(hash_at, stop)
        prev_end = max(prev_end, tok.end_mark.index)
    add_comments(prev_end, len(text))
    return Layout(comments, frozenset(flows), refs, explicit_start, explicit_end)


def _tokens(text: str) -> Iterator[Any]:
    if _Parser is not None:
        parser = _Parser(text)
        while True:
            tok = parser.get_token()
            if tok is None:  # pragma: no cover - libyaml ends with StreamEndToken
                return
            yield tok
            if type(tok).__name__ == "StreamEndToken":
                return
    else:  # pragma: no cover
        yield from yaml.scan(text, Loader=yaml.SafeLoader)
