"""The promises every state backend keeps (syncer.state.protocols), checked on each of them: local, git and
postgres. A new backend joins `BACKENDS` and must pass all of this before plan and apply may use it.

Each backend is driven through a small adapter that knows how to open a store on a named state, copy a
state, make a holder die (its process gone, its lock left behind) and run a store's writes through fault
points (file steps for local and git, statements for postgres). The postgres cases need a server
(tests/pgserver.py): without one they are skipped, or fail under SYNCER_REQUIRE_PG=1."""

from __future__ import annotations

import contextlib
import gc
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.errors import StateError, StateWriteError
from syncer.fsio import Faults, no_faults
from syncer.load.settings import Settings, StateSettings
from syncer.model import Identity, RowKey, ValueKey
from syncer.state.history import Selection
from syncer.state.lock import LockFile
from syncer.state.model import STATE_FORMAT, BatchRecord, JournalEntry, Rejection, State, format_time
from syncer.state.protocols import StateStore
from tests.state.gitrepo import Repo, git, isolate_git

SEM = "7293040702907514899"
SEM2 = "7293040702907514900"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REV = "7272580325522276372"
NPS = "7272580325522276401"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DEAD_PID = 999_999_999  # the pid of a holder that "died" (the git lock names it; nothing runs as it)


def clock() -> datetime:
    return T0


class Killed(BaseException):
    """A process killed at a write step (BaseException: nothing in the store may swallow it)."""


class Backend(Protocol):
    name: str

    def store(self, state: str = "s", *, victim: bool = False, faults: Faults = no_faults) -> StateStore:
        """A new store (as a new process would open it) on the named state. `victim`: one of another runner
        (git: another clone), which may die holding the lock. `faults`: called before each step of its writes."""
        ...

    def copy(self, source: str, dest: str) -> None:
        """Make `dest` the very state `source` is (no lock held on either)."""
        ...

    def die(self, store: StateStore) -> None:
        """The holder's process is gone: what the kernel (or the server) would end with it, ends."""
        ...


def _drop_flock(lockfile: LockFile) -> None:
    """A process that died: the kernel closes its files, so its flock ends (the lock file stays)."""
    file = lockfile._file
    if file is not None:
        lockfile._file, lockfile._held = None, None
        file.close()


class LocalBackend:
    name = "local"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def store(self, state: str = "s", *, victim: bool = False, faults: Faults = no_faults) -> StateStore:
        from syncer.state.local.store import LocalStateStore

        return LocalStateStore(self.tmp / state, clock=clock, faults=faults, chunk=64)

    def copy(self, source: str, dest: str) -> None:
        subprocess.run(["rm", "-rf", str(self.tmp / dest)], check=True)
        subprocess.run(["cp", "-a", str(self.tmp / source), str(self.tmp / dest)], check=True)

    def die(self, store: StateStore) -> None:
        from syncer.state.local.store import LocalStateStore

        assert isinstance(store, LocalStateStore)
        store._lock = None
        _drop_flock(store._lockfile)


class GitBackend:
    """Each state is a branch of one remote; every store works in a clone of its own kind (victims in one,
    everyone else in another), as a runner that died and the next one would."""

    name = "git"

    def __init__(self, tmp: Path) -> None:
        self.repo = Repo(tmp)
        self.clones = {False: self.repo.clone("runner"), True: self.repo.clone("victim")}

    def store(self, state: str = "s", *, victim: bool = False, faults: Faults = no_faults) -> StateStore:
        from syncer.state.git import open_git_store

        store = open_git_store(
            self.clones[victim], Settings(state=StateSettings(backend="git", branch=f"state-{state}")), clock=clock
        )
        store._faults = faults
        store._alive = lambda pid: pid != DEAD_PID
        if victim:
            store._pid = lambda: DEAD_PID
        return store

    def copy(self, source: str, dest: str) -> None:
        bare = self.repo.bare
        git("update-ref", f"refs/heads/state-{dest}", f"refs/heads/state-{source}", cwd=bare)
        git("update-ref", "-d", f"refs/syncer/lock/state-{dest}", cwd=bare)

    def die(self, store: StateStore) -> None:
        from syncer.state.git.store import GitStateStore

        assert isinstance(store, GitStateStore)
        store._held = None  # nothing renews or releases its lock ref
        if store._local is not None:
            self_local = store._local
            self_local._lock = None
            _drop_flock(self_local._lockfile)
        _drop_flock(store._clone_lockfile)
        store._local = None


class PostgresBackend:
    name = "postgres"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def store(self, state: str = "s", *, victim: bool = False, faults: Faults = no_faults) -> StateStore:
        from syncer.state.postgres.db import Database
        from syncer.state.postgres.store import PostgresStateStore

        store = PostgresStateStore(Database(self.dsn, variable="SYNCER_PG_DSN"), state, clock=clock)
        if faults is not no_faults:
            real_lock = store.lock

            def lock(*, command: str = "apply") -> Any:
                info = real_lock(command=command)
                conn = store._conn
                assert conn is not None
                real = conn.execute

                def execute(query: Any, params: Any = None, **kw: Any) -> Any:
                    faults(f"sql: {str(query)[:40]}")
                    return real(query, params, **kw)

                conn.execute = execute  # type: ignore[method-assign]
                return info

            store.lock = lock  # type: ignore[method-assign]
        return store

    def copy(self, source: str, dest: str) -> None:
        src, dst = self.store(source), self.store(dest)
        state = src.load()
        assert state is not None
        with dst.locked(command="apply"):
            dst.adopt(state, people=src.read_people())

    def die(self, store: StateStore) -> None:
        from syncer.state.postgres.store import PostgresStateStore

        assert isinstance(store, PostgresStateStore)
        conn, store._conn, store._held = store._conn, None, None
        if conn is not None:
            conn.close()  # the session ends with its process: the server frees its advisory lock


BACKENDS = ["local", "git", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    if request.param == "local":
        return LocalBackend(tmp_path)
    if request.param == "git":
        isolate_git(monkeypatch, tmp_path)
        return GitBackend(tmp_path)
    return PostgresBackend(request.getfixturevalue("pg_dsn"))


# --- helpers --------------------------------------------------------------------------------------------------


def batch(rows: dict[tuple[str, str, str], dict[str, str]], *, token: str, sem: str = SEM) -> BatchRecord:
    return BatchRecord(
        semester=sem,
        client_token=token,
        import_record_id=f"rec-{token}",
        commit="c0ffee" * 6 + "c0ff",
        import_record_name="syncer c0ffee",
        time=T0,
        rows={RowKey(*r): f for r, f in rows.items()},
    )


def journal(token: str, *, sem: str = SEM) -> JournalEntry:
    return JournalEntry(
        token, sem, "2026-05-01T12:00:00.000Z", '{"semester_id":"x"}', ((ValueKey(sem, ALICE, NPS, "2"), "30"),)
    )


def rejection(row: tuple[str, str, str], token: str) -> Rejection:
    return Rejection(RowKey(*row), 1580306, "2026-05-01T12:00:00.000Z", "d" * 64, "gone", token)


def loaded(store: StateStore) -> State:
    state = store.load()
    assert state is not None
    return state


def image(state: State | None) -> tuple[object, ...] | None:
    """Everything a reader sees of a state, to compare states for equality."""
    if state is None:
        return None
    m = state.meta
    return (
        m.serial,
        m.lineage,
        m.identity,
        m.next_batch,
        m.last_apply,
        m.last_import_request,
        dict(state.iter_values()),
        dict(state.batches),
        dict(state.rejections),
        dict(state.journal),
        dict(state.per_semester),
    )


@contextlib.contextmanager
def created(backend: Backend, state: str = "s") -> Iterator[StateStore]:
    """A store holding the lock of a state it just created."""
    store = backend.store(state)
    with store.locked(command="apply"):
        store.create(IDENT)
        yield store


# --- writing --------------------------------------------------------------------------------------------------


def test_writes_need_the_lock(backend: Backend) -> None:
    with created(backend):
        pass
    store = backend.store()
    writes: list[Callable[[], object]] = [
        lambda: store.create(IDENT),
        lambda: store.open_journal(journal("t")),
        lambda: store.settle_journal("t", outcome="rejected"),
        lambda: store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="t")),
        lambda: store.record_rejected([rejection((SEM, ALICE, REV), "t")]),
        lambda: store.record_import_request(T0),
        lambda: store.forget([(SEM, ALICE, REV, "2")]),
        lambda: store.record_people({"people": {}}),
    ]
    for write in writes:
        with pytest.raises(StateError, match="needs its lock"):
            write()
    assert loaded(backend.store()).meta.serial == 1


def test_a_write_that_would_change_nothing_needs_the_lock_all_the_same(backend: Backend) -> None:
    """No rows rejected, no keys (or none managed) forgotten, the people cache it already holds, a compaction:
    without the lock each is refused with the very error its write that changes something gets."""
    people = {"people": {"a@example.com": {"user_id": "ou_1", "status": "active"}}}
    with created(backend) as store:
        store.record_people(people)
    serial = loaded(backend.store()).meta.serial
    store = backend.store()
    cases: list[tuple[Callable[[], object], Callable[[], object]]] = [
        (lambda: store.record_rejected([rejection((SEM, ALICE, REV), "t")]), lambda: store.record_rejected([])),
        (lambda: store.forget([(SEM, ALICE, REV, "2")]), lambda: store.forget([])),
        (lambda: store.record_people({"people": {}}), lambda: store.record_people(people)),
        (lambda: store.record_import_request(T0), lambda: store.compact()),
    ]
    for changing, idle in cases:
        with pytest.raises(StateError, match="needs its lock") as refused:
            changing()
        with pytest.raises(StateError, match="needs its lock") as idle_refused:
            idle()
        assert str(idle_refused.value) == str(refused.value)
    assert loaded(backend.store()).meta.serial == serial


def test_create_refuses_an_existing_state(backend: Backend) -> None:
    with created(backend) as store:
        assert loaded(store).meta.format == STATE_FORMAT
        with pytest.raises(StateError, match="already exists"):
            store.create(IDENT)


def test_the_serial_rises_on_every_write(backend: Backend) -> None:
    with created(backend) as store:
        serials = [loaded(store).meta.serial]
        for write in (
            lambda: store.open_journal(journal("a")),
            lambda: store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a")),
            lambda: store.open_journal(journal("b")),
            lambda: store.record_rejected([rejection((SEM, BOB, REV), "b")]),
            lambda: store.settle_journal("b", outcome="rejected"),
            lambda: store.record_import_request(T0),
            lambda: store.forget([(SEM, ALICE, REV, "2")]),
            lambda: store.record_people({"people": {"a@example.com": "ou_1"}}),
        ):
            write()
            serials.append(loaded(store).meta.serial)
    assert serials == list(range(1, 10))
    assert loaded(backend.store()).meta.serial == 9


def test_a_journal_entry_is_settled_or_recorded(backend: Backend) -> None:
    with created(backend) as store:
        store.open_journal(journal("settled"))
        store.open_journal(journal("recorded"))
        assert set(loaded(store).journal) == {"settled", "recorded"}
        store.settle_journal("settled", outcome="not landed")
        assert set(loaded(store).journal) == {"recorded"}
        store.record_batch(batch({(SEM, ALICE, NPS): {"2": "30"}}, token="recorded"))
    state = loaded(backend.store())
    assert state.journal == {} and state.get((SEM, ALICE, NPS, "2")) == ("30", 1)


def test_forget_counts_what_was_managed(backend: Backend) -> None:
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}}, token="a"))
        serial = loaded(store).meta.serial
        assert store.forget([(SEM, ALICE, REV, "2"), (SEM, ALICE, REV, "9"), (SEM, BOB, REV, "2")], reason="rm") == 1
        assert store.forget([(SEM, BOB, REV, "2")]) == 0
        assert loaded(store).meta.serial == serial + 1  # forgetting nothing writes nothing
    state = loaded(backend.store())
    assert dict(state.iter_values()) == {ValueKey(SEM, ALICE, REV, "4"): ("1", 1)} and state.managed(SEM) == 1


def test_an_accepted_batch_clears_its_rows_rejections(backend: Backend) -> None:
    with created(backend) as store:
        store.record_rejected([rejection((SEM, ALICE, REV), "a"), rejection((SEM, BOB, REV), "a")])
        assert set(loaded(store).rejections) == {RowKey(SEM, ALICE, REV), RowKey(SEM, BOB, REV)}
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="b"))
    assert set(loaded(backend.store()).rejections) == {RowKey(SEM, BOB, REV)}


def test_pacing_marks_never_go_back(backend: Backend) -> None:
    later = T0 + timedelta(seconds=6)
    with created(backend) as store:
        store.record_import_request(later)
        store.record_import_request(T0)
    assert loaded(backend.store()).meta.last_import_request == format_time(later)


def test_people_cache_writes_say_whether_anything_changed(backend: Backend) -> None:
    people = {"people": {"a@example.com": {"user_id": "ou_1", "status": "active"}}}
    with created(backend) as store:
        assert store.read_people() is None
        assert store.record_people(people) is True
        serial = loaded(store).meta.serial
        assert store.record_people(people) is False
        assert loaded(store).meta.serial == serial  # nothing written
        assert store.record_people({"people": {}}) is True
    assert backend.store().read_people() == {"people": {}}


def test_values_from_several_batches_and_semesters_round_trip(backend: Backend) -> None:
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "60", "4": "1000"}}, token="a"))
        store.record_batch(batch({(SEM, ALICE, REV): {"4": "2000"}, (SEM, BOB, NPS): {"5": "42"}}, token="b"))
        store.record_batch(batch({(SEM2, BOB, NPS): {"5": "7"}}, token="c", sem=SEM2))
        with pytest.raises(ValueError, match="not of the batch's semester"):
            store.record_batch(batch({(SEM2, BOB, NPS): {"5": "7"}}, token="d"))
        store.compact()
    state = loaded(backend.store())
    assert dict(state.iter_values()) == {
        ValueKey(SEM, ALICE, REV, "2"): ("60", 1),
        ValueKey(SEM, ALICE, REV, "4"): ("2000", 2),
        ValueKey(SEM, BOB, NPS, "5"): ("42", 2),
        ValueKey(SEM2, BOB, NPS, "5"): ("7", 3),
    }
    assert state.managed(SEM) == 3 and state.managed(SEM2) == 1 and state.meta.next_batch == 4
    assert state.meta.last_apply is not None and state.meta.last_apply.batch == 3 and state.identity == IDENT


def test_export_and_adopt_move_a_whole_state_and_its_people(backend: Backend) -> None:
    """What `state migrate` is made of: any backend's export, any backend's adopt (here a state of the same
    backend), and the state arrives whole: values, batches, rejections, an open journal entry, people."""
    assert backend.store("empty").export() is None
    people = {"people": {"a@example.com": {"user_id": "ou_1", "status": "active"}}}
    with created(backend, "from") as source:
        source.record_batch(batch({(SEM, ALICE, REV): {"2": "60"}, (SEM, BOB, NPS): {"5": "42"}}, token="a"))
        source.record_rejected([rejection((SEM2, BOB, NPS), "b")])
        source.open_journal(journal("c"))
        source.record_people(people)
        exported = source.export()
    assert exported is not None
    state, cache = exported
    dest = backend.store("to")
    with dest.locked(command="state migrate"):
        dest.adopt(state, people=cache)
    assert image(loaded(backend.store("to"))) == image(loaded(backend.store("from")))
    assert backend.store("to").read_people() == people


# --- the lock -------------------------------------------------------------------------------------------------


def test_one_holder_at_a_time(backend: Backend) -> None:
    with created(backend) as first:
        second = backend.store()
        holder = second.lock_holder()
        assert holder is not None and holder.status == "alive"
        with pytest.raises(StateError, match="locked by"):
            second.lock(command="apply")
        with pytest.raises(StateError, match="still"):
            second.break_lock()  # `state unlock` without --force refuses a live holder
        first.record_import_request(T0)  # untouched by the refusals
    assert backend.store().lock_holder() is None


def test_a_forced_unlock_stops_the_holders_next_write(backend: Backend) -> None:
    """`state unlock --force` under a live holder, then someone else writes: the holder's next write is
    refused, and nothing it writes lands over the other writer's."""
    with created(backend):
        pass
    stuck = backend.store(victim=True)  # another runner (git: another clone)
    stuck.lock(command="apply")
    stuck.record_batch(batch({(SEM, ALICE, REV): {"2": "1"}}, token="early"))
    other = backend.store()
    cleared = other.break_lock(force=True)
    assert cleared is not None
    with other.locked(command="apply"):
        other.record_batch(batch({(SEM, BOB, REV): {"2": "2"}}, token="other"))
        with pytest.raises(StateError):
            stuck.record_batch(batch({(SEM, ALICE, REV): {"2": "3"}}, token="late"))
    with contextlib.suppress(StateError):
        stuck.unlock()
    state = loaded(backend.store())
    assert state.get((SEM, ALICE, REV, "2")) == ("1", 1) and state.get((SEM, BOB, REV, "2")) == ("2", 2)
    assert "late" not in {b.client_token for b in state.batches.values()}


def test_a_dead_holders_lock_is_taken_over_and_named(backend: Backend) -> None:
    with created(backend):
        pass
    dead = backend.store(victim=True)
    held = dead.lock(command="apply")
    backend.die(dead)
    successor = backend.store()
    with successor.locked(command="state rm"):
        assert successor.taken_over is not None and successor.taken_over.id == held.id
        successor.record_import_request(T0)
    assert backend.store().lock_holder() is None


# --- reading --------------------------------------------------------------------------------------------------


def test_no_state_loads_as_none(backend: Backend) -> None:
    store = backend.store()
    assert store.load() is None and not store.exists() and store.read_people() is None
    assert store.lock_holder() is None


def test_a_loaded_state_is_a_snapshot(backend: Backend) -> None:
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
        before = loaded(store)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "50"}}, token="b"))
        assert before.get((SEM, ALICE, REV, "2")) == ("40", 1) and before.meta.serial == 2


def test_a_reader_sees_a_whole_state_while_a_write_is_under_way(backend: Backend) -> None:
    """A reader that looks at every step of a writer's write sees the state before it or after it."""
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
        store.compact()
    before = image(loaded(backend.store()))
    seen: list[tuple[object, ...] | None] = []
    reader = backend.store("s")

    def look(step: str) -> None:
        seen.append(image(reader.load()))

    writer = backend.store(faults=look)
    with writer.locked(command="apply"):
        writer.record_batch(batch({(SEM, BOB, REV): {"2": "60"}, (SEM, BOB, NPS): {"5": "1"}}, token="b"))
        middle = image(loaded(backend.store()))
        writer.forget([(SEM, ALICE, REV, "2")])
        writer.compact()
    after = image(loaded(backend.store()))
    assert len(seen) > 3
    assert set(map(repr, seen)) <= {repr(before), repr(middle), repr(after)}


def test_history_tells_the_batch_that_last_set_each_selected_value(backend: Backend) -> None:
    """`state history`: each selector narrows (empty: any); every backend names, for each selected value, the
    batch that last set it (postgres keeps the earlier changes too, oldest first; local and git say they don't)."""
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "60", "4": "1000"}}, token="a"))
        store.record_batch(batch({(SEM, ALICE, REV): {"4": "2000"}, (SEM, BOB, NPS): {"5": "42"}}, token="b"))
        store.record_batch(batch({(SEM2, BOB, NPS): {"5": "7"}}, token="c", sem=SEM2))
    reader = backend.store()

    def last(**selectors: frozenset[str]) -> dict[tuple[str, ...], tuple[str | None, str]]:
        history = reader.history(Selection(**selectors))
        assert history.complete is (backend.name == "postgres")
        assert all(c.op == "set" and c.batch is not None and c.at == c.batch.time for c in history.changes)
        return {c[:4]: (c.value, c.batch.client_token if c.batch else "") for c in history.changes}

    everything = last()
    assert everything == {
        (SEM, ALICE, REV, "2"): ("60", "a"),
        (SEM, ALICE, REV, "4"): ("2000", "b"),
        (SEM, BOB, NPS, "5"): ("42", "b"),
        (SEM2, BOB, NPS, "5"): ("7", "c"),
    }
    assert last(semesters=frozenset({SEM}), fields=frozenset({"4"})) == {(SEM, ALICE, REV, "4"): ("2000", "b")}
    assert last(semesters=frozenset({SEM2})) == {(SEM2, BOB, NPS, "5"): ("7", "c")}
    assert last(reviewees=frozenset({BOB}), metrics=frozenset({NPS})) == {
        (SEM, BOB, NPS, "5"): ("42", "b"),
        (SEM2, BOB, NPS, "5"): ("7", "c"),
    }
    assert last(metrics=frozenset({REV}), fields=frozenset({"2"})) == {(SEM, ALICE, REV, "2"): ("60", "a")}
    history = reader.history(Selection())
    if backend.name == "postgres":
        assert [c.value for c in history.changes if c[:4] == (SEM, ALICE, REV, "4")] == ["1000", "2000"]
    else:
        assert len(history.changes) == len(everything) and "last change only" in history.kept
        assert ("hold the state as each apply left it" in history.kept) is (backend.name == "git")


# --- failures -------------------------------------------------------------------------------------------------


def test_a_newer_format_is_refused(backend: Backend) -> None:
    import dataclasses

    from syncer.state.model import StateMeta

    with created(backend) as store:
        state = loaded(store)
    newer = dataclasses.replace(state, meta=dataclasses.replace(state.meta, format=STATE_FORMAT + 1))
    assert isinstance(newer.meta, StateMeta)
    target = backend.store("newer")
    with pytest.raises(StateError, match="newer"):  # on writing it (git reads it back), or on reading it
        with target.locked(command="apply"):
            target.adopt(newer, people=None)
        backend.store("newer").load()


def test_a_failed_write_leaves_the_store_usable_and_the_state_whole(backend: Backend) -> None:
    """An OSError in the middle of a write (a full disk, a lost connection's equivalent): the write fails,
    the state is as it was, and the next write on the same store lands whole."""
    with created(backend) as store:
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    armed = {"after": -1}

    def faults(step: str) -> None:
        if armed["after"] == 0:
            armed["after"] = -1
            raise OSError(28, "No space left on device")
        if armed["after"] > 0:
            armed["after"] -= 1

    store = backend.store(faults=faults)
    with store.locked(command="apply"):
        before = image(loaded(backend.store()))
        armed["after"] = 2  # the third step of the write: past its start, before its end
        # local and git write files: the system's refusal is named (StateWriteError); postgres writes none
        with pytest.raises(OSError if isinstance(backend, PostgresBackend) else StateWriteError):
            store.record_batch(batch({(SEM, BOB, REV): {"2": "failed"}}, token="failed"))
        assert image(loaded(backend.store())) == before
        store.record_batch(batch({(SEM, BOB, NPS): {"2": "next"}}, token="next"))
        store.compact()
    state = loaded(backend.store())
    assert state.get((SEM, BOB, NPS, "2")) is not None and state.get((SEM, BOB, REV, "2")) is None
    assert state.get((SEM, ALICE, REV, "2")) == ("40", 1) and state.meta.serial == 3


def _apply(store: StateStore) -> None:
    """An apply's writes, each durable on its own, then the compaction at its end."""
    store.open_journal(journal("k1"))
    store.record_batch(batch({(SEM, ALICE, NPS): {"2": "30"}, (SEM, ALICE, REV): {"2": "41"}}, token="k1"))
    store.record_rejected([rejection((SEM, BOB, NPS), "k2")])
    store.forget([(SEM, ALICE, REV, "4")])
    store.record_batch(batch({(SEM2, BOB, NPS): {"5": "7"}}, token="k3", sem=SEM2))
    store.compact()


def _kill_before(step_index: int) -> Faults:
    calls = {"n": 0}

    def faults(step: str) -> None:
        if calls["n"] == step_index:
            raise Killed(step)
        calls["n"] += 1

    return faults


def test_a_writer_killed_at_any_step_leaves_a_whole_state(backend: Backend) -> None:
    """Kill the writer before each step of an apply's writes (every file step of local and git, and git's
    push; every statement of postgres): what a reader sees then is a state the writer had committed, and
    the next writer takes the dead one's lock without `state unlock` and carries on."""
    with created(backend, "template") as seed:
        seed.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}}, token="s1"))
        seed.compact()
        seed.record_batch(batch({(SEM, BOB, REV): {"2": "60"}}, token="s2"))
    backend.copy("template", "reference")
    allowed = [image(loaded(backend.store("reference")))]

    def record(step: str) -> None:
        now = image(backend.store("reference").load())
        if now != allowed[-1]:
            allowed.append(now)

    reference = backend.store("reference", faults=record)
    with reference.locked(command="apply"):
        _apply(reference)
    allowed.append(image(loaded(backend.store("reference"))))
    steps: list[str] = []
    backend.copy("template", "count")
    counted = backend.store("count", faults=steps.append)
    with counted.locked(command="apply"):
        _apply(counted)
    assert len(steps) > 10
    for i in range(len(steps)):
        backend.copy("template", f"victim{i}")
        victim = backend.store(f"victim{i}", victim=True, faults=_kill_before(i))
        victim.lock(command="apply")
        with contextlib.suppress(Killed):
            _apply(victim)
        backend.die(victim)
        del victim
        gc.collect()
        seen = image(loaded(backend.store(f"victim{i}")))
        assert seen in allowed, f"killed before step {i} ({steps[i]}): not a state the writer had committed"
        after = backend.store(f"victim{i}")
        with after.locked(command="apply"):  # the dead writer's lock died with it: no unlock needed
            assert after.taken_over is not None
            after.record_batch(batch({(SEM, BOB, NPS): {"2": "1"}}, token=f"after{i}"))
            after.compact()
        final = loaded(backend.store(f"victim{i}"))
        assert final.get((SEM, BOB, NPS, "2")) is not None
        assert (
            dict(final.iter_values()).items()
            >= {
                k: v
                for k, v in (seen[6] if seen else {}).items()  # type: ignore[attr-defined]
                if k != ValueKey(SEM, BOB, NPS, "2")
            }.items()
        )


# --- values ---------------------------------------------------------------------------------------------------

#: What validation lets through as text: YAML's printable characters (tab and line breaks included), never a
#: NUL, a lone surrogate or a non-character.
TEXT = st.text(
    st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters="\x00\ufffe\uffff",
        min_codepoint=0x09,
    ).filter(lambda c: c in "\t\n\r" or (c >= " " and c != "\x7f")),
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(TEXT, min_size=1, max_size=3))
def test_every_text_round_trips_exactly(backend: Backend, values: list[str]) -> None:
    name = f"rt{abs(hash(tuple(values))) % 10**9}"
    store = backend.store(name)
    with store.locked(command="apply"):
        if store.load() is None:
            store.create(IDENT)
        fields = {str(n): v for n, v in enumerate(values)}
        store.record_rejected([Rejection(RowKey(SEM, BOB, REV), 1, "2026-05-01T12:00:00.000Z", "d", values[0], "t")])
        store.record_batch(batch({(SEM, ALICE, REV): fields}, token="t" + values[0][:8]))
        entry = JournalEntry(
            "open", SEM, "2026-05-01T12:00:00.000Z", values[-1], ((ValueKey(SEM, ALICE, NPS, "2"), values[0]),)
        )
        store.open_journal(entry)
    state = loaded(backend.store(name))
    assert {k.field: v for k, (v, _b) in state.iter_values() if k.metric == REV} == fields
    assert state.rejections[RowKey(SEM, BOB, REV)].message == values[0]
    assert state.journal["open"] == entry
