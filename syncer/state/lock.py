"""The local backend's lock: one writer per state, as a lock file holding its owner's pid, host and time.

The file is created with O_EXCL, so two writers cannot both get it. A lock whose holder is dead (same host,
pid no longer running) is reported as such; `syncer state unlock` clears it, and a writer may take it over
(`steal_dead=True`). A lock held from another host cannot be checked from here and is never taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syncer.errors import StateError
from syncer.fsio import fsync_dir
from syncer.state.model import Clock, Liveness, LockInfo, format_time, utc_now


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


def liveness(info: LockInfo, *, host: str, alive: Callable[[int], bool]) -> Liveness:
    """Whether a lock's holder still runs, as far as this host can tell: the one decision every lock makes.

    A lock with no host is a lock file torn while being written: its writer never started writing the state.
    A lock taken on this host is alive while its process is; one taken elsewhere cannot be checked."""
    if not info.host:
        return "dead"
    if info.host == host:
        return "alive" if alive(info.pid) else "dead"
    return "other host"


@dataclass(frozen=True, slots=True)
class LockFile:
    path: Path
    clock: Clock = utc_now
    hostname: Callable[[], str] = socket.gethostname
    pid: Callable[[], int] = os.getpid
    alive: Callable[[int], bool] = pid_alive

    def read(self) -> LockInfo | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            obj = json.loads(text)
            return LockInfo(
                int(obj["pid"]),
                str(obj["host"]),
                str(obj["time"]),
                str(obj.get("command", "")),
                str(obj.get("id", "")),
            )
        except (ValueError, KeyError, TypeError):
            # A lock file torn by a crash while being written: its writer never started writing the state.
            return LockInfo(0, "", "", "unreadable lock file", "")

    def status(self, info: LockInfo) -> Liveness:
        return liveness(info, host=self.hostname(), alive=self.alive)

    def is_dead(self, info: LockInfo) -> bool:
        """True when the holder certainly does not run any more (same host and pid gone, or torn file)."""
        return self.status(info) == "dead"

    def describe(self, info: LockInfo) -> str:
        if not info.host:
            return "an unreadable (torn) lock file"
        status = self.status(info)
        shown = "on another host" if status == "other host" else status
        return f"{info.command or 'a writer'} (pid {info.pid} on {info.host}, {shown}) since {info.time}"

    def acquire(self, *, command: str, steal_dead: bool = False) -> LockInfo:
        info = LockInfo(self.pid(), self.hostname(), format_time(self.clock()), command, uuid.uuid4().hex)
        data = json.dumps(info._asdict(), sort_keys=True).encode("utf-8") + b"\n"
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                held = self.read()
                if held is None:
                    continue  # released between our two calls: try again
                if steal_dead and self.is_dead(held):
                    self._remove_if(held)
                    continue
                hint = (
                    "it is dead: clear it with `syncer state unlock`"
                    if self.is_dead(held)
                    else "wait for it to finish; if you are sure it is gone, `syncer state unlock --force`"
                )
                raise StateError(
                    f"the state at {self.path.parent} is locked by {self.describe(held)}; {hint}"
                ) from None
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            fsync_dir(self.path.parent)
            return info
        raise StateError(f"could not lock the state at {self.path.parent}: the lock file keeps changing")

    def holds(self, info: LockInfo) -> bool:
        held = self.read()
        return held is not None and held.id == info.id

    def release(self, info: LockInfo) -> None:
        if self.holds(info):
            self._remove_if(info)

    def _remove_if(self, info: LockInfo) -> None:
        held = self.read()
        if held is not None and held.id == info.id and held.pid == info.pid:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fsync_dir(self.path.parent)

    def clear(self, *, force: bool = False) -> LockInfo | None:
        """`syncer state unlock`: remove the lock; refused when its holder is alive here, unless forced."""
        held = self.read()
        if held is None:
            return None
        if not force and not self.is_dead(held):
            where = (
                "it is still running on this host"
                if held.host == self.hostname()
                else "it was taken on another host, so syncer cannot tell whether it still runs"
            )
            raise StateError(
                f"the state at {self.path.parent} is locked by {self.describe(held)}: {where}. "
                "Use --force only if you are sure no apply is running"
            )
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fsync_dir(self.path.parent)
        return held
