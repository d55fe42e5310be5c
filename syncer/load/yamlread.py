"""Reading a YAML file's bytes: the checks before parsing. A file is read only when it is no symbolic link,
no bigger than `max_file_bytes` and UTF-8 (with or without a BOM); anything else is refused at its
location, so that the parser (`yamlparse`) only ever sees valid UTF-8 without a BOM."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from syncer.errors import LoadError
from syncer.model import Source
from syncer.problems import Problem


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
    """`data` without its UTF-8 BOM, once it is known to be UTF-8; a UTF-16 or UTF-32 BOM, or the first
    byte that is not UTF-8, is refused at its line and column."""
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


def read_tree_bytes(path: Path, display: str, *, max_bytes: int) -> bytes | Problem:
    """The first half of `load_tree` (yamlparse): the file's bytes, or the problem that keeps it from being
    read (a symbolic link, too big, not UTF-8, unreadable)."""
    if path.is_symlink():
        return symlink_problem(path, display)
    try:
        return read_text_bytes(path, display, max_bytes=max_bytes)
    except LoadError as exc:
        return problem_of(exc, display)
