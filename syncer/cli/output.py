"""The last line of defence between syncer and a CI log: every write to stdout and stderr while a command
runs goes through a `GuardedStream`, so that no text (a file name, a value, a message from Feishu, an
exception's text) can open a GitHub workflow command, whatever renderer or log line it came through.

Renderers escape what they interpolate (`syncer.text.safe`); this guard is what makes a slip harmless: a
line that would start with `::` gets a backslash in front, and `##[` anywhere (the runner's legacy command
prefix) is written `##\\u005b`. The only workflow commands that reach the output are the annotation lines
syncer renders itself, written through `write_commands`, each checked against the one shape syncer
writes.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

import click

from syncer.report.annotations import Annotated
from syncer.text import (
    INVISIBLE,
    LEGACY_COMMAND,
    LEGACY_COMMAND_INERT,
    LINE_BREAKS,
    WORKFLOW_COMMAND_LINE,
    inert_line_start,
    json_escape,
    safe,
)

#: A colon that starts a line after blanks (`\s` is the whitespace str.strip removes): the guard's fast path
#: leaves such text to the line by line path. Two patterns, each with a literal first character, are five
#: times faster over a million-value plan than one `[\r\n]`.
_COLON_AFTER_LF = re.compile(r"\n\s*:")
_COLON_AFTER_CR = re.compile(r"\r\s*:")
_COLON_FIRST = re.compile(r"\s*:")


class GuardedStream:
    """A text stream that writes through to `inner`, making workflow commands inert (see the module)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self._line_blank = True  # nothing but whitespace written on the current line so far
        self._tail = ""  # the current line's last two characters, to catch `##[` split across writes

    def write(self, text: str | bytes) -> int:
        # click writes bytes where it holds bytes (the shell completion scripts): they are UTF-8 text
        shown = text.decode("utf-8", "surrogateescape") if isinstance(text, bytes) else text
        self.inner.write(self.guard(shown))
        return len(text)

    def guard(self, text: str) -> str:
        if self._plain(text):
            # Nothing to change (a plan of a million values is mostly such text): only the line state moves
            # on, as the piece by piece path below would move it.
            cut = max(text.rfind("\n"), text.rfind("\r"))
            if cut >= 0:
                rest = text[cut + 1 :]
                self._line_blank, self._tail = not rest.strip(), rest[-2:]
            elif text:
                self._line_blank = self._line_blank and not text.strip()
                self._tail = (self._tail + text)[-2:]
            return text
        return self._guard_pieces(text)

    def _plain(self, text: str) -> bool:
        """Whether the guard would write `text` as it is: no invisible character, no legacy prefix (also
        with the line's last characters written before), no colon at a line start."""
        return (
            (text.isascii() or INVISIBLE.search(text) is None)
            and LEGACY_COMMAND not in text
            and LEGACY_COMMAND not in self._tail + text[:2]
            and not (self._line_blank and _COLON_FIRST.match(text))
            and _COLON_AFTER_LF.search(text) is None
            and ("\r" not in text or _COLON_AFTER_CR.search(text) is None)
        )

    def _guard_pieces(self, text: str) -> str:
        out: list[str] = []
        for piece in LINE_BREAKS.split(text):
            if not piece:
                continue
            if LINE_BREAKS.fullmatch(piece):
                out.append(piece)
                self._line_blank, self._tail = True, ""
                continue
            if self._line_blank:
                piece = inert_line_start(piece)
                self._line_blank = not piece.strip()
            piece = INVISIBLE.sub(json_escape, piece)
            joined = (self._tail + piece).replace(LEGACY_COMMAND, LEGACY_COMMAND_INERT)
            piece = joined[len(self._tail) :]
            self._tail = joined[-2:]
            out.append(piece)
        return "".join(out)

    def write_commands(self, lines: Sequence[str]) -> None:
        """Annotation lines syncer rendered itself, one per line, each of the shape syncer writes."""
        check_commands(lines)
        if not self._line_blank or self._tail:
            self.inner.write("\n")
        for line in lines:
            self.inner.write(line.replace(LEGACY_COMMAND, LEGACY_COMMAND_INERT) + "\n")
        self._line_blank, self._tail = True, ""

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.inner, "errors", None)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":  # no byte-level back door around the guard
            raise AttributeError(name)
        return getattr(self.inner, name)


def check_commands(lines: Sequence[str]) -> None:
    for line in lines:
        if not WORKFLOW_COMMAND_LINE.match(line):
            raise ValueError(f"not an annotation syncer writes: {line[:60]!r}")


def write_commands(lines: Sequence[str], *, err: bool = False) -> None:
    """Write annotation lines to stdout (or stderr): through the guard's one open door when it is
    installed."""
    out = sys.stderr if err else sys.stdout
    if isinstance(out, GuardedStream):
        out.write_commands(lines)
        return
    check_commands(lines)
    for line in lines:
        out.write(line + "\n")


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Guard stdout and stderr for the duration of a command; put the originals back afterwards."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, GuardedStream):
        sys.stdout = GuardedStream(sys.stdout)
    if not isinstance(sys.stderr, GuardedStream):
        sys.stderr = GuardedStream(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved


def emit(out: str | Annotated, *, nl: bool = True, err: bool = False) -> None:
    """Print a renderer's output: annotations (written as commands), then text (guarded like all text)."""
    if isinstance(out, Annotated):
        write_commands(out.commands, err=err)
        out = out.text
    if out or nl:
        click.echo(out, nl=nl, err=err)


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print one message of syncer's own that quotes names, paths or values: made one inert line (`safe`)."""
    click.echo(safe(text), err=err, nl=nl)
