"""The `postgres` backend: states as rows of one database (syncer.state.postgres.schema), many states to a
database, each its own (name, lineage, serial, identity).

- **Reading** (`plan`, `state show`, syncer.state.postgres.read): one REPEATABLE READ, READ ONLY
  transaction: a consistent snapshot, which never waits for a writer (nor makes one wait).
- **The lock** (syncer.state.postgres.lock): a session-level advisory lock held by the connection every
  write goes through; it ends with that connection.
- **Writing**: each operation is one transaction that bumps the serial (as each line of the local log
  does): an accepted batch writes its metadata, its values, their history, and settles its journal entry
  and its rows' rejections at once; a journal entry is committed before its request is sent.
- **History**: every value set and every key forgotten is a row of `syncer_history` (time, serial, batch,
  reason), so `state history` can tell which batch, commit and import record set a value.
- **Pacing shared by an app**: `import_quota` hands the pacer a claim on the row of `syncer_quota` of the
  state's (host, app ID), taken with SELECT ... FOR UPDATE before each request: every apply of one app,
  from any repository or runner, keeps to import_per_minute together (the slot arithmetic:
  syncer.state.postgres.quota).

The SQL and the records rows are read into are in syncer.state.postgres.rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from syncer.errors import StateError, UnstorableValue
from syncer.model import Identity, ValueKey
from syncer.state import format as files
from syncer.state.base import StoreBase, batch_rows, needs_lock, new_meta, no_state_yet
from syncer.state.history import History, Selection
from syncer.state.model import (
    BatchInfo,
    BatchRecord,
    Clock,
    JournalEntry,
    LockHolder,
    LockInfo,
    Rejection,
    State,
    StateMeta,
    VKey,
    format_time,
    utc_now,
)
from syncer.state.postgres import read
from syncer.state.postgres import rows as sql
from syncer.state.postgres.db import Database
from syncer.state.postgres.lock import AdvisoryLock, Conn
from syncer.state.postgres.quota import next_slot
from syncer.state.postgres.schema import ensure_schema, installed_version


def _one(row: tuple[object, ...] | None) -> object:
    """The one column of a statement's one row (None: no row, or NULL)."""
    if row is None:
        return None
    (value,) = row
    return value


def _int(value: object) -> int:
    """A count or serial a statement returned (an integer column)."""
    return int(str(value))


class PostgresStateStore(StoreBase):
    """One state of a database. Implements `syncer.state.protocols.StateStore`, `SharedPacing` and
    `syncer.state.history.HistoryReader`."""

    def __init__(self, db: Database, name: str, *, clock: Clock = utc_now, **lock_options: Any) -> None:
        self.db = db
        self.name = name
        self._clock = clock
        self._lock = AdvisoryLock(db, name, location=self.location, clock=clock, **lock_options)
        self._conn: Conn | None = None  # while locked: the session that holds the lock
        self._held: LockInfo | None = None

    @property
    def location(self) -> str:
        return f"postgres:{self.name}"

    # --- connections --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self, doing: str) -> Iterator[Conn]:
        """The lock's connection while locked, else a connection of its own for the body."""
        if self._conn is not None:
            with self.db.errors(doing):
                yield self._conn
            return
        conn = self.db.connect()
        try:
            with self.db.errors(doing):
                yield conn
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    # --- reading ------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        with self._session(f"reading {self.location}") as conn:
            if installed_version(conn) is None:
                return False
            return conn.execute(sql.SELECT_EXISTS, (self.name,)).fetchone() is not None

    def load(self) -> State | None:
        with self._session(f"reading {self.location}") as conn:
            return read.load_state(conn, self.name, location=self.location)

    def read_people(self) -> dict[str, Any] | None:
        with self._session(f"reading the people cache of {self.location}") as conn:
            return read.load_people(conn, self.name, location=self.location)

    def history(self, selection: Selection) -> History:
        """Every change of the selected values, oldest first, each with the batch that made it."""
        with self._session(f"reading the history of {self.location}") as conn:
            return read.load_history(conn, self.name, selection)

    # --- the lock -----------------------------------------------------------------------------------------

    def lock_holder(self) -> LockHolder | None:
        if self._held is not None:
            return LockHolder(self._held, "alive")
        with self._session(f"reading the lock of {self.location}") as conn:
            if installed_version(conn) is None:
                return None
            return self._lock.read(conn)

    @property
    def taken_over(self) -> LockInfo | None:
        return self._lock.taken_over

    def lock(self, *, command: str = "apply") -> LockInfo:
        if self._held is not None:
            raise StateError(f"{self.location}: this process already holds the lock")
        conn = self.db.connect()
        try:
            with self.db.errors(f"preparing the tables of {self.location}"):
                ensure_schema(conn, now=format_time(self._clock()))
            with self.db.errors(f"locking {self.location}"):
                self._held = self._lock.take(conn, command)
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                conn.close()
            raise
        self._conn = conn
        return self._held

    def unlock(self) -> LockInfo | None:
        """Release our own lock (None: this store holds none)."""
        if self._held is None:
            return None
        held, conn = self._held, self._conn
        self._held, self._conn = None, None
        assert conn is not None
        try:
            with contextlib.suppress(psycopg.Error):
                self._lock.release(conn, held)
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # whatever happened above, the session's end frees the lock
        return held

    def break_lock(self, *, force: bool = False) -> LockInfo | None:
        with self._session(f"unlocking {self.location}") as conn:
            if installed_version(conn) is None:
                return None
            return self._lock.clear(conn, force=force)

    # --- writing ------------------------------------------------------------------------------------------

    def _locked_conn(self) -> Conn:
        """The lock's connection, which every write goes through (StateError: the lock is not held)."""
        if self._held is None or self._conn is None:
            raise needs_lock(self.location)
        return self._conn

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[tuple[Conn, int]]:
        """One write transaction under the lock: the state's row locked, its serial bumped; (conn, serial)."""
        conn = self._locked_conn()
        with self.db.errors(f"{doing} ({self.location})"), conn.transaction():
            serial = _one(conn.execute(sql.BUMP_SERIAL, (self.name,)).fetchone())
            if serial is None:
                raise no_state_yet(self.location)
            yield conn, _int(serial)

    def create(self, identity: Identity) -> State:
        conn = self._locked_conn()
        meta = new_meta(identity, now=self._clock())
        with self.db.errors(f"creating {self.location}"), conn.transaction():
            self._insert_meta(conn, meta)
        return State(meta, {}, {}, {}, {})

    def _insert_meta(self, conn: Conn, meta: StateMeta, *, people: str | None = None) -> None:
        if conn.execute(sql.SELECT_EXISTS, (self.name,)).fetchone() is not None:
            raise StateError(f"{self.location}: a state already exists here")
        conn.execute(sql.INSERT_STATE, sql.state_params(self.name, meta, people=people))

    def open_journal(self, entry: JournalEntry) -> None:
        with self._write("opening a journal entry") as (conn, _serial):
            conn.execute(sql.UPSERT_JOURNAL, sql.journal_params(self.name, entry))

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        with self._write("settling a journal entry") as (conn, _serial):
            conn.execute(sql.DELETE_JOURNAL, (self.name, client_token))

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        rows = batch_rows(batch)
        at = format_time(batch.time)
        with self._write("recording an accepted batch") as (conn, serial):
            info = BatchInfo(
                _int(_one(conn.execute(sql.SELECT_NEXT_BATCH, (self.name,)).fetchone())),
                batch.semester,
                at,
                batch.import_record_id,
                batch.commit,
                batch.client_token,
                batch.import_record_name,
                len(rows),
            )
            conn.execute(sql.INSERT_BATCH, sql.batch_params(self.name, info))
            keys = [(r.semester, r.reviewee, r.metric, f, v) for r, fields in rows for f, v in sorted(fields.items())]
            self._set_batch_values(conn, keys, batch=info.id, serial=serial, at=at)
            if rows:
                keys_of_rows = [list(c) for c in zip(*(r for r, _ in rows), strict=True)]
                conn.execute(sql.DELETE_REJECTIONS, (self.name, *keys_of_rows))
            conn.execute(sql.DELETE_JOURNAL, (self.name, batch.client_token))
            conn.execute(sql.SET_LAST_APPLY, (info.id + 1, info.time, info.commit, info.id, self.name))
        return info

    def _set_batch_values(
        self, conn: Conn, keys: Sequence[tuple[str, str, str, str, str]], *, batch: int, serial: int, at: str
    ) -> None:
        """`_set_values` for an accepted batch. A value the database cannot hold (a DataError: U+0000, say) is
        found, one value at a time, and named as UnstorableValue; the write's transaction is then rolled back
        whole."""
        try:
            with conn.transaction():  # a savepoint: the transaction stays usable for the search below
                self._set_values(conn, keys, batch=batch, serial=serial, at=at)
        except psycopg.DataError:
            for key in keys:
                try:
                    with conn.transaction():
                        conn.execute(sql.PROBE_TEXT, (key[4],))
                except psycopg.DataError as refused:
                    why = str(refused).split("\n")[0]  # psycopg's own words (a text is checked as it is sent)
                    raise UnstorableValue(
                        f"{self.location}: the postgres backend cannot store the value of field {key[3]} of "
                        f"reviewee {key[1]}, metric {key[2]} (semester {key[0]}): {self.db.secrets.scrub(why)}",
                        key=ValueKey(*key[:4]),
                        backend="postgres",
                    ) from None
            raise

    def _set_values(
        self, conn: Conn, keys: Sequence[tuple[str, str, str, str, str]], *, batch: int, serial: int, at: str
    ) -> None:
        """Set values (semester, reviewee, metric, field, value) as of `batch`, and add them to the history."""
        if not keys:
            return
        columns = [list(c) for c in zip(*keys, strict=True)]
        conn.execute(sql.UPSERT_VALUES, (self.name, batch, *columns))
        conn.execute(sql.INSERT_SET_HISTORY, (self.name, serial, at, batch, *columns))

    def record_rejected(self, rejections: Sequence[Rejection]) -> None:
        self._locked_conn()  # with none to record too, as every write
        if not rejections:
            return
        with self._write("recording rejected rows") as (conn, _serial), conn.cursor() as cur:
            cur.executemany(sql.UPSERT_REJECTION, [sql.rejection_params(self.name, r) for r in rejections])

    def record_import_request(self, at: datetime) -> None:
        stamp = format_time(at)
        with self._write("recording the pacing mark") as (conn, _serial):
            conn.execute(sql.SET_IMPORT_REQUEST, (stamp, self.name, stamp))

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        wanted = sorted({(k[0], k[1], k[2], k[3]) for k in keys})
        conn = self._locked_conn()
        if not wanted:
            return 0
        columns = [list(c) for c in zip(*wanted, strict=True)]
        with self.db.errors(f"forgetting values ({self.location})"):
            present = _one(conn.execute(sql.COUNT_VALUES, (self.name, *columns)).fetchone())
        if present is None or not _int(present):
            return 0
        with self._write("forgetting values") as (conn, serial):
            gone = conn.execute(sql.DELETE_VALUES, (self.name, *columns)).fetchall()
            if gone:
                cols = [list(c) for c in zip(*gone, strict=True)]
                at = format_time(self._clock())
                conn.execute(sql.INSERT_FORGET_HISTORY, (self.name, serial, at, reason, *cols))
        return len(gone)

    def record_people(self, people: Mapping[str, Any]) -> bool:
        text = files.encode_people(people)
        conn = self._locked_conn()
        with self.db.errors(f"reading the people cache of {self.location}"):
            row = conn.execute(sql.SELECT_PEOPLE, (self.name,)).fetchone()
        if row is None:
            raise no_state_yet(self.location)
        (stored,) = row
        if stored == text:
            return False
        with self._write("writing the people cache") as (conn, _serial):
            conn.execute(sql.SET_PEOPLE, (text, self.name))
        return True

    def compact(self) -> None:
        """Nothing to fold: every write is in its tables when it returns. Needs the lock all the same, as every
        write does on every backend."""
        self._locked_conn()

    def keep_read_cache(self, base: Path) -> None:
        """Nothing to keep: the database has no shards to decode."""
        return None

    # --- moving a state in (state migrate) ----------------------------------------------------------------

    def adopt(self, state: State, *, people: Mapping[str, Any] | None) -> None:
        """Write a whole state as it is (lineage, serial, batches, journal, rejections, people) in one
        transaction; its history starts with each value's last set, as the source kept it. Refused when
        this name holds a state already."""
        conn = self._locked_conn()
        with self.db.errors(f"migrating the state into {self.location}"), conn.transaction():
            self._insert_meta(conn, state.meta, people=None if people is None else files.encode_people(people))
            with conn.cursor() as cur:
                cur.executemany(
                    sql.INSERT_BATCH, [sql.batch_params(self.name, b) for _, b in sorted(state.batches.items())]
                )
            by_batch: dict[int, list[tuple[str, str, str, str, str]]] = {}
            for key, (value, batch_id) in state.iter_values():
                by_batch.setdefault(batch_id, []).append((*key, value))
            for batch_id, keys in sorted(by_batch.items()):
                info = state.batches.get(batch_id)
                self._set_values(
                    conn, keys, batch=batch_id, serial=state.meta.serial, at=info.time if info else state.meta.created
                )
            rejections = [sql.rejection_params(self.name, r) for r in state.rejections.values()]
            if rejections:
                with conn.cursor() as cur:
                    cur.executemany(sql.INSERT_REJECTION, rejections)
            for entry in state.journal.values():
                conn.execute(sql.INSERT_JOURNAL, sql.journal_params(self.name, entry))

    # --- the quota every state of one app shares -----------------------------------------------------------

    def import_quota(self, target: Identity) -> Callable[[float, float], float]:
        """A claim on the import quota of `target`'s (host, app ID), for the pacer: given the time now and the
        interval, it reserves the next free slot (syncer.state.postgres.quota.next_slot: the app's last
        reserved slot plus the interval, or now) and returns the seconds until it. Slots are kept in the
        database server's time (the caller's `now` only stands in if the server gives none), so runners whose
        clocks differ still keep to the interval. The row is taken with SELECT ... FOR UPDATE, so claims of
        concurrent applies queue up one interval apart in the order they came. Needs the lock (its
        connection)."""
        host, app = target.host, target.app_id or ""

        def claim(now: float, interval: float) -> float:
            if self._conn is None:
                raise StateError(f"{self.location}: pacing through the database needs the state's lock")
            conn = self._conn
            with self.db.errors(f"taking the next import slot of {host}"), conn.transaction():
                conn.execute(sql.ENSURE_QUOTA, (host, app))
                mark = _one(conn.execute(sql.SELECT_QUOTA, (host, app)).fetchone())
                last = None if mark is None else float(str(mark))
                # The server's clock, not the caller's: runners' clocks differ, and a mark left by one whose
                # clock is behind would let the next request go at once (once the row is ours: clock_timestamp).
                server_now = _one(conn.execute(sql.SELECT_SERVER_NOW).fetchone())
                now = now if server_now is None else float(str(server_now))
                slot = next_slot(now=now, last=last, interval=interval)
                conn.execute(sql.SET_QUOTA, (slot, host, app))
            return slot - now

        return claim
