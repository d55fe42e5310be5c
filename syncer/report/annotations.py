"""GitHub annotations: workflow command lines built in one place, with every property and message
escaped, and kept apart from the plain text that follows them so the output guard can tell the commands
syncer wrote from text that only looks like one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syncer.text import safe

Level = Literal["error", "warning", "notice"]


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF as GitHub's escapes, other controls made visible."""
    return safe(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: Level, message: str, *, title: str, file: str | None = None, line: int = 0, col: int = 0) -> str:
    """One `::level file=...,line=...,col=...,title=...::message` line."""
    props = [f"file={escape_property(file)}", f"line={line}", f"col={col}"] if file else []
    props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


@dataclass(frozen=True)
class Annotated:
    """Output for `--format github`: the annotation lines, then plain text."""

    commands: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        head = "".join(c + "\n" for c in self.commands)
        return head + self.text
