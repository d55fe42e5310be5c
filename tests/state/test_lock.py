"""The local backend's lock file (syncer/state/lock.py): whether a holder's process still runs on this host."""

from __future__ import annotations

import os

from syncer.state.lock import pid_alive


def test_a_process_that_runs_is_alive_pid_1_included() -> None:
    """pid 1 is a holder too: syncer run as a container's only process is pid 1 (not ours to signal: alive)."""
    assert pid_alive(os.getpid())
    assert pid_alive(1)


def test_zero_and_negative_pids_are_never_alive() -> None:
    """0 and negative numbers are not a process (os.kill would signal a whole process group): never alive."""
    assert not pid_alive(0)
    assert not pid_alive(-1)
