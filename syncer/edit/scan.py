"""What the tree (syncer.load.yamlnodes) does not keep of a file, found in libyaml's tokens: its comments,
its flow collections, its anchors, aliases and directives, and its document markers; for the tools that
write a file out again in one layout (`syncer fmt`, through syncer.edit.layout)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import NamedTuple

import yaml
from yaml.tokens import (
    AliasToken,
    AnchorToken,
    DirectiveToken,
    DocumentEndToken,
    DocumentStartToken,
    FlowMappingStartToken,
    FlowSequenceStartToken,
    ScalarToken,
    StreamEndToken,
    Token,
)

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


def line_starts(text: str) -> list[int]:
    """The index where each line of `text` starts, by YAML's own line breaks."""
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def scan_layout(text: str) -> Layout:
    """The comments, flow collections and references of a document that `parse` (syncer.load.yamlparse)
    has accepted.

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

    prev_end = 0
    for tok in _tokens(text):
        mark = tok.start_mark
        add_comments(prev_end, mark.index)
        if isinstance(tok, FlowMappingStartToken | FlowSequenceStartToken):
            flows.add((mark.line + 1, mark.column + 1))
        elif isinstance(tok, AnchorToken | AliasToken | DirectiveToken):
            refs.append((mark.line + 1, mark.column + 1, _REFERENCE[type(tok)]))
        elif isinstance(tok, DocumentStartToken):
            explicit_start = True
        elif isinstance(tok, DocumentEndToken):
            explicit_end = True
        elif isinstance(tok, ScalarToken) and tok.style in ("|", ">"):
            header = _BREAK.search(text, mark.index)
            stop = header.start() if header else len(text)
            hash_at = text.find("#", mark.index, stop)
            if hash_at != -1:
                add_comments(hash_at, stop)
        prev_end = max(prev_end, tok.end_mark.index)
    add_comments(prev_end, len(text))
    return Layout(comments, frozenset(flows), refs, explicit_start, explicit_end)


_REFERENCE: dict[type[Token], str] = {AnchorToken: "&", AliasToken: "*", DirectiveToken: "%"}


def _tokens(text: str) -> Iterator[Token]:
    if not yaml.__with_libyaml__:  # pragma: no cover - PyYAML built without libyaml
        yield from yaml.scan(text, Loader=yaml.SafeLoader)
        return
    get = yaml.CBaseLoader(text).get_token  # libyaml's scanner: the same reading as syncer.load.yamlparse's
    tok = get()
    while tok is not None:  # libyaml ends with StreamEndToken
        yield tok
        if isinstance(tok, StreamEndToken):
            return
        tok = get()
