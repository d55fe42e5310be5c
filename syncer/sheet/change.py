"""One data file as a sheet import would leave it: its text before and after, and what the edit counts.
The plan produces these, the dry run prints their diffs, the write puts them on disk."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileChange:
    path: Path
    rel: str
    display: str
    old: str | None  # None: a new file
    new: str
    bom: bool
    updated: int
    added: int
    rows_added: int

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.new.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old, new, fromfile="/dev/null" if self.old is None else f"a/{self.display}", tofile=f"b/{self.display}"
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
