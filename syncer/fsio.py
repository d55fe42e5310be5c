"""Durable file writes for the local backend: atomic replace and append, each step a named fault point.

`atomic_write`: temp file in the same directory, write, fsync, rename over the target, fsync the directory
(pre-commit's store.py, made durable). `durable_append`: write the whole line to an append-only file, then
fsync. A `Faults` callback is called with the name of each step before it runs; tests make it raise to
simulate a process killed at that instant.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

Faults = Callable[[str], None]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def no_faults(step: str) -> None:
    """The production fault hook: nothing happens."""


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open directories (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, *, faults: Faults, step: str, chunk: int) -> None:
    view = memoryview(data)
    while view:
        faults(step)
        written = os.write(fd, view[:chunk])
        view = view[written:]


def atomic_write(
    path: Path, text: str | bytes | Iterable[str], *, faults: Faults = no_faults, chunk: int = 1 << 20
) -> None:
    """Replace `path` with `text` (or its pieces, written as they come; bytes as they are) so that a crash
    leaves either the old file or the new one, never a mix."""
    pieces = [text] if isinstance(text, str | bytes) else text
    name = path.name
    faults(f"{name}:tmp")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600: give the file the mode open() would
        for piece in pieces:
            data = piece if isinstance(piece, bytes) else piece.encode("utf-8")
            _write_all(fd, data, faults=faults, step=f"{name}:write", chunk=chunk)
        faults(f"{name}:fsync")
        os.fsync(fd)
        os.close(fd)
        fd = -1
        faults(f"{name}:rename")
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    faults(f"{name}:fsync-dir")
    fsync_dir(path.parent)


def durable_append(path: Path, text: str, *, faults: Faults = no_faults, chunk: int = 1 << 20) -> None:
    """Append `text` (whole lines) and fsync. A crash mid-write leaves a torn last line that readers
    ignore and the next writer truncates (see `truncate_torn`)."""
    data = text.encode("utf-8")
    name = path.name
    existed = path.exists()
    faults(f"{name}:open")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write_all(fd, data, faults=faults, step=f"{name}:append", chunk=chunk)
        faults(f"{name}:fsync")
        os.fsync(fd)
    finally:
        os.close(fd)
    if not existed:
        faults(f"{name}:fsync-dir")
        fsync_dir(path.parent)


def truncate_torn(path: Path, complete_bytes: int) -> None:
    """Cut a torn last line off an append-only file, so that the next append starts on a fresh line."""
    if path.exists() and path.stat().st_size > complete_bytes:
        with open(path, "r+b") as f:
            f.truncate(complete_bytes)
            f.flush()
            os.fsync(f.fileno())


def remove_durably(path: Path, *, faults: Faults = no_faults) -> None:
    faults(f"{path.name}:unlink")
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fsync_dir(path.parent)
