# Over 400 lines: reading (consistent snapshots, the read cache) and the log writes are not split yet.
"""The `local` backend: the state as a directory of text files (syncer.state.files) under `state.path`.

Writes never rewrite the store: each operation (a journal entry, an accepted batch, rejected rows, a
pacing mark, forgotten keys) is one line appended to `log.jsonl` and fsynced. `compact()` folds the log
into the per-semester files (each replaced atomically, only the semesters that changed) and resets the
log; the lock compacts a long log, and apply compacts once at its end. Readers need no lock: they read
`meta.json` before and after the other files and start over if a compaction happened in between.

The people cache (`people.json`, syncer.people) is replaced whole and atomically by `record_people`, which
bumps the serial and compacts so that `meta.json` records it; `read_people` reads it without a lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from syncer.errors import StateDamaged, StateError
from syncer.fsio import Faults, atomic_write, durable_append, fsync_dir, no_faults, remove_durably, truncate_torn
from syncer.model import Identity
from syncer.perf import paused_gc
from syncer.state import format as files
from syncer.state import image
from syncer.state.base import StoreBase, batch_rows, needs_lock, new_meta, no_state_yet
from syncer.state.history import LAST_SET_ONLY, History, Selection, last_changes
from syncer.state.lock import LockFile
from syncer.state.model import (
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
        with paused_gc():  # millions of acyclic objects: the cyclic GC would only slow the load down
            return self._read_consistent()

    def _read_consistent(self) -> image.StateData | None:
        for _attempt in range(10):
            meta_text = self._text(files.META)
            if meta_text is None:
                left = [n for n in self._leftovers() if n != files.PEOPLE]
                if left:
                    raise StateDamaged(
                        str(self.path / files.META),
                        f"missing, though the state's other files are there ({', '.join(left[:3])}"
                        f"{', ...' if len(left) > 3 else ''}); syncer will not start a new state over them",
                    )
                return None
            meta = files.meta_from_json(meta_text, where=str(self.path / files.META))
            data = image.StateData(meta=meta)
            shards = self.path / files.SEMESTERS
            cache = self.read_cache if self._lock is None else None
            if shards.is_dir():
                for shard in sorted(shards.glob("*" + files.SHARD_SUFFIX)):
                    name = f"{files.SEMESTERS}/{shard.name}"
                    semester = files.shard_semester(shard.name)
                    if cache is not None and semester not in data.per_semester:
                        self._read_shard(data, semester, name, cache)
                    else:
                        files.decode_shard(data, semester, self._text(name) or "", where=str(shard))
            for name, decode in (
                (files.BATCHES, files.decode_batches),
                (files.REJECTIONS, files.decode_rejections),
                (files.JOURNAL, files.decode_journal),
            ):
                text = self._text(name)
                if text:
                    decode(data, text, where=str(self.path / name))
            log_text = self._text(files.LOG) or ""
            ops, complete = files.parse_log(log_text, where=str(self.path / files.LOG))
            for name in self._segment_names():
                seg_ops, _ = files.parse_log(self._text(name) or "", where=str(self.path / name))
                ops += seg_ops
            if len(ops) > 1:
                ops.sort(key=lambda item: item[1].get("s", 0) if isinstance(item[1].get("s"), int) else 0)
            # With no log left to replay, the shards are what the last compaction wrote (a compaction cut
            # short leaves its log behind, and shards newer than meta.json's counts: not checked then).
            if not ops and meta.values is not None and dict(data.per_semester) != dict(meta.values):
                sem = min(s for s in set(meta.values) | set(data.per_semester)
                          if meta.values.get(s) != data.per_semester.get(s))  # fmt: skip
                try:
                    where = str(self.path / files.shard_name(sem))
                except StateError:
                    where = str(self.path / files.SEMESTERS)
                raise StateDamaged(
                    where,
                    f"it holds {data.per_semester.get(sem, 0)} values, where {files.META} says the last compaction "
                    f"wrote {meta.values.get(sem, 0)} (emptied or cut short since?)",
                )
            compacted_serial = meta.serial
            data.dirty.clear()
            for n, op in ops:
                try:
                    if image.int_field(op["s"], "the operation's serial") > compacted_serial:
                        data.apply(op)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise StateDamaged(
                        f"{self.path / files.LOG}:{n}", f"a malformed operation ({files.why(exc)})"
                    ) from None
            if self._text(files.META) != meta_text:
                continue  # a compaction happened while we read: read again
            if self._lock is not None:
                truncate_torn(self.path / files.LOG, complete)
            self._log_ops = len(ops)
            self._log_bytes = complete
            self._data = data
            return data
        raise StateError(f"{self.path}: the state kept changing while being read; try again")

    def _read_shard(self, data: image.StateData, semester: str, name: str, cache: ShardCache) -> None:
        """Add a shard's rows to `data` from the read cache when it holds these very bytes decoded; else
        decode them (as decode_shard does) and keep the result."""
        raw = self._bytes(name) or b""
        digest = hashlib.sha256(raw).hexdigest()
        found = cache.get(semester, digest)
        if found is None:
            text = self._decoded(name, raw)
            del raw
            part = image.StateData(meta=data.meta)
            files.decode_shard(part, semester, text, where=str(self.path / name))
            found = part.rows, part.per_semester.get(semester, 0)
            cache.put(semester, digest, *found)
        rows, count = found
        data.rows.update(rows)
        if count:
            data.per_semester[semester] = count

    def _bytes(self, name: str) -> bytes | None:
        """A state file's bytes; None when it does not exist."""
        path = self.path / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{path}: cannot be read: {exc.strerror or exc}") from None

    def _text(self, name: str) -> str | None:
        """A state file's text; None when it does not exist."""
        raw = self._bytes(name)
        return None if raw is None else self._decoded(name, raw)

    def _decoded(self, name: str, raw: bytes) -> str:
        """A state file's bytes as text, line ends read as universal newlines (CRLF and a lone CR: LF)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateDamaged(str(self.path / name), f"not UTF-8 text (byte {exc.start})") from None
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def _segment_names(self) -> list[str]:
        """The log segments present, in serial order (their names sort so)."""
        top = self.path / files.LOG_SEGMENTS
        if not top.is_dir():
            return []
        names = [p.relative_to(self.path).as_posix() for p in top.glob("*/*/*")]
        for name in names:
            if not files.is_segment(name):
                raise StateDamaged(str(self.path / name), "a file syncer never writes among the log segments")
        return sorted(names)

    def _leftovers(self) -> list[str]:
        """State files other than meta.json that are present: with no meta.json they are a damaged state,
        never an empty directory to start afresh in."""
        names = [files.LOG, files.BATCHES, files.REJECTIONS, files.JOURNAL, files.PEOPLE]
        found = [n for n in names if (self.path / n).exists()] + self._segment_names()
        shards = self.path / files.SEMESTERS
        if shards.is_dir():
            found += [f"{files.SEMESTERS}/{p.name}" for p in sorted(shards.glob("*" + files.SHARD_SUFFIX))]
        return found

    def read_people(self) -> dict[str, Any] | None:
        """The people cache as stored (None: there is none). Needs no lock."""
        where = self.path / files.PEOPLE
        try:
            text = self._text(files.PEOPLE)
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
        left = [n for n in self._leftovers() if n != files.PEOPLE]
        if left:
            raise StateDamaged(
                str(self.path / files.META), f"missing, though {', '.join(left[:3])} are there; not starting over them"
            )
        meta = new_meta(identity, now=self._clock())
        self._guard(
            lambda: atomic_write(
                self.path / files.META, files.meta_to_json(meta), faults=self._faults, chunk=self._chunk
            )
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
        """Record rows Feishu rejected (code, time, digest of the rejected values)."""
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
        if self._text(files.PEOPLE) == text:
            return False
        self._guard(lambda: atomic_write(self.path / files.PEOPLE, text, faults=self._faults, chunk=self._chunk))
        data.meta = dataclasses.replace(data.meta, serial=data.meta.serial + 1)
        self.compact()  # meta.json gets the new serial; the log (all below it) is folded first
        return True

    def compact(self) -> None:
        """Fold the log into the files: changed semesters' shards, batches, rejections, journal, then meta
        (generation + 1), then an empty log. Interrupted anywhere, the next load replays the log again."""
        data = self._writable()
        faults, chunk = self._faults, self._chunk
        shard_dir = self.path / files.SEMESTERS

        def run() -> None:
            shards = files.encode_shards(data, only=set(data.dirty))
            if shards:
                shard_dir.mkdir(exist_ok=True)
            for sem, text in sorted(shards.items()):
                atomic_write(self.path / files.shard_name(sem), text, faults=faults, chunk=chunk)
            for sem in sorted(data.dirty - shards.keys()):
                remove_durably(self.path / files.shard_name(sem), faults=faults)
            atomic_write(self.path / files.BATCHES, files.encode_batches(data), faults=faults, chunk=chunk)
            atomic_write(self.path / files.REJECTIONS, files.encode_rejections(data), faults=faults, chunk=chunk)
            atomic_write(self.path / files.JOURNAL, files.encode_journal(data), faults=faults, chunk=chunk)
            meta = data.meta
            if meta.plan_key is None:  # a state made before plan keys: keyed now (a new serial: plans change)
                meta = dataclasses.replace(meta, plan_key=files.new_plan_key(), serial=meta.serial + 1)
            data.meta = dataclasses.replace(meta, generation=meta.generation + 1, values=dict(data.per_semester))
            atomic_write(self.path / files.META, files.meta_to_json(data.meta), faults=faults, chunk=chunk)
            atomic_write(self.path / files.LOG, "", faults=faults, chunk=chunk)
            for name in self._segment_names():  # folded into the files above
                remove_durably(self.path / name, faults=faults)
            top = self.path / files.LOG_SEGMENTS
            if top.is_dir():
                for leaf in sorted(top.glob("*/*"), reverse=True) + sorted(top.glob("*")) + [top]:
                    with contextlib.suppress(OSError):
                        leaf.rmdir()
            data.dirty.clear()

        self._guard(run)
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
        meta = dataclasses.replace(state.meta, values=dict(state.per_semester))

        def write() -> None:
            for name, text in sorted(texts.items()):
                (self.path / name).parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.path / name, text, faults=self._faults, chunk=self._chunk)
            atomic_write(self.path / files.META, files.meta_to_json(meta), faults=self._faults, chunk=self._chunk)

        self._guard(write)
        self._data = None

    # --- what plan and `state history` ask of every backend ----------------------------------------------

    def keep_read_cache(self, base: Path) -> None:
        """Keep decoded shards under `base` between runs (syncer.state.readcache), for a command that only
        reads. A path that cannot be resolved (a symbolic link loop) is for `load` to report, not the cache."""
        with contextlib.suppress(OSError, RuntimeError):
            self.read_cache = ShardCache.under(base, str(self.path.resolve()))

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
        data = self._writable()
        op = build(data.meta.serial + 1)
        line = image.dumps(op) + "\n"
        log = self.path / files.LOG

        def write() -> None:
            if self._segments:
                segment = self.path / files.segment_name(op["s"])
                if not segment.parent.is_dir():
                    segment.parent.mkdir(parents=True)
                    for made in (segment.parent.parent, segment.parent.parent.parent, self.path):
                        fsync_dir(made)
                atomic_write(segment, line, faults=self._faults, chunk=self._chunk)
                return
            truncate_torn(log, self._log_bytes)
            durable_append(log, line, faults=self._faults, chunk=self._chunk)

        self._guard(write)
        data.apply(op)
        self._log_ops += 1
        self._log_bytes += len(line.encode("utf-8"))

    def _guard(self, write: Callable[[], object]) -> None:
        """Run a write; if it fails midway, forget what we hold in memory (the disk is the truth: the next
        write reloads it, ignoring a torn line)."""
        try:
            write()
        except BaseException:
            self._data = None
            raise
