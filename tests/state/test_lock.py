"""The local backend's lock file (syncer/state/lock.py): whether a holder's process still runs on this host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncer.state.lock import LockFile, pid_alive


def test_a_process_that_runs_is_alive_pid_1_included() -> None:
    """pid 1 is a holder too: syncer run as a container's only process is pid 1 (not ours to signal: alive)."""
    assert pid_alive(os.getpid())
    assert pid_alive(1)


def test_zero_and_negative_pids_are_never_alive() -> None:
    """0 and negative numbers are not a process (os.kill would signal a whole process group): never alive."""
    assert not pid_alive(0)
    assert not pid_alive(-1)


def test_unlock_of_a_lock_file_another_unlock_removed_meanwhile_returns_what_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `syncer state unlock` at once: the one that finds the file gone when it looks again (to tell whether
    a holder runs, then to remove it) has nothing left to do, and says whom it found."""
    holder = LockFile(tmp_path / "lock")
    info = holder.acquire(command="apply")
    other = LockFile(tmp_path / "lock")
    seen = other.read()
    assert seen == info
    holder.release(info)  # the file is gone, as the other unlock would leave it
    monkeypatch.setattr(other, "read", lambda: seen)
    assert other.clear(force=False) == seen


def test_a_forced_unlock_whose_file_went_meanwhile_returns_what_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = LockFile(tmp_path / "lock")
    info = holder.acquire(command="apply")  # held: a live holder
    other = LockFile(tmp_path / "lock")
    seen = other.read()
    real_unlink = Path.unlink

    def first_unlock_won(path: Path, missing_ok: bool = False) -> None:
        real_unlink(path)
        raise FileNotFoundError(path)

    monkeypatch.setattr(Path, "unlink", first_unlock_won)
    assert other.clear(force=True) == seen
    monkeypatch.undo()
    holder.release(info)
