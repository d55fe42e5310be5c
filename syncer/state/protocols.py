"""The interfaces of a state store, split by what callers do with them (as Terraform's statemgr separates
reading, persisting and locking). Every backend implements all of them; every caller asks for the narrowest
it needs, so that nothing reaches past a protocol into a backend.

- `SnapshotReader`: `plan`, `state show`, validation's people cache: read a consistent snapshot, no lock.
- `Locker`: one writer at a time; who holds the lock and whether it still runs; breaking a dead one.
- `ApplyLog`: the writes an apply (or an import, or `state rm`) makes, under the lock.
- `PeopleStore`: the people cache kept with the state.
- `Migratable`: `state migrate`: the whole state out of one backend (`export`), into another (`adopt`).
- `HistoryReader` (syncer.state.history): `state history`.
- `SharedPacing`: a backend that paces the imports of every state of one app together (postgres).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from syncer.model import Identity
from syncer.state.history import HistoryReader
from syncer.state.model import BatchInfo, BatchRecord, JournalEntry, LockHolder, LockInfo, Rejection, State, VKey
from syncer.state.readcache import ShardCache


class SnapshotReader(Protocol):
    @property
    def location(self) -> str:
        """Where the state lives, for messages (a path, or a branch of a remote)."""
        ...

    def load(self) -> State | None:
        """The state, or None when none was created yet. Raises StateError (newer format, damage)."""
        ...

    def exists(self) -> bool:
        """Whether a state was created here."""
        ...


class Locker(Protocol):
    @property
    def location(self) -> str: ...

    def lock(self, *, command: str = "apply") -> LockInfo:
        """Take the state's lock (raises StateError naming the holder when it is taken); `unlock` gives it
        back. `locked` is the pair around a body."""
        ...

    def unlock(self) -> LockInfo | None:
        """Release this store's own lock, publishing what is left; None when it holds none."""
        ...

    def locked(self, *, command: str = "apply") -> AbstractContextManager[LockInfo]:
        """Hold the state's lock for the body (raises StateError naming the holder when it is taken). What
        the body wrote is published before the lock is released, also when the body fails."""
        ...

    def lock_holder(self) -> LockHolder | None:
        """Who holds the lock now, and whether it still runs (None: nobody)."""
        ...

    @property
    def taken_over(self) -> LockInfo | None:
        """The holder that had died with the lock the last `locked()` took (None: the lock was free)."""
        ...

    def break_lock(self, *, force: bool = False) -> LockInfo | None:
        """`syncer state unlock`: clear a lock whose holder is gone (any lock with `force`); the lock cleared,
        or None when there was none."""
        ...


class ApplyLog(Protocol):
    """Writes, each durable when it returns. The caller holds the lock: every write checks it, also one with
    nothing to write (no rows, no managed keys, a compaction with nothing to fold), and without it raises the
    same StateError (base.needs_lock) as one that would change the state."""

    def create(self, identity: Identity) -> State:
        """Create an empty state for `identity` (lineage random, serial 1)."""
        ...

    def open_journal(self, entry: JournalEntry) -> None:
        """Record a batch about to be sent (exact body, token, keys and values), before it is sent."""
        ...

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        """Close a journal entry that did not end in `record_batch` (rejected, not landed, abandoned)."""
        ...

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        """Record an accepted batch: its metadata once, its values, its journal entry settled."""
        ...

    def record_rejected(self, rejections: Sequence[Rejection]) -> None: ...

    def record_import_request(self, at: datetime) -> None:
        """When the last import request was sent, so that the next apply keeps the pace."""
        ...

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        """Stop managing these keys (Feishu is not touched); how many were managed."""
        ...

    def compact(self) -> None:
        """Fold what was written into the state's files (the end of an apply)."""
        ...


class PeopleStore(Protocol):
    @property
    def location(self) -> str: ...

    def read_people(self) -> dict[str, Any] | None:
        """The people cache (people.json) as stored, or None. Needs no lock."""
        ...

    def record_people(self, people: Mapping[str, Any]) -> bool:
        """Replace the people cache (a JSON object). Needs the lock and a state; bumps the serial. False (and
        nothing written) when the cache already holds exactly this."""
        ...


class Migratable(Protocol):
    """A whole state in and out, unchanged (lineage, serial, batches, journal, rejections, people cache)."""

    def export(self) -> tuple[State, dict[str, Any] | None] | None:
        """The state and its people cache (None: there is no state here)."""
        ...

    def adopt(self, state: State, *, people: Mapping[str, Any] | None) -> None:
        """Write `state` as it is, under the lock; refused where a state exists."""
        ...


class WritableStore(SnapshotReader, Locker, ApplyLog, Protocol):
    """What apply, import and `state rm` use: read, lock, write."""


class StateStore(WritableStore, PeopleStore, Migratable, HistoryReader, Protocol):
    """Everything a backend offers (what `open_store` returns)."""

    def keep_read_cache(self, base: Path) -> ShardCache | None:
        """Let a command that only reads (plan) keep decoded state under the cache directory `base`, where the
        backend has anything to decode (syncer.state.readcache): that cache (None: a no-op here)."""
        ...


@runtime_checkable
class SharedPacing(Protocol):
    """A store shared by many states (postgres) keeps one import quota per app: the pacer claims each request
    slot from it, so that every apply of the app, from any root or runner, stays within the quota together.
    Backends without it pace each apply on its own, from the state's last import request."""

    def import_quota(self, target: Identity) -> Callable[[float, float], float]:
        """A claim: (now, interval) -> 0 when a request may start now (the slot is taken), else the seconds
        to wait before claiming again. Valid while the store holds its lock."""
        ...
