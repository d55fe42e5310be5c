"""The postgres state store against a real server (tests/pgserver.py): the same state as the local backend
after the same writes, consistent snapshots that never wait, the advisory lock (a SIGKILLed holder leaves
none), history, the shared quota, the schema's versions and grants, and errors that never show the DSN."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncer.errors import StateError, StateUnavailable, UnstorableValue
from syncer.load.settings import Settings, StateSettings
from syncer.model import Identity, RowKey, ValueKey
from syncer.state.history import Selection
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord, JournalEntry, Rejection, State
from syncer.state.postgres import MISSING, open_postgres_store
from syncer.state.postgres.db import Database
from syncer.state.postgres.schema import SCHEMA_VERSION, schema_sql
from syncer.state.postgres.store import PostgresStateStore
from tests.pgserver import PgServer

SEM = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REV = "7272580325522276372"
NPS = "7272580325522276401"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return T0


def pg_store(dsn: str, name: str = "sales") -> PostgresStateStore:
    return PostgresStateStore(Database(dsn, variable="SYNCER_PG_DSN"), name, clock=clock)


def batch(
    rows: dict[tuple[str, str, str], dict[str, str]], *, token: str, commit: str = "c0ffee" * 6 + "c0ff"
) -> BatchRecord:
    return BatchRecord(
        SEM, token, f"rec-{token}", commit, f"syncer {commit[:7]}", T0, {RowKey(*r): f for r, f in rows.items()}
    )


def image(state: State | None) -> tuple[object, ...]:
    """Everything a reader sees of a state, to compare two states."""
    assert state is not None
    m = state.meta
    return (
        m.serial,
        m.lineage,
        m.identity,
        m.next_batch,
        m.last_apply,
        m.last_import_request,
        m.plan_key,
        dict(state.iter_values()),
        dict(state.batches),
        dict(state.rejections),
        dict(state.journal),
        dict(state.per_semester),
    )


def writes(store: LocalStateStore | PostgresStateStore) -> None:
    """One of every write, in the order an apply makes them."""
    entry = JournalEntry("j1", SEM, "2026-05-01T12:00:00.000Z", '{"body":1}', ((ValueKey(SEM, ALICE, REV, "2"), "40"),))
    store.open_journal(entry)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}, (SEM, BOB, REV): {"2": "60"}}, token="j1"))
    store.open_journal(entry._replace(client_token="j2"))
    store.record_rejected(
        [Rejection(RowKey(SEM, BOB, NPS), 1580306, "2026-05-01T12:00:00.000Z", "d" * 64, "gone", "j2")]
    )
    store.settle_journal("j2", outcome="rejected")
    store.open_journal(entry._replace(client_token="j3"))  # left open: a kill
    store.record_batch(batch({(SEM, ALICE, REV): {"4": "2"}}, token="j4", commit="b" * 40))
    store.record_import_request(T0 + timedelta(seconds=6))
    store.record_import_request(T0)  # an older mark does not go back
    assert store.forget([(SEM, BOB, REV, "2"), (SEM, BOB, NPS, "9")], reason="rm") == 1
    assert store.forget([(SEM, BOB, NPS, "9")]) == 0
    assert store.record_people({"people": {"a@example.com": "ou_1"}}) is True
    assert store.record_people({"people": {"a@example.com": "ou_1"}}) is False


def test_the_same_writes_give_the_same_state_as_the_local_backend(pg_dsn: str, tmp_path: Path) -> None:
    local = LocalStateStore(tmp_path / "s", clock=clock)
    pg = pg_store(pg_dsn)
    with local.locked(), pg.locked():
        created = local.create(IDENT)
        pg.adopt(created, people=None)  # the same lineage and plan key, so the images compare
        writes(local)
        writes(pg)
    assert image(pg.load()) == image(local.load())
    assert pg.read_people() == local.read_people() == {"people": {"a@example.com": "ou_1"}}
    state = pg.load()
    assert (
        state is not None
        and state.get((SEM, ALICE, REV, "4")) == ("2", 2)
        and state.get((SEM, ALICE, REV, "2")) == ("40", 1)
    )


def test_each_write_bumps_the_serial_and_create_refuses_an_existing_state(pg_dsn: str) -> None:
    store = pg_store(pg_dsn)
    assert store.load() is None and not store.exists()
    with store.locked():
        assert store.create(IDENT).meta.serial == 1
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
        store.record_import_request(T0)
        with pytest.raises(StateError, match="already exists"):
            store.create(IDENT)
    state = store.load()
    assert state is not None and state.meta.serial == 3 and state.meta.last_apply is not None
    assert state.meta.last_apply.batch == 1 and state.identity == IDENT


def test_a_value_the_database_cannot_hold_is_named_and_nothing_of_the_batch_is_stored(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U+0000 (which validation refuses) in an accepted batch: the write is refused whole, as UnstorableValue
    naming the value's key and the backend, for apply to set its row aside (docs/state.md). A refusal of
    the data that no single value explains is a StateError as any other, never swallowed."""
    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
        before = image(store.load())
        with pytest.raises(UnstorableValue) as caught:
            store.record_batch(batch({(SEM, ALICE, NPS): {"2": "30"}, (SEM, BOB, NPS): {"7": "a\0b"}}, token="b"))
        assert caught.value.key == ValueKey(SEM, BOB, NPS, "7") and caught.value.backend == "postgres"
        assert str(caught.value) == (
            f"postgres:sales: the postgres backend cannot store the value of field 7 of reviewee {BOB}, metric "
            f"{NPS} (semester {SEM}): PostgreSQL text fields cannot contain NUL (0x00) bytes"
        )
        assert image(store.load()) == before
        store.record_batch(batch({(SEM, ALICE, NPS): {"2": "30"}}, token="b"))  # the store goes on
        bad_sql = "SELECT 1/0, %s, %s, %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]"
        monkeypatch.setattr("syncer.state.postgres.rows.UPSERT_VALUES", bad_sql)  # a DataError of no one value
        with pytest.raises(StateError, match=r"division by zero \(SQLSTATE 22012\)") as other:
            store.record_batch(batch({(SEM, BOB, REV): {"2": "1"}}, token="c"))
        assert not isinstance(other.value, UnstorableValue)
    state = store.load()
    assert state is not None and state.get((SEM, ALICE, NPS, "2")) is not None and (SEM, BOB, REV) not in state.rows


def test_writes_need_the_lock(pg_dsn: str) -> None:
    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
    with pytest.raises(StateError, match="needs its lock"):
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    with pytest.raises(StateError, match="needs its lock"):
        store.forget([(SEM, ALICE, REV, "2")])


def test_states_of_one_database_are_apart(pg_dsn: str) -> None:
    sales, support = pg_store(pg_dsn, "sales"), pg_store(pg_dsn, "support")
    with sales.locked(), support.locked():  # two locks: one per state
        sales.create(IDENT)
        support.create(IDENT)
        sales.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    a, b = sales.load(), support.load()
    assert a is not None and b is not None and a.meta.lineage != b.meta.lineage
    assert a.value_count == 1 and b.value_count == 0


def test_a_reader_never_waits_for_the_writer_and_sees_a_whole_state(pg_dsn: str) -> None:
    import psycopg

    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    with psycopg.connect(pg_dsn) as writer:  # a write in flight: rows locked, not committed
        writer.execute("UPDATE syncer_states SET serial = serial + 1")
        writer.execute("UPDATE syncer_values SET value = 'half-written'")
        writer.execute("SET lock_timeout = '1s'")
        seen = store.load()
        assert seen is not None and seen.meta.serial == 2 and seen.get((SEM, ALICE, REV, "2")) == ("40", 1)
        writer.rollback()


# --- a kill at every statement -------------------------------------------------------------------------------


class Killed(Exception):
    pass


def _apply_ops(store: PostgresStateStore) -> list[tuple[str, Callable[[], object]]]:
    """An apply's writes, one by one (each is one transaction)."""
    entry = JournalEntry("k1", SEM, "2026-05-01T12:00:00.000Z", "{}", ((ValueKey(SEM, BOB, NPS, "2"), "30"),))
    rejected = Rejection(RowKey(SEM, ALICE, NPS), 1580306, "2026-05-01T12:00:00.000Z", "e" * 64, "", "k2")
    return [
        ("journal", lambda: store.open_journal(entry)),
        (
            "batch",
            lambda: store.record_batch(
                batch({(SEM, BOB, NPS): {"2": "30"}, (SEM, ALICE, REV): {"2": "41"}}, token="k1")
            ),
        ),
        ("reject", lambda: store.record_rejected([rejected])),
        ("paced", lambda: store.record_import_request(T0 + timedelta(seconds=60))),
        ("forget", lambda: store.forget([(SEM, ALICE, REV, "4")])),
        ("people", lambda: store.record_people({"people": {}})),
    ]


def _template(dsn: str) -> State:
    seed = pg_store(dsn, "seed")
    with seed.locked():
        seed.create(IDENT)
        seed.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}}, token="s1"))
    state = seed.load()
    assert state is not None
    return state


def _killing(real: Any, *, at: int, session: int, admin: str) -> Any:
    """`execute` that, at its `at`-th call, ends its own session from outside (as a SIGKILL would) and dies."""
    import psycopg

    count = 0

    def execute(query: object, params: object = None, **kw: object) -> object:
        nonlocal count
        if count == at:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (session,))
            raise Killed(str(query)[:60])
        count += 1
        return real(query, params, **kw)

    return execute


def test_a_writer_killed_at_any_statement_leaves_a_whole_state(pg_server: PgServer, pg_dsn: str) -> None:
    """Kill the writer's session (pg_terminate_backend, as a SIGKILL ends it) before each statement of an
    apply's writes: the state is the one before or after a whole operation, and the next writer takes the
    lock without an unlock and carries on."""
    template = _template(pg_dsn)
    reference = pg_store(pg_dsn, "reference")
    with reference.locked():
        reference.adopt(template, people=None)
        allowed = [image(reference.load())]
        for _name, op in _apply_ops(reference):
            op()
            allowed.append(image(reference.load()))
    victim_no = 0
    while True:
        victim = pg_store(pg_dsn, f"victim{victim_no}")
        with victim.locked():
            victim.adopt(template, people=None)
        victim.lock()
        assert victim._conn is not None
        conn, real = victim._conn, victim._conn.execute
        kill = _killing(real, at=victim_no, session=conn.info.backend_pid, admin=pg_server.dsn)
        conn.execute = kill  # type: ignore[method-assign]
        killed = False
        try:
            for _name, op in _apply_ops(victim):
                op()
        except (Killed, StateError):
            killed = True
        conn.execute = real  # type: ignore[method-assign]
        victim.unlock()  # after a kill the session is gone already: nothing to release
        if not killed:
            break  # past the last statement: every step was killed once
        after = pg_store(pg_dsn, f"victim{victim_no}")
        seen = image(after.load())
        assert seen in allowed, f"killed before statement {victim_no}: not a whole state"
        with after.locked():  # no unlock was needed
            after.record_batch(batch({(SEM, BOB, REV): {"2": "9"}}, token="next"))
        final = after.load()
        assert final is not None and final.get((SEM, BOB, REV, "2")) is not None
        victim_no += 1
    assert victim_no > 10  # every statement of every operation was a kill point


# --- the lock -----------------------------------------------------------------------------------------------


def test_one_holder_at_a_time_named_in_state_show(pg_dsn: str) -> None:
    first, second = pg_store(pg_dsn), pg_store(pg_dsn)
    with first.locked(command="apply") as info:
        holder = second.lock_holder()
        assert holder is not None and holder == (info, "alive") and holder.info.pid == os.getpid()
        with pytest.raises(StateError, match=rf"locked by apply \(pid {os.getpid()} on .*alive\)"):
            second.lock()
        with pytest.raises(StateError, match="still open"):
            second.break_lock()
    assert second.lock_holder() is None
    with second.locked(command="state rm") as info:
        assert second.lock_holder() == (info, "alive")


def test_force_unlock_ends_the_holders_session_and_its_next_write_fails(pg_dsn: str) -> None:
    stuck, other = pg_store(pg_dsn), pg_store(pg_dsn)
    stuck.lock()
    stuck.create(IDENT)
    cleared = other.break_lock(force=True)
    assert cleared is not None and cleared.pid == os.getpid()
    with pytest.raises(StateError, match=r"connection .* was lost"):
        stuck.record_batch(batch({(SEM, ALICE, REV): {"2": "1"}}, token="late"))
    stuck.unlock()
    with other.locked():
        state = other.load()
        assert state is not None and state.value_count == 0


HOLDER = """
import sys
from syncer.state.postgres.db import Database
from syncer.state.postgres.store import PostgresStateStore
store = PostgresStateStore(Database(sys.argv[1], variable="SYNCER_PG_DSN"), "sales")
store.lock(command="apply")
print("locked", flush=True)
sys.stdin.readline()
"""


def test_a_sigkilled_holder_leaves_no_lock(pg_dsn: str) -> None:
    """The lock is its holder's session: killed with SIGKILL (no finally, no unlock), the server ends the
    session and the next writer takes the lock without `state unlock`, saying whose it was."""
    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, pg_dsn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        seen = store.lock_holder()
        assert seen is not None and seen.info.pid == holder.pid and seen.status == "alive"
        with pytest.raises(StateError, match=rf"locked by apply \(pid {holder.pid} .*alive"):
            store.lock()
        holder.kill()
        holder.wait()
        info = store.lock()  # waits the instant the server takes to see the session gone
        assert store.taken_over is not None and store.taken_over.pid == holder.pid
        assert store.lock_holder() == (info, "alive")
        store.unlock()
        assert store.lock_holder() is None
    finally:
        if holder.poll() is None:
            holder.kill()


# --- history ------------------------------------------------------------------------------------------------


def test_history_tells_which_batch_and_commit_set_each_value(pg_dsn: str) -> None:
    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
        store.record_batch(
            batch({(SEM, ALICE, REV): {"2": "40"}, (SEM, BOB, REV): {"2": "1"}}, token="a", commit="a" * 40)
        )
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "45"}}, token="b", commit="b" * 40))
        store.forget([(SEM, ALICE, REV, "2")], reason="rm")
    history = store.history(Selection(reviewees=frozenset({ALICE})))
    assert history.complete
    assert [(c.op, c.value, c.batch.commit if c.batch else None, c.reason) for c in history.changes] == [
        ("set", "40", "a" * 40, ""),
        ("set", "45", "b" * 40, ""),
        ("forget", None, None, "rm"),
    ]
    assert history.changes[1].batch is not None and history.changes[1].batch.import_record_id == "rec-b"
    assert [c.reviewee for c in store.history(Selection(fields=frozenset({"2"}))).changes].count(BOB) == 1
    assert store.history(Selection(metrics=frozenset({NPS}))).changes == ()


# --- the shared quota ---------------------------------------------------------------------------------------


def test_the_import_quota_is_one_per_app_across_states(pg_dsn: str) -> None:
    import psycopg

    sales, support = pg_store(pg_dsn, "sales"), pg_store(pg_dsn, "support")
    other_app = IDENT._replace(app_id="cli_other")
    with sales.locked(), support.locked():
        a, b, c = sales.import_quota(IDENT), support.import_quota(IDENT), support.import_quota(other_app)
        assert a(1000.0, 60.0) == 0.0  # the first slot is now
        assert 50.0 < b(1001.0, 60.0) <= 60.0  # another state of the same app: the next slot, one interval on
        assert c(1001.0, 60.0) == 0.0  # another app has a quota of its own
        assert 110.0 < a(1002.0, 60.0) <= 120.0  # queued behind it: two intervals on
        with psycopg.connect(pg_dsn, autocommit=True) as conn:  # the queue is long gone
            conn.execute("UPDATE syncer_quota SET last_request = extract(epoch FROM now()) - 3600")
        assert b(1020.0, 60.0) == 0.0
        with psycopg.connect(pg_dsn, autocommit=True) as conn:  # a mark far ahead of the server's clock
            conn.execute("UPDATE syncer_quota SET last_request = extract(epoch FROM now()) + 86400")
        assert a(10.0, 60.0) == 0.0


def test_the_import_quota_keeps_to_the_interval_whatever_the_runners_clocks_say(pg_dsn: str) -> None:
    """Slots are in the database server's time: a runner whose clock is behind does not leave a mark in the
    past that lets the next request go at once (two requests at once: a 429), and one whose clock is ahead
    does not make the others wait for its future."""
    now = datetime.now(UTC).timestamp()
    behind, ahead, ok = pg_store(pg_dsn, "behind"), pg_store(pg_dsn, "ahead"), pg_store(pg_dsn, "ok")
    with behind.locked(), ahead.locked(), ok.locked():
        assert behind.import_quota(IDENT)(now - 30.0, 60.0) == 0.0
        assert 50.0 < ok.import_quota(IDENT)(now, 60.0) <= 60.0  # one interval after the slow runner's request
        assert 110.0 < ahead.import_quota(IDENT)(now + 30.0, 60.0) <= 120.0  # one more, not 30 s more


# --- the schema ---------------------------------------------------------------------------------------------


def test_the_schema_is_versioned_and_a_newer_one_refused(pg_dsn: str) -> None:
    import psycopg

    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT max(version) FROM syncer_schema").fetchone() == (SCHEMA_VERSION,)
        conn.execute("INSERT INTO syncer_schema VALUES (%s, 'later')", (SCHEMA_VERSION + 1,))
    with pytest.raises(StateError, match="newer than this syncer"):
        store.load()
    with pytest.raises(StateError, match="newer than this syncer"):
        store.lock()


def test_roles_without_create_use_tables_a_dba_made(pg_server: PgServer, pg_dsn: str) -> None:
    """docs/state.md: a DBA runs schema_sql() and grants a role DML on the tables and USAGE on the schema:
    that role applies (no DDL needed). A role with SELECT alone plans and shows, and is told what it lacks
    when it tries to write."""
    import psycopg
    from psycopg import conninfo

    writer, reader, password = "w_" + uuid.uuid4().hex[:12], "r_" + uuid.uuid4().hex[:12], uuid.uuid4().hex
    schema = conninfo.conninfo_to_dict(pg_dsn)["options"].rpartition("=")[2]  # type: ignore[union-attr]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(schema_sql().encode())
        for role, grant in ((writer, "SELECT, INSERT, UPDATE, DELETE"), (reader, "SELECT")):
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'".encode())
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}".encode())
            conn.execute(f"GRANT {grant} ON ALL TABLES IN SCHEMA {schema} TO {role}".encode())
    try:
        store = pg_store(conninfo.make_conninfo(pg_dsn, user=writer, password=password))
        with store.locked():
            store.create(IDENT)
            store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
        assert store.load() is not None and store.history(Selection()).changes
        looker = pg_store(conninfo.make_conninfo(pg_dsn, user=reader, password=password))
        seen = looker.load()
        assert seen is not None and seen.value_count == 1 and looker.lock_holder() is None
        with pytest.raises(StateError, match=r"permission denied .*SQLSTATE 42501.*the role needs the grants"):
            looker.lock()
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
            for role in (writer, reader):
                conn.execute(f"DROP OWNED BY {role}".encode())
                conn.execute(f"DROP ROLE {role}".encode())


# --- opening, and errors that keep the DSN secret ------------------------------------------------------------


def _settings(**kw: str) -> Settings:
    return Settings(state=StateSettings(backend="postgres", **kw))  # type: ignore[arg-type]


def test_opening_needs_a_name_and_the_dsn_variable() -> None:
    with pytest.raises(StateError, match=r"needs state\.name"):
        open_postgres_store(_settings(), environ={"SYNCER_PG_DSN": "host=x"})
    with pytest.raises(StateError, match=r"\$SYNCER_PG_DSN, which is not set"):
        open_postgres_store(_settings(name="sales"), environ={})
    with pytest.raises(StateError, match=r"\$OUR_DSN"):
        open_postgres_store(_settings(name="sales", dsn_env="OUR_DSN"), environ={"SYNCER_PG_DSN": "host=x"})
    store = open_postgres_store(_settings(name="sales"), environ={"SYNCER_PG_DSN": "host=x"})
    assert store.location == "postgres:sales" and "host=x" not in repr(store.db)


def test_without_psycopg_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StateError) as err:
        open_postgres_store(_settings(name="sales"), environ={"SYNCER_PG_DSN": "host=x"})
    assert str(err.value) == MISSING and "feishu-syncer[postgres]" in MISSING


def test_errors_never_show_the_dsn_its_password_user_or_host(pg_dsn: str) -> None:
    from psycopg import conninfo

    parts = conninfo.conninfo_to_dict(pg_dsn)
    wrong = conninfo.make_conninfo(pg_dsn, password="s3cret-Passw0rd", user="payroll_admin")
    refused = conninfo.make_conninfo(pg_dsn, host="127.0.0.1", port="1", password="s3cret-Passw0rd")
    cases = {
        wrong: "password was refused|does not exist|authentication",
        refused: "refused",
        "host=127.0.0.1 password=s3cret-Passw0rd junk": "not a PostgreSQL connection string",
    }
    for dsn, reason in cases.items():
        with pytest.raises(StateError, match=reason) as err:
            pg_store(dsn).load()
        message = str(err.value)
        for secret in ("s3cret-Passw0rd", "payroll_admin", dsn, str(parts["password"]), "junk"):
            assert secret not in message, message
        assert "$SYNCER_PG_DSN" in message
        assert isinstance(err.value, StateUnavailable) == (reason != "not a PostgreSQL connection string")


def test_a_server_error_is_told_by_its_sqlstate_scrubbed(pg_dsn: str) -> None:
    import psycopg

    store = pg_store(pg_dsn)
    with store.locked():
        store.create(IDENT)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE syncer_values CASCADE")
    with pytest.raises(StateError, match=r"reading postgres:sales: .*syncer_values.* \(SQLSTATE 42P01\)") as err:
        store.load()
    assert str(err.value).count("\n") == 0
