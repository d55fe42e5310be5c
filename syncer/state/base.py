"""What every state backend shares: the lock guard's messages, `locked()`, the metadata of a new state, an
accepted batch's rows checked against its semester, and `export` (the other half of each backend's `adopt`).

Pure helpers and one small mixin, so that a backend is its storage and nothing it would copy from another."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from syncer.errors import StateError, StateWriteError
from syncer.fsio import os_error_text
from syncer.model import Identity, RowKey
from syncer.state import format as files
from syncer.state.model import STATE_FORMAT, BatchRecord, LockInfo, State, StateMeta, format_time


def needs_lock(location: str) -> StateError:
    """The error of a write made without the state's lock (always a bug in syncer: callers lock first)."""
    return StateError(f"{location}: writing the state needs its lock (a bug in syncer)")


def no_state_yet(location: str) -> StateError:
    return StateError(f"{location}: no state here yet (create it first)")


def new_meta(identity: Identity, *, now: datetime) -> StateMeta:
    """The metadata of a state created now: a random lineage and plan key, serial 1."""
    return StateMeta(
        format=STATE_FORMAT,
        lineage=uuid.uuid4().hex,
        serial=1,
        created=format_time(now),
        identity=identity,
        plan_key=files.new_plan_key(),
    )


@contextlib.contextmanager
def system_refusals(where: Path, doing: str, *, then: str = "") -> Iterator[None]:
    """The operating system refusing a write of the body (a full disk, a quota, a read-only file system, no
    permission, an I/O error) as the user's to fix: a StateWriteError `where: cannot DOING: reason [ERRNO]:
    remedy, then run again` and `then`."""
    try:
        yield
    except OSError as exc:
        raise StateWriteError(f"{where}: cannot {doing}: {os_error_text(exc)}, then run again{then}") from exc


def batch_rows(batch: BatchRecord) -> list[tuple[RowKey, dict[str, str]]]:
    """An accepted batch's rows, sorted; ValueError when one is of another semester than the batch's."""
    rows = sorted((RowKey(*r), dict(f)) for r, f in batch.rows.items())
    for row, _ in rows:
        if row.semester != batch.semester:
            raise ValueError(f"row {row} is not of the batch's semester {batch.semester}")
    return rows


class StoreBase:
    """`locked()` around `lock()`/`unlock()`, and `export()`, for a backend that has the rest."""

    def lock(self, *, command: str = "apply") -> LockInfo:
        raise NotImplementedError

    def unlock(self) -> LockInfo | None:
        raise NotImplementedError

    def load(self) -> State | None:
        raise NotImplementedError

    def read_people(self) -> dict[str, Any] | None:
        raise NotImplementedError

    @contextlib.contextmanager
    def locked(self, *, command: str = "apply") -> Iterator[LockInfo]:
        """Hold the lock for the body; released however the body ends."""
        info = self.lock(command=command)
        try:
            yield info
        finally:
            self.unlock()

    def export(self) -> tuple[State, dict[str, Any] | None] | None:
        """The whole state and its people cache, for another backend's `adopt` (None: no state here)."""
        state = self.load()
        return None if state is None else (state, self.read_people())
