"""The postgres backend's lock: a session-level advisory lock (`pg_advisory_lock`) on a key derived from the
schema and the state's name, so it ends with its holder's connection: however the holder dies (killed,
its runner lost), the server closes the session and the lock is free, with nothing to unlock. Who holds
it is described in a row of `syncer_locks` (pid, host, time, command, the session's backend pid), for
`syncer state show` and the messages; a row whose lock is not held any more only says who held it last.
`state unlock --force` ends a live holder's session (pg_terminate_backend): it then fails at its next
write, before anything else is recorded."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

import psycopg

from syncer.errors import StateError
from syncer.state.model import Clock, Liveness, LockHolder, LockInfo, format_time
from syncer.state.postgres.db import Database
from syncer.state.postgres.schema import lock_key

Conn = psycopg.Connection[tuple[object, ...]]


def key_parts(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: (classid, objid), its high and low 32 bits, unsigned."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


class AdvisoryLock:
    def __init__(
        self,
        db: Database,
        name: str,
        *,
        location: str,
        clock: Clock,
        hostname: Callable[[], str] = socket.gethostname,
        pid: Callable[[], int] = os.getpid,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
    ) -> None:
        self.db = db
        self.name = name
        self.location = location
        self._clock = clock
        self._hostname = hostname
        self._pid = pid
        self._sleep = sleep
        self._attempts = max(1, attempts)
        self.taken_over: LockInfo | None = None

    def key(self, conn: Conn) -> int:
        row = conn.execute("SELECT current_schema()").fetchone()
        return lock_key("state", str(row[0] if row else ""), self.name)

    def take(self, conn: Conn, command: str) -> LockInfo:
        """Take the lock on `conn` (which holds it until it closes), or raise naming the live holder. A
        row left by a holder that died is taken over (`taken_over`)."""
        key = self.key(conn)
        for attempt in range(self._attempts):
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is not None and row[0]:
                break
            if attempt + 1 < self._attempts:  # a holder killed an instant ago: its session is ending
                self._sleep(0.1)
        else:
            held = self.read(conn)
            who = self.describe(held.info, held.status) if held is not None else "another session"
            raise StateError(
                f"the state {self.location} is locked by {who}; wait for it to finish (its lock ends with its "
                "database session, also when it is killed). If it is stuck, stop it; `syncer state unlock "
                "--force` ends its session"
            )
        info = LockInfo(self._pid(), self._hostname(), format_time(self._clock()), command, uuid.uuid4().hex)
        with conn.transaction():
            previous = self._row(conn)
            conn.execute(
                "INSERT INTO syncer_locks (state, pid, host, at, command, id, backend_pid) "
                "VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid()) ON CONFLICT (state) DO UPDATE SET "
                "pid = excluded.pid, host = excluded.host, at = excluded.at, command = excluded.command, "
                "id = excluded.id, backend_pid = excluded.backend_pid",
                (self.name, info.pid, info.host, info.time, info.command, info.id),
            )
        self.taken_over = previous[0] if previous else None
        return info

    def release(self, conn: Conn, info: LockInfo) -> None:
        with conn.transaction():
            conn.execute("DELETE FROM syncer_locks WHERE state = %s AND id = %s", (self.name, info.id))
        conn.execute("SELECT pg_advisory_unlock(%s)", (self.key(conn),))

    def _row(self, conn: Conn) -> tuple[LockInfo, int] | None:
        row = conn.execute(
            "SELECT pid, host, at, command, id, backend_pid FROM syncer_locks WHERE state = %s", (self.name,)
        ).fetchone()
        if row is None:
            return None
        pid, host, at, command, id_, backend = row
        return LockInfo(int(str(pid)), str(host), str(at), str(command), str(id_)), int(str(backend))

    def holder_session(self, conn: Conn) -> int | None:
        """The backend pid of the session holding the advisory lock (None: nobody holds it)."""
        classid, objid = key_parts(self.key(conn))
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s "
            "AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (classid, objid),
        ).fetchone()
        return None if row is None else int(str(row[0]))

    def read(self, conn: Conn) -> LockHolder | None:
        """Who holds the lock, as the row says, and whether its session still holds it."""
        found = self._row(conn)
        session = self.holder_session(conn)
        if found is None:
            if session is None:
                return None
            return LockHolder(
                LockInfo(0, "", "", f"a session (backend pid {session}) that wrote no holder row", ""), "alive"
            )
        info, backend = found
        status: Liveness = "alive" if session is not None and session == backend else "dead"
        return LockHolder(info, status)

    def describe(self, info: LockInfo, status: Liveness) -> str:
        if not info.host:
            return info.command
        return f"{info.command or 'a writer'} (pid {info.pid} on {info.host}, {status}) since {info.time}"

    def clear(self, conn: Conn, *, force: bool) -> LockInfo | None:
        """`syncer state unlock`: forget a dead holder's row; end a live holder's session only with `force`."""
        held = self.read(conn)
        if held is None:
            return None
        if held.status == "alive":
            if not force:
                raise StateError(
                    f"the state {self.location} is locked by {self.describe(held.info, held.status)}: its "
                    "database session is still open (its lock ends with it). Use --force only if you are sure "
                    "it is stuck: that ends its session"
                )
            session = self.holder_session(conn)
            if session is not None:
                row = conn.execute("SELECT pg_terminate_backend(%s)", (session,)).fetchone()
                if row is None or not row[0]:
                    raise StateError(
                        f"could not end the session holding {self.location}'s lock; ask the database's "
                        "administrator to end it (pg_terminate_backend)"
                    )
        with conn.transaction():
            conn.execute("DELETE FROM syncer_locks WHERE state = %s", (self.name,))
        return held.info
