"""Durable file writes for the local backend: atomic replace and append, each step a named fault point;
and the sealed entries of syncer's caches.

`atomic_write`: temp file in the same directory, write, fsync, rename over the target, fsync the directory
(pre-commit's store.py, made durable). `durable_append`: write the whole line to an append-only file, then
fsync. A `Faults` callback is called with the name of each step before it runs; tests make it raise to
simulate a process killed at that instant.

Caches (the check cache, the decoded state cache): `private_dir` says whether a directory is this user's
own and nobody else's to write; `write_sealed` replaces an entry (0600, through a rename, no fsync: a lost
entry is only a miss) as a magic line, the sha256 of the payload and the payload; `read_sealed` gives the
payload back only when the magic and the digest match, so that a torn or damaged entry is never decoded.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
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
    import tempfile  # with shutil and random: not on a run that writes nothing

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


def write_output(path: Path, text: str | bytes | Iterable[str]) -> None:
    """A file a user asked for (`--out`, `--report`): replaced atomically when it is a plain file or new, but
    written in place when it is a device, a pipe or a symlink (`/dev/stdout`, a FIFO, a link the user keeps):
    a rename would put a plain file where the device or the link was."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        pieces = [text] if isinstance(text, str | bytes) else text
        with open(path, "wb") as f:
            for piece in pieces:
                f.write(piece if isinstance(piece, bytes) else piece.encode("utf-8"))
        return
    atomic_write(path, text)


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


#: What to do about the failures of a write that are the machine's, not syncer's.
_REMEDIES = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space or ask for a larger disk quota",
    errno.EROFS: "the file system is read-only: write to another place",
    errno.EACCES: "write to a place you may write to, or fix its permissions",
    errno.EPERM: "write to a place you may write to, or fix its permissions",
    errno.EIO: "the disk or network file system failed: check it",
}


def os_error_text(exc: OSError) -> str:
    """An operating system's refusal in words, and what to do about it: `No space left on device [ENOSPC]:
    free some space`. Names no path (the caller's message does)."""
    reason = exc.strerror or type(exc).__name__
    code = errno.errorcode.get(exc.errno, "") if isinstance(exc.errno, int) else ""
    if code:
        reason = f"{reason} [{code}]"
    remedy = _REMEDIES.get(exc.errno) if isinstance(exc.errno, int) else None
    return f"{reason}: {remedy}" if remedy else reason


def private_dir(directory: Path, *, failures: list[OSError] | None = None) -> bool:
    """Create the directory (0700) if need be; True only when it is a real directory owned by this user
    that nobody else may write to (what a cache may be trusted from). With `failures`, an error of the
    operating system that made it False is appended there (for a warning)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(directory)
    except OSError as exc:
        if failures is not None:
            failures.append(exc)
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def write_sealed(path: Path, magic: bytes, payload: bytes) -> None:
    """Replace the entry at `path` (0600) with `magic`, sha256(payload) and `payload`, through a temporary
    file and a rename: a reader sees the old entry or the new one. No fsync."""
    import tempfile  # with shutil and random: not on a run that writes nothing

    fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(magic + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_sealed(path: Path, magic: bytes) -> bytes | None:
    """The payload of the entry at `path`; None when it is absent, unreadable, not `magic`'s, torn or
    damaged (its digest does not match)."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    head, digest, payload = blob[: len(magic)], blob[len(magic) : len(magic) + 32], blob[len(magic) + 32 :]
    if head != magic or digest != hashlib.sha256(payload).digest():
        return None
    return payload
