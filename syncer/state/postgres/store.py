# Over 400 lines: rows, reads and the quota are still to move out of the store (issue "One home per concept").
"""The `postgres` backend: states as rows of one database (syncer.state.postgres.schema), many states to a
database, each its own (name, lineage, serial, identity).

- **Reading** (`plan`, `state show`): one REPEATABLE READ, READ ONLY transaction: a consistent snapshot,
  which never waits for a writer (nor makes one wait).
- **The lock** (syncer.state.postgres.lock): a session-level advisory lock held by the connection every
  write goes through; it ends with that connection.
- **Writing**: each operation is one transaction that bumps the serial (as each line of the local log
  does): an accepted batch writes its metadata, its values, their history, and settles its journal entry
  and its rows' rejections at once; a journal entry is committed before its request is sent.
- **History**: every value set and every key forgotten is a row of `syncer_history` (time, serial, batch,
  reason), so `state history` can tell which batch, commit and import record set a value.
- **Pacing shared by an app**: `import_quota` hands the pacer a claim on the row of `syncer_quota` of the
  state's (host, app ID), taken with SELECT ... FOR UPDATE before each request: every apply of one app,
  from any repository or runner, keeps to import_per_minute together.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from syncer.errors import StateError
from syncer.model import Identity, RowKey, ValueKey
from syncer.state import format as files
from syncer.state.base import StoreBase, batch_rows, needs_lock, new_meta, no_state_yet
from syncer.state.history import Change, History, Selection
from syncer.state.model import (
    STATE_FORMAT,
    BatchInfo,
    BatchRecord,
    Clock,
    JournalEntry,
    LastApply,
    LockHolder,
    LockInfo,
    Rejection,
    RKey,
    Row,
    State,
    StateMeta,
    VKey,
    format_time,
    utc_now,
)
from syncer.state.postgres.db import Database
from syncer.state.postgres.lock import AdvisoryLock, Conn
from syncer.state.postgres.schema import check_version, ensure_schema, installed_version

#: Seconds ahead of the server's now past which the quota's last slot is taken for a clock that jumped (and
#: counts as now) rather than for a queue of applies waiting their turn.
MAX_AHEAD = 600.0

_META_COLUMNS = (
    "format, lineage, serial, generation, created, host, app_id, user_id_type, next_batch, last_import_request, "
    "last_apply_at, last_apply_commit, last_apply_batch, plan_key"
)


def _s(v: object) -> str:
    return str(v)


def _i(v: object) -> int:
    return int(str(v))


def _opt(v: object) -> str | None:
    return None if v is None else str(v)


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
            return conn.execute("SELECT 1 FROM syncer_states WHERE name = %s", (self.name,)).fetchone() is not None

    def load(self) -> State | None:
        with self._session(f"reading {self.location}") as conn:
            version = installed_version(conn)
            check_version(version)
            if version is None:
                return None
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return self._read(conn)

    def _read(self, conn: Conn) -> State | None:
        row = conn.execute(f"SELECT {_META_COLUMNS} FROM syncer_states WHERE name = %s", (self.name,)).fetchone()
        if row is None:
            return None
        fmt = _i(row[0])
        if fmt > STATE_FORMAT:
            raise StateError(
                f"{self.location}: state format {fmt} is newer than this syncer understands (format "
                f"{STATE_FORMAT}); upgrade syncer (pip install -U 'feishu-syncer[postgres]')"
            )
        meta = StateMeta(
            format=fmt,
            lineage=_s(row[1]),
            serial=_i(row[2]),
            generation=_i(row[3]),
            created=_s(row[4]),
            identity=Identity(_s(row[5]), _opt(row[6]), _s(row[7])),
            next_batch=_i(row[8]),
            last_import_request=_opt(row[9]),
            last_apply=LastApply(_s(row[10]), _s(row[11]), _i(row[12])) if row[12] is not None else None,
            plan_key=_opt(row[13]),
        )
        rows: dict[RKey, Row] = {}
        per_semester: dict[str, int] = {}
        current: RKey | None = None
        fields: dict[str, str] = {}
        batches_of: dict[str, int] = {}

        def close_row() -> None:
            if current is not None:
                ids = set(batches_of.values())
                rows[current] = (fields, ids.pop() if len(ids) == 1 else dict(batches_of))

        with conn.cursor() as cur:
            cur.execute(
                "SELECT semester, reviewee, metric, field, value, batch FROM syncer_values WHERE state = %s "
                "ORDER BY semester, reviewee, metric, field",
                (self.name,),
            )
            for sem, rev, met, fid, value, batch in cur:
                key = (_s(sem), _s(rev), _s(met))
                if key != current:
                    close_row()
                    current, fields, batches_of = key, {}, {}
                fields[_s(fid)] = _s(value)
                batches_of[_s(fid)] = _i(batch)
                per_semester[key[0]] = per_semester.get(key[0], 0) + 1
            close_row()
        batches = {
            _i(b[0]): BatchInfo(_i(b[0]), _s(b[1]), _s(b[2]), _s(b[3]), _s(b[4]), _s(b[5]), _s(b[6]), _i(b[7]))
            for b in conn.execute(
                "SELECT id, semester, at, import_record_id, commit_sha, client_token, import_record_name, "
                "row_count FROM syncer_batches WHERE state = %s ORDER BY id",
                (self.name,),
            )
        }
        rejections = {}
        for r in conn.execute(
            "SELECT semester, reviewee, metric, code, at, digest, message, client_token FROM syncer_rejections "
            "WHERE state = %s",
            (self.name,),
        ):
            rej = Rejection(RowKey(_s(r[0]), _s(r[1]), _s(r[2])), _i(r[3]), _s(r[4]), _s(r[5]), _s(r[6]), _s(r[7]))
            rejections[rej.row] = rej
        journal = {}
        for j in conn.execute(
            "SELECT client_token, semester, opened, body, entries, import_record_name, commit_sha FROM "
            "syncer_journal WHERE state = %s",
            (self.name,),
        ):
            values = tuple((ValueKey(*item[:4]), item[4]) for item in json.loads(_s(j[4])))
            entry = JournalEntry(_s(j[0]), _s(j[1]), _s(j[2]), _s(j[3]), values, _s(j[5]), _s(j[6]))
            journal[entry.client_token] = entry
        return State(meta, rows, batches, rejections, journal, per_semester)

    def read_people(self) -> dict[str, Any] | None:
        with self._session(f"reading the people cache of {self.location}") as conn:
            if installed_version(conn) is None:
                return None
            row = conn.execute("SELECT people FROM syncer_states WHERE name = %s", (self.name,)).fetchone()
        if row is None or row[0] is None:
            return None
        return files.decode_people(_s(row[0]), where=f"{self.location} (people cache)")

    def history(self, selection: Selection) -> History:
        """Every change of the selected values, oldest first, each with the batch that made it."""
        where, args = ["h.state = %s"], [self.name]
        for column, wanted in (
            ("semester", selection.semesters),
            ("reviewee", selection.reviewees),
            ("metric", selection.metrics),
            ("field", selection.fields),
        ):
            if wanted:
                where.append(f"h.{column} = ANY(%s)")
                args.append(sorted(wanted))  # type: ignore[arg-type]
        query = (
            "SELECT h.semester, h.reviewee, h.metric, h.field, h.op, h.value, h.at, h.reason, b.id, b.semester, "
            "b.at, b.import_record_id, b.commit_sha, b.client_token, b.import_record_name, b.row_count "
            "FROM syncer_history h LEFT JOIN syncer_batches b ON b.state = h.state AND b.id = h.batch "
            f"WHERE {' AND '.join(where)} ORDER BY h.semester, h.reviewee, h.metric, h.field, h.seq"
        )
        out = []
        with self._session(f"reading the history of {self.location}") as conn:
            if installed_version(conn) is not None:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    for r in conn.execute(query.encode("utf-8"), args):
                        batch = (
                            BatchInfo(
                                _i(r[8]), _s(r[9]), _s(r[10]), _s(r[11]), _s(r[12]), _s(r[13]), _s(r[14]), _i(r[15])
                            )
                            if r[8] is not None
                            else None
                        )
                        key = (_s(r[0]), _s(r[1]), _s(r[2]), _s(r[3]))
                        if r[4] == "forget":
                            out.append(Change(*key, "forget", None, _s(r[6]), batch, _s(r[7])))
                        else:
                            out.append(Change(*key, "set", _opt(r[5]), _s(r[6]), batch, _s(r[7])))
        return History(tuple(out), True, "the postgres backend keeps every change: each value set, each key forgotten")

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
            row = conn.execute(
                "UPDATE syncer_states SET serial = serial + 1 WHERE name = %s RETURNING serial", (self.name,)
            ).fetchone()
            if row is None:
                raise no_state_yet(self.location)
            yield conn, _i(row[0])

    def create(self, identity: Identity) -> State:
        conn = self._locked_conn()
        meta = new_meta(identity, now=self._clock())
        with self.db.errors(f"creating {self.location}"), conn.transaction():
            self._insert_meta(conn, meta)
        return State(meta, {}, {}, {}, {})

    def _insert_meta(self, conn: Conn, meta: StateMeta, *, people: str | None = None) -> None:
        if conn.execute("SELECT 1 FROM syncer_states WHERE name = %s", (self.name,)).fetchone() is not None:
            raise StateError(f"{self.location}: a state already exists here")
        last = meta.last_apply
        conn.execute(
            f"INSERT INTO syncer_states (name, {_META_COLUMNS}, people) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                self.name,
                meta.format,
                meta.lineage,
                meta.serial,
                meta.generation,
                meta.created,
                meta.identity.host,
                meta.identity.app_id,
                meta.identity.user_id_type,
                meta.next_batch,
                meta.last_import_request,
                last.time if last else None,
                last.commit if last else None,
                last.batch if last else None,
                meta.plan_key,
                people,
            ),
        )

    def open_journal(self, entry: JournalEntry) -> None:
        entries = json.dumps([[*k, v] for k, v in entry.values], ensure_ascii=False)
        with self._write("opening a journal entry") as (conn, _serial):
            conn.execute(
                "INSERT INTO syncer_journal (state, client_token, semester, opened, body, entries, "
                "import_record_name, commit_sha) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT "
                "(state, client_token) DO UPDATE SET semester = excluded.semester, opened = excluded.opened, "
                "body = excluded.body, entries = excluded.entries, import_record_name = "
                "excluded.import_record_name, commit_sha = excluded.commit_sha",
                (
                    self.name,
                    entry.client_token,
                    entry.semester,
                    entry.opened,
                    entry.body,
                    entries,
                    entry.import_record_name,
                    entry.commit,
                ),
            )

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        with self._write("settling a journal entry") as (conn, _serial):
            conn.execute("DELETE FROM syncer_journal WHERE state = %s AND client_token = %s", (self.name, client_token))

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        rows = batch_rows(batch)
        at = format_time(batch.time)
        with self._write("recording an accepted batch") as (conn, serial):
            got = conn.execute("SELECT next_batch FROM syncer_states WHERE name = %s", (self.name,)).fetchone()
            assert got is not None
            info = BatchInfo(
                _i(got[0]),
                batch.semester,
                at,
                batch.import_record_id,
                batch.commit,
                batch.client_token,
                batch.import_record_name,
                len(rows),
            )
            conn.execute(
                "INSERT INTO syncer_batches (state, id, semester, at, import_record_id, commit_sha, client_token, "
                "import_record_name, row_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (self.name, *info),
            )
            keys = [(r.semester, r.reviewee, r.metric, f, v) for r, fields in rows for f, v in sorted(fields.items())]
            self._set_values(conn, keys, batch=info.id, serial=serial, at=at)
            if rows:
                conn.execute(
                    "DELETE FROM syncer_rejections WHERE state = %s AND (semester, reviewee, metric) IN "
                    "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))",
                    (
                        self.name,
                        [r.semester for r, _ in rows],
                        [r.reviewee for r, _ in rows],
                        [r.metric for r, _ in rows],
                    ),
                )
            conn.execute(
                "DELETE FROM syncer_journal WHERE state = %s AND client_token = %s", (self.name, batch.client_token)
            )
            conn.execute(
                "UPDATE syncer_states SET next_batch = greatest(next_batch, %s), last_apply_at = %s, "
                "last_apply_commit = %s, last_apply_batch = %s WHERE name = %s",
                (info.id + 1, info.time, info.commit, info.id, self.name),
            )
        return info

    def _set_values(
        self, conn: Conn, keys: Sequence[tuple[str, str, str, str, str]], *, batch: int, serial: int, at: str
    ) -> None:
        if not keys:
            return
        columns = [list(c) for c in zip(*keys, strict=True)]
        conn.execute(
            "INSERT INTO syncer_values (state, semester, reviewee, metric, field, value, batch) "
            "SELECT %s, s, r, m, f, v, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS u(s, r, m, f, v) ON CONFLICT (state, semester, reviewee, metric, field) DO UPDATE SET "
            "value = excluded.value, batch = excluded.batch",
            (self.name, batch, *columns),
        )
        conn.execute(
            "INSERT INTO syncer_history (state, serial, at, op, semester, reviewee, metric, field, value, batch) "
            "SELECT %s, %s, %s, 'set', s, r, m, f, v, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
            "%s::text[], %s::text[]) AS u(s, r, m, f, v)",
            (self.name, serial, at, batch, *columns),
        )

    def record_rejected(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with self._write("recording rejected rows") as (conn, _serial), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO syncer_rejections (state, semester, reviewee, metric, code, at, digest, message, "
                "client_token) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT "
                "(state, semester, reviewee, metric) DO UPDATE SET code = excluded.code, at = excluded.at, "
                "digest = excluded.digest, message = excluded.message, client_token = excluded.client_token",
                [(self.name, *r.row, r.code, r.at, r.digest, r.message, r.client_token) for r in rejections],
            )

    def record_import_request(self, at: datetime) -> None:
        stamp = format_time(at)
        with self._write("recording the pacing mark") as (conn, _serial):
            conn.execute(
                "UPDATE syncer_states SET last_import_request = %s WHERE name = %s AND "
                "(last_import_request IS NULL OR last_import_request < %s)",
                (stamp, self.name, stamp),
            )

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        wanted = sorted({(k[0], k[1], k[2], k[3]) for k in keys})
        conn = self._locked_conn()
        if not wanted:
            return 0
        columns = [list(c) for c in zip(*wanted, strict=True)]
        with self.db.errors(f"forgetting values ({self.location})"):
            present = conn.execute(
                "SELECT count(*) FROM syncer_values WHERE state = %s AND (semester, reviewee, metric, field) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]))",
                (self.name, *columns),
            ).fetchone()
        if present is None or not _i(present[0]):
            return 0
        with self._write("forgetting values") as (conn, serial):
            gone = conn.execute(
                "DELETE FROM syncer_values WHERE state = %s AND (semester, reviewee, metric, field) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])) "
                "RETURNING semester, reviewee, metric, field",
                (self.name, *columns),
            ).fetchall()
            if gone:
                cols = [list(c) for c in zip(*gone, strict=True)]
                conn.execute(
                    "INSERT INTO syncer_history (state, serial, at, op, semester, reviewee, metric, field, reason) "
                    "SELECT %s, %s, %s, 'forget', s, r, m, f, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
                    "%s::text[]) AS u(s, r, m, f)",
                    (self.name, serial, format_time(self._clock()), reason, *cols),
                )
        return len(gone)

    def record_people(self, people: Mapping[str, Any]) -> bool:
        text = files.encode_people(people)
        conn = self._locked_conn()
        with self.db.errors(f"reading the people cache of {self.location}"):
            row = conn.execute("SELECT people FROM syncer_states WHERE name = %s", (self.name,)).fetchone()
        if row is None:
            raise no_state_yet(self.location)
        if row[0] == text:
            return False
        with self._write("writing the people cache") as (conn, _serial):
            conn.execute("UPDATE syncer_states SET people = %s WHERE name = %s", (text, self.name))
        return True

    def compact(self) -> None:
        """Nothing to fold: every write is in its tables when it returns."""

    def keep_read_cache(self, base: Path) -> None:
        """Nothing to keep: the database has no shards to decode."""

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
                    "INSERT INTO syncer_batches (state, id, semester, at, import_record_id, commit_sha, client_token, "
                    "import_record_name, row_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(self.name, *b) for _, b in sorted(state.batches.items())],
                )
            by_batch: dict[int, list[tuple[str, str, str, str, str]]] = {}
            for key, (value, batch_id) in state.iter_values():
                by_batch.setdefault(batch_id, []).append((*key, value))
            for batch_id, keys in sorted(by_batch.items()):
                info = state.batches.get(batch_id)
                self._set_values(
                    conn, keys, batch=batch_id, serial=state.meta.serial, at=info.time if info else state.meta.created
                )
            self.record_rejected_in(conn, state.rejections.values())
            for entry in state.journal.values():
                conn.execute(
                    "INSERT INTO syncer_journal (state, client_token, semester, opened, body, entries, "
                    "import_record_name, commit_sha) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        self.name,
                        entry.client_token,
                        entry.semester,
                        entry.opened,
                        entry.body,
                        json.dumps([[*k, v] for k, v in entry.values], ensure_ascii=False),
                        entry.import_record_name,
                        entry.commit,
                    ),
                )

    def record_rejected_in(self, conn: Conn, rejections: Iterable[Rejection]) -> None:
        rows = [(self.name, *r.row, r.code, r.at, r.digest, r.message, r.client_token) for r in rejections]
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO syncer_rejections (state, semester, reviewee, metric, code, at, digest, message, "
                    "client_token) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )

    # --- the quota every state of one app shares -----------------------------------------------------------

    def import_quota(self, target: Identity) -> Callable[[float, float], float]:
        """A claim on the import quota of `target`'s (host, app ID), for the pacer: given the time now and the
        interval, it reserves the next free slot (the app's last reserved slot plus the interval, or now) and
        returns the seconds until it. Slots are kept in the database server's time (the caller's `now` only
        stands in if the server gives none), so runners whose clocks differ still keep to the interval. The
        row is taken with SELECT ... FOR UPDATE, so claims of concurrent applies queue up one interval apart in
        the order they came. Needs the lock (its connection)."""
        host, app = target.host, target.app_id or ""

        def claim(now: float, interval: float) -> float:
            if self._conn is None:
                raise StateError(f"{self.location}: pacing through the database needs the state's lock")
            conn = self._conn
            with self.db.errors(f"taking the next import slot of {host}"), conn.transaction():
                conn.execute(
                    "INSERT INTO syncer_quota (host, app_id, last_request) VALUES (%s, %s, NULL) "
                    "ON CONFLICT (host, app_id) DO NOTHING",
                    (host, app),
                )
                row = conn.execute(
                    "SELECT last_request FROM syncer_quota WHERE host = %s AND app_id = %s FOR UPDATE", (host, app)
                ).fetchone()
                last = None if row is None or row[0] is None else float(str(row[0]))
                # The server's clock, not the caller's: runners' clocks differ, and a mark left by one whose
                # clock is behind would let the next request go at once (once the row is ours: clock_timestamp).
                got = conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
                now = float(str(got[0])) if got is not None else now
                slot = now if last is None else max(now, last + interval)
                if slot - now > MAX_AHEAD:  # a mark far ahead of this clock: a skewed clock, not a queue
                    slot = now
                conn.execute(
                    "UPDATE syncer_quota SET last_request = %s WHERE host = %s AND app_id = %s", (slot, host, app)
                )
            return slot - now

        return claim
