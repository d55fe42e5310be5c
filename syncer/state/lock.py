"""The local backend's lock: one writer per state, held by the operating system for the life of the process.

The lock is an `flock` on the state's lock file: the kernel releases it when its holder exits, however it
exits (a kill, a crash, a lost runner), so a rerun after a kill simply takes it and goes on (settling the
journal first). The file also holds its holder's pid, host, time and command as JSON, for `syncer state
show` and for the messages; content left by a holder that died only says who that was. `syncer state
unlock --force` removes the file under a live holder, for people who know it is stuck: that holder then
stops before its next write, since the lock file it holds is no longer the state's.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from syncer.errors import StateError
from syncer.fsio import fsync_dir
from syncer.state.model import Clock, Liveness, LockInfo, format_time, parse_time, utc_now

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock
    fcntl = None  # type: ignore[assignment]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - platforms without signal 0
        return True
    return True


def lease_liveness(info: LockInfo, *, now: float, host: str, alive: Callable[[int], bool]) -> Liveness:
    """Whether the holder of a lock that is a lease (the git backend's) still runs: past its expiry it is
    dead; taken on this host, it is alive while its process is; taken elsewhere, it cannot be told."""
    if info.expires and now >= parse_time(info.expires).timestamp():
        return "dead"
    if info.host == host:
        return "alive" if alive(info.pid) else "dead"
    return "other host"


def _info_from(text: str) -> LockInfo | None:
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
        return LockInfo(
            int(obj["pid"]),
            str(obj["host"]),
            str(obj["time"]),
            str(obj.get("command", "")),
            str(obj.get("id", "")),
            str(obj.get("expires", "")),
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        # Torn while being written: its writer died before it wrote anything of the state.
        return LockInfo(0, "", "", "an unreadable (torn) lock file", "")


class LockFile:
    """A lock file: `acquire` takes it (flock) and writes who holds it; `release` gives it back."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = utc_now,
        hostname: Callable[[], str] = socket.gethostname,
        pid: Callable[[], int] = os.getpid,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.hostname = hostname
        self.pid = pid
        self._file: BinaryIO | None = None  # open while held: dropping the object (or the process) releases it
        self._held: LockInfo | None = None
        self.taken_over: LockInfo | None = None  # the dead holder whose lock the last acquire took

    def read(self) -> LockInfo | None:
        """Who holds (or last held, if it died) the lock, as the file says; None when nobody does."""
        try:
            text = self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        return _info_from(text)

    def status(self, info: LockInfo) -> Liveness:
        """alive while some process holds the flock (this one included), else dead."""
        if self._held is not None and self._held.id == info.id:
            return "alive"
        return "alive" if self._locked_elsewhere() else "dead"

    def describe(self, info: LockInfo) -> str:
        if not info.host:
            return info.command
        return f"{info.command or 'a writer'} (pid {info.pid} on {info.host}, {self.status(info)}) since {info.time}"

    def acquire(self, *, command: str) -> LockInfo:
        """Take the lock, or raise StateError naming the live holder. A holder that died left only its name:
        its lock is taken over (`taken_over` says whose)."""
        if self._file is not None:
            raise StateError(f"{self.path.parent}: this process already holds the lock")
        info = LockInfo(self.pid(), self.hostname(), format_time(self.clock()), command, uuid.uuid4().hex)
        for attempt in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not _try_flock(fd) and not (attempt < 2 and _retry_soon(fd)):
                    held = self.read()
                    who = self.describe(held) if held is not None else "another process"
                    raise StateError(
                        f"the state at {self.path.parent} is locked by {who}; wait for it to finish (its lock ends "
                        "with its process). If it is stuck, stop it; `syncer state unlock --force` only if you "
                        "cannot"
                    )
                if os.fstat(fd).st_ino != _inode(self.path):  # unlinked (unlock --force) between open and flock
                    continue
                previous = _info_from(os.pread(fd, 1 << 16, 0).decode("utf-8", "replace"))
                data = json.dumps(info._asdict(), sort_keys=True).encode("utf-8") + b"\n"
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)
                os.fsync(fd)
                fsync_dir(self.path.parent)
            except BaseException:
                os.close(fd)
                raise
            else:
                if os.fstat(fd).st_ino != _inode(self.path):
                    os.close(fd)
                    continue
            self._file, self._held, self.taken_over = os.fdopen(fd, "r+b", buffering=0), info, previous
            return info
        raise StateError(f"could not lock the state at {self.path.parent}: the lock file keeps changing")

    def holds(self, info: LockInfo) -> bool:
        """Whether this process still holds the state's lock as `info` (not if the file was replaced)."""
        held = self.read()
        return self._file is not None and held is not None and held.id == info.id

    def release(self, info: LockInfo) -> None:
        """Give the lock back: the file is removed while the flock is still held (a waiter that opened it
        sees it is no longer the lock file and opens the new one), then the flock is released."""
        if self._file is None or self._held is None or self._held.id != info.id:
            return
        file, self._file, self._held = self._file, None, None
        try:
            if self.holds_file(file.fileno()):
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                fsync_dir(self.path.parent)
        finally:
            file.close()  # releases the flock

    def holds_file(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == _inode(self.path)
        except OSError:
            return False

    def clear(self, *, force: bool = False) -> LockInfo | None:
        """`syncer state unlock`: forget a dead holder; under a live one only with `force` (the file is
        removed: the live holder stops before its next write)."""
        held = self.read()
        if held is None:
            return None
        if self._locked_elsewhere():
            if not force:
                where = " on this host" if held.host == self.hostname() else ""
                raise StateError(
                    f"the state at {self.path.parent} is locked by {self.describe(held)}: it is still running"
                    f"{where} (its lock ends with its process). Use --force only if you are sure it is stuck"
                )
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fsync_dir(self.path.parent)
            return held
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fsync_dir(self.path.parent)
        return held

    def _locked_elsewhere(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            return not _try_flock(fd)
        finally:
            os.close(fd)


def _retry_soon(fd: int) -> bool:
    """A probe (`state show` looking at the lock) holds the flock for an instant: look once more."""
    time.sleep(0.05)
    return _try_flock(fd)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _try_flock(fd: int) -> bool:
    """Take an exclusive flock without waiting; False when another open file description holds it."""
    if fcntl is None:  # pragma: no cover
        raise StateError("the local state backend needs flock (a POSIX system); use the git backend here")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True
