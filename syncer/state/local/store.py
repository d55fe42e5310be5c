"""The `local` backend: the state as a directory of text files (syncer.state.files) under `state.path`.

Writes never rewrite the store: each operation (a journal entry, an accepted batch, rejected rows, a
pacing mark, forgotten keys) is one line appended to `log.jsonl` and fsynced. `compact()` folds the log
into the per-semester files (each replaced atomically, only the semesters that changed) and resets the
log; the lock compacts a long log, and apply compacts once at its end. Readers need no lock: they read
`meta.json` before and after the other files and start over if a compaction happened in between.

The people cache (`people.json`, syncer.people) is replaced whole and atomically by `record_people`, which
bumps the serial and compacts so that `meta.json` records it; `read_people` reads it without a lock.

This module is the store: the lock and the protocol's methods. Reading a snapshot is
syncer.state.local.read, the log's appends and compaction syncer.state.local.log.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from syncer.errors import StateDamaged, StateError
from syncer.fsio import Faults, atomic_write, no_faults, truncate_torn
from syncer.model import Identity
from syncer.state import format as files
from syncer.state import image
from syncer.state.base import StoreBase, batch_rows, needs_lock, new_meta, no_state_yet, system_refusals
from syncer.state.history import LAST_SET_ONLY, History, Selection, last_changes
from syncer.state.local import log
from syncer.state.local.read import Directory, read_state
from syncer.state.lock import LockFile
from syncer.state.model import (
    STATE_FORMAT,
    BatchInfo,
    BatchRecord,
    Clock,
    JournalEntry,
    LockHolder,
    LockInfo,
    Rejection,
    State,
    VKey,
    format_time,
    utc_now,
)
from syncer.state.readcache import ShardCache

LOCK = "lock"
JSONObj = dict[str, Any]
T = TypeVar("T")


class LocalStateStore(StoreBase):
    """A state in a local directory. Construct it, `load()` to read; `lock()` before any write."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock = utc_now,
        faults: Faults = no_faults,
        lockfile: LockFile | None = None,
        compact_after_ops: int = 512,
        compact_after_bytes: int = 16 << 20,
        chunk: int = 1 << 20,
        log_segments: bool = False,
        read_cache: ShardCache | None = None,
    ) -> None:
        """`log_segments`: write each log operation to a file of its own (files.segment_name) instead of
        appending to log.jsonl: what the git backend commits after every write. Reading takes both.
        `read_cache`: decoded shards kept between runs (syncer.state.readcache), used only while the store
        is not locked."""
        self.path = Path(path)
        self._files = Directory(self.path)
        self._clock = clock
        self._faults = faults
        self._lockfile = lockfile or LockFile(self.path / LOCK, clock=clock)
        self._compact_after_ops = compact_after_ops
        self._compact_after_bytes = compact_after_bytes
        self._chunk = chunk
        self._segments = log_segments
        self.read_cache = read_cache
        self._lock: LockInfo | None = None
        self._data: image.StateData | None = None
        self._log_ops = 0
        self._log_bytes = 0

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return (self.path / files.META).is_file()

    def load(self) -> State | None:
        data = self._read()
        if data is None:
            return None
        return data.snapshot()

    def _read(self) -> image.StateData | None:
        """Read the state from its files (the read cache only while unlocked); a writer also cuts a torn last
        line off the log and keeps what it read for its writes."""
        read = read_state(self._files, cache=self.read_cache if self._lock is None else None)
        if read is None:
            return None
        if self._lock is not None:
            self._guard(lambda: truncate_torn(self.path / files.LOG, read.log_bytes), where=self.path / files.LOG)
        self._log_ops = read.log_ops
        self._log_bytes = read.log_bytes
        self._data = read.data
        return read.data

    def read_people(self) -> dict[str, Any] | None:
        """The people cache as stored (None: there is none). Needs no lock."""
        where = self.path / files.PEOPLE
        try:
            text = self._files.text(files.PEOPLE)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StateError(f"{where}: cannot read the people cache: {reason}") from exc
        return None if text is None else files.decode_people(text, where=str(where))

    # --- the lock ---------------------------------------------------------------------------------------

    def lock_holder(self) -> LockHolder | None:
        info = self._lockfile.read()
        return None if info is None else LockHolder(info, self._lockfile.status(info))

    @property
    def taken_over(self) -> LockInfo | None:
        """The holder that died with the lock this store took last (its name was left in the lock file)."""
        return self._lockfile.taken_over

    def lock(self, *, command: str = "apply") -> LockInfo:
        """Take the lock (creating the state directory if needed); compacts a long log."""
        if self._lock is not None:
            raise StateError(f"{self.path}: this process already holds the lock")
        with system_refusals(self._lockfile.path, "take the state's lock", then=" (nothing was written)"):
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = self._lockfile.acquire(command=command)
        try:
            if self._read() is not None and (
                self._log_ops > self._compact_after_ops or self._log_bytes > self._compact_after_bytes
            ):
                self.compact()
        except BaseException:
            self.unlock()
            raise
        return self._lock

    def unlock(self) -> LockInfo | None:
        """Release our own lock (None: this store holds none)."""
        if self._lock is None:
            return None
        held, self._lock = self._lock, None
        self._lockfile.release(held)
        return held

    def break_lock(self, *, force: bool = False) -> LockInfo | None:
        """`syncer state unlock`: clear another holder's lock (LockFile.clear)."""
        return self._lockfile.clear(force=force)

    # --- writing ----------------------------------------------------------------------------------------

    def create(self, identity: Identity) -> State:
        self._require_lock()
        if self.exists():
            raise StateError(f"{self.path}: a state already exists here")
        left = [n for n in self._files.leftovers() if n != files.PEOPLE]
        if left:
            raise StateDamaged(
                str(self.path / files.META), f"missing, though {', '.join(left[:3])} are there; not starting over them"
            )
        meta = new_meta(identity, now=self._clock())
        self._guard(
            lambda: atomic_write(
                self.path / files.META, files.meta_to_json(meta), faults=self._faults, chunk=self._chunk
            ),
            where=self.path / files.META,
        )
        self._data = image.StateData(meta=meta)
        self._log_ops = self._log_bytes = 0
        return self._data.snapshot()

    def open_journal(self, entry: JournalEntry) -> None:
        """Write a batch to the journal before it is sent (exact body, token, keys and values)."""
        self._append(lambda s: image.journal_op(s, entry))

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        """Close a journal entry that did not end in `record_batch` (rejected, not sent, abandoned)."""
        self._append(lambda s: {"s": s, "op": "settle", "token": client_token, "outcome": outcome})

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        """Record an accepted batch durably: its metadata once, its values, its journal entry settled and
        its rows' rejections cleared. Appends one line; never rewrites the store."""
        data = self._writable()
        info = BatchInfo(
            id=data.meta.next_batch,
            semester=batch.semester,
            time=format_time(batch.time),
            import_record_id=batch.import_record_id,
            commit=batch.commit,
            client_token=batch.client_token,
            import_record_name=batch.import_record_name,
            rows=len(batch.rows),
        )
        rows = batch_rows(batch)
        self._append(lambda s: image.batch_op(s, info, rows))
        return info

    def record_rejected(self, rejections: Sequence[Rejection]) -> None:
        """Record rows Feishu rejected (code, time, digest of the rejected values). Needs the lock, with none
        to record too (as every write)."""
        self._require_lock()
        if rejections:
            rows = [image.rejection_to_list(r) for r in rejections]
            self._append(lambda s: {"s": s, "op": "reject", "rows": rows})

    def record_import_request(self, at: datetime) -> None:
        """Remember when the last import request was sent, so the next apply keeps the pace."""
        stamp = format_time(at)
        self._append(lambda s: {"s": s, "op": "paced", "at": stamp})

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        """Stop managing these keys (apply's forgets, `syncer state rm`); Feishu is not touched."""
        data = self._writable()
        rows = data.rows
        present = sorted(
            {
                (k[0], k[1], k[2], k[3])
                for k in keys
                if (row := rows.get((k[0], k[1], k[2]))) is not None and k[3] in row[0]
            }
        )
        if present:
            self._append(lambda s: {"s": s, "op": "forget", "reason": reason, "keys": [list(k) for k in present]})
        return len(present)

    def record_people(self, people: Mapping[str, Any]) -> bool:
        """Replace the people cache (atomically), then bump the serial and compact, so that meta.json records
        the change. False, and nothing written, when the cache already holds exactly this."""
        data = self._writable()
        text = files.encode_people(people)
        if self._files.text(files.PEOPLE) == text:
            return False
        self._guard(
            lambda: atomic_write(self.path / files.PEOPLE, text, faults=self._faults, chunk=self._chunk),
            where=self.path / files.PEOPLE,
        )
        data.meta = dataclasses.replace(data.meta, serial=data.meta.serial + 1)
        self.compact()  # meta.json gets the new serial; the log (all below it) is folded first
        return True

    def compact(self) -> None:
        """Fold the log into the files: changed semesters' shards, batches, rejections, journal, then meta
        (generation + 1), then an empty log. Interrupted anywhere, the next load replays the log again."""
        data = self._writable()
        self._guard(lambda: log.fold(self._files, data, faults=self._faults, chunk=self._chunk), where=self.path)
        self._log_ops = self._log_bytes = 0

    def adopt(self, state: State, *, people: Mapping[str, Any] | None) -> None:
        """Write a whole state as it is (`state migrate`: lineage, serial, journal, people cache), compacted,
        meta.json last. Needs the lock; refused where a state exists."""
        self._require_lock()
        if self.exists():
            raise StateError(f"{self.path}: a state already exists here")
        data = image.StateData(
            meta=state.meta,
            rows=dict(state.rows),
            batches=dict(state.batches),
            rejections=dict(state.rejections),
            journal=dict(state.journal),
            per_semester=dict(state.per_semester),
        )
        texts = {files.shard_name(sem): text for sem, text in files.encode_shards(data).items()}
        texts[files.BATCHES] = files.encode_batches(data)
        texts[files.REJECTIONS] = files.encode_rejections(data)
        texts[files.JOURNAL] = files.encode_journal(data)
        if people is not None:
            texts[files.PEOPLE] = files.encode_people(people)
        # The files are written with checksums: an older state's format says so (a newer one stays refused).
        meta = dataclasses.replace(
            state.meta, format=max(state.meta.format, STATE_FORMAT), values=dict(state.per_semester)
        )

        def write() -> None:
            for name, text in sorted(texts.items()):
                (self.path / name).parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.path / name, text, faults=self._faults, chunk=self._chunk)
            atomic_write(self.path / files.META, files.meta_to_json(meta), faults=self._faults, chunk=self._chunk)

        self._guard(write, where=self.path)
        self._data = None

    # --- what plan and `state history` ask of every backend ----------------------------------------------

    def keep_read_cache(self, base: Path) -> ShardCache | None:
        """Keep decoded shards under `base` between runs (syncer.state.readcache), for a command that only
        reads. A path that cannot be resolved (a symbolic link loop) is for `load` to report, not the cache."""
        with contextlib.suppress(OSError, RuntimeError):
            self.read_cache = ShardCache.under(base, str(self.path.resolve()))
        return self.read_cache

    def history(self, selection: Selection) -> History:
        """Each managed value's last change: a directory keeps no more."""
        return last_changes(self.load(), selection, kept=LAST_SET_ONLY)

    # --- internals --------------------------------------------------------------------------------------

    def _require_lock(self) -> LockInfo:
        if self._lock is None:
            raise needs_lock(str(self.path))
        if not self._lockfile.holds(self._lock):
            raise StateError(
                f"{self.path}: the state's lock was taken away (state unlock --force?) while "
                "this apply ran; stopping before writing"
            )
        return self._lock

    def _writable(self) -> image.StateData:
        self._require_lock()
        if self._data is None and self._read() is None:
            raise no_state_yet(str(self.path))
        assert self._data is not None
        return self._data

    def _append(self, build: Callable[[int], JSONObj]) -> None:
        """Write the operation `build` makes for the next serial, then apply it to what we hold."""
        data = self._writable()
        op = build(data.meta.serial + 1)
        target = self.path / (files.segment_name(op["s"]) if self._segments else files.LOG)
        size = self._guard(
            lambda: log.append(
                self.path,
                op,
                segments=self._segments,
                log_bytes=self._log_bytes,
                faults=self._faults,
                chunk=self._chunk,
            ),
            where=target,
        )
        data.apply(op)
        self._log_ops += 1
        self._log_bytes += size

    def _guard(self, write: Callable[[], T], *, where: Path) -> T:
        """Run a write of the file (or directory) `where`; if it fails midway, forget what we hold in memory (the
        disk is the truth: the next write reloads it, ignoring a torn line). The operating system's refusal (a
        full disk, a read-only file system, ...) is the user's to fix: a StateWriteError naming `where`."""
        try:
            with system_refusals(where, "write the state", then=" (every earlier write is kept whole)"):
                return write()
        except BaseException:
            self._data = None
            raise
