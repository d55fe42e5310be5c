"""The write of a sheet import: every changed data file written, the root validated again, and every file
put back as it was when anything fails (a file that changed meanwhile, a write, the validation)."""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Sequence
from pathlib import Path

from syncer.errors import RefusedError
from syncer.fsio import atomic_write
from syncer.load.validate import PeopleSourceFactory, validate_root
from syncer.problems import Problem
from syncer.sheet.change import FileChange


class ImportInvalid(RefusedError):
    """The written files made the root invalid; they were put back as they were."""

    def __init__(self, problems: Sequence[Problem], message: str) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


def _bytes(text: str, bom: bool) -> bytes:
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")


def write_changes(
    changes: Sequence[FileChange], *, root: Path, root_display: str, people: PeopleSourceFactory | None
) -> None:
    """Write every change (each file atomically), then validate the root; on any failure put every file
    back as it was. Refused before anything is written when a file changed since it was read."""
    for c in changes:
        if c.old is None:
            if c.path.exists() or c.path.is_symlink():
                raise RefusedError(f"{c.display} appeared while importing; nothing was written")
        elif not c.path.is_file() or c.path.read_bytes() != _bytes(c.old, c.bom):
            raise RefusedError(f"{c.display} changed while importing; nothing was written: run the import again")
    written: list[FileChange] = []
    made: list[Path] = []
    try:
        for c in changes:
            parent = c.path.parent
            missing = []
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for d in reversed(missing):
                d.mkdir()
                made.append(d)
            atomic_write(c.path, _bytes(c.new, c.bom))
            written.append(c)
        check = validate_root(root, root_display=root_display, people=people)
        if not check.ok:
            raise ImportInvalid(
                check.errors,
                "with the edits the metrics root is invalid (the problems are listed above); every file was put "
                "back as it was",
            )
    except BaseException:
        for c in reversed(written):
            if c.old is None:
                c.path.unlink(missing_ok=True)
            else:
                atomic_write(c.path, _bytes(c.old, c.bom))
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
