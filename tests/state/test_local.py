"""The local state store: round trips, append-only writes, compaction, crashes at every step, formats,
identity, locks."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.errors import StateError, StateWriteError
from syncer.load.settings import Settings, Target
from syncer.model import Identity, RowKey, ValueKey
from syncer.state import format as files
from syncer.state import load_checked, target_identity
from syncer.state.local import log as local_log
from syncer.state.local.store import LocalStateStore
from syncer.state.lock import pid_alive
from syncer.state.model import STATE_FORMAT, BatchRecord, JournalEntry, Rejection, State, check_identity, row_digest
from syncer.state.seal import seal, seal_file, seal_meta, unseal
from syncer.urls import host_of

SEM = "7293040702907514899"
SEM2 = "7250000000000000001"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REV = "7272580325522276372"
NPS = "7272580325522276401"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return T0


def batch(rows: dict[tuple[str, str, str], dict[str, str]], *, token: str = "tok", sem: str = SEM) -> BatchRecord:
    return BatchRecord(
        semester=sem,
        client_token=token,
        import_record_id=f"rec-{token}",
        commit="c0ffee" * 6 + "c0ff",
        import_record_name="syncer c0ffee",
        time=T0,
        rows={RowKey(*r): f for r, f in rows.items()},
    )


def new_store(path: Path, **kw: object) -> LocalStateStore:
    store = LocalStateStore(path, clock=clock, **kw)  # type: ignore[arg-type]
    store.lock()
    store.create(IDENT)
    return store


def values_of(state: State | None) -> dict[ValueKey, tuple[str, int]]:
    assert state is not None
    return dict(state.iter_values())


def image(path: Path) -> tuple[object, ...] | None:
    """Everything a reader sees of a state, to compare states for equality."""
    state = LocalStateStore(path).load()
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
        values_of(state),
        dict(state.batches),
        dict(state.rejections),
        dict(state.journal),
        dict(state.per_semester),
    )


# --- round trips ------------------------------------------------------------------------------------------


def test_no_state_loads_as_none(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "nothing")
    assert store.load() is None
    assert not store.exists()
    assert not (tmp_path / "nothing").exists()  # reading creates nothing


def test_create_then_record_and_reload(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    info = store.record_batch(batch({(SEM, ALICE, REV): {"2": "60", "4": "1000"}, (SEM, BOB, NPS): {"5": "42"}}))
    assert info.id == 1 and info.rows == 2
    store.unlock()
    state = LocalStateStore(tmp_path / "s").load()
    assert state is not None
    assert state.identity == IDENT
    assert state.get((SEM, ALICE, REV, "2")) == ("60", 1)
    assert state.get((SEM, ALICE, REV, "9")) is None
    assert state.value_count == 3 and state.managed(SEM) == 3
    assert state.meta.serial == 2  # created at 1, one write
    assert state.meta.last_apply is not None and state.meta.last_apply.batch == 1
    assert state.batches[1].client_token == "tok" and state.batches[1].import_record_id == "rec-tok"


def test_serial_bumps_on_every_write(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    serials = []
    store.record_import_request(T0)
    serials.append(store.load().meta.serial)  # type: ignore[union-attr]
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "60"}}))
    serials.append(store.load().meta.serial)  # type: ignore[union-attr]
    store.forget([(SEM, ALICE, REV, "2")])
    serials.append(store.load().meta.serial)  # type: ignore[union-attr]
    assert serials == [2, 3, 4]


def test_recording_a_batch_appends_one_line_and_rewrites_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "60"}}, token="a"))
    store.compact()
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in path.rglob("*") if p.is_file()}
    log_before = (path / "log.jsonl").read_text()
    store.record_batch(batch({(SEM, BOB, REV): {"2": "50"}}, token="b"))
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in path.rglob("*") if p.is_file()}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"log.jsonl"}
    added = (path / "log.jsonl").read_text()[len(log_before) :]
    record = added.rpartition("\t")[0]
    assert added == seal(record) and json.loads(record)["op"] == "batch"


def test_compaction_writes_diff_friendly_shards(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, BOB, REV): {"4": "1", "2": "60"}, (SEM, ALICE, REV): {"2": "40"}}))
    store.record_batch(batch({(SEM2, ALICE, NPS): {"2": "100"}}, sem=SEM2, token="t2"))
    image_before = image(path)
    store.compact()
    assert (path / "log.jsonl").read_text() == ""
    shard = (path / "semesters" / f"{SEM}.jsonl").read_text()
    assert shard == seal_file(
        [
            json.dumps([BOB, REV, 1, {"2": "60", "4": "1"}], separators=(",", ":")),  # sorted by ID
            json.dumps([ALICE, REV, 1, {"2": "40"}], separators=(",", ":")),
        ]
    )
    assert (path / "semesters" / f"{SEM2}.jsonl").exists()
    assert len((path / "batches.jsonl").read_text().splitlines()) == 2 + 1  # and the end line
    assert image(path) == image_before
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format"] == STATE_FORMAT and meta["generation"] == 1


def test_compaction_rewrites_only_changed_semesters_and_removes_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    store.record_batch(batch({(SEM2, ALICE, NPS): {"2": "100"}}, sem=SEM2, token="t2"))
    store.compact()
    sem2 = path / "semesters" / f"{SEM2}.jsonl"
    ino = sem2.stat().st_ino
    store.forget([(SEM, ALICE, REV, "2")])
    store.compact()
    assert not (path / "semesters" / f"{SEM}.jsonl").exists()
    assert sem2.stat().st_ino == ino  # untouched
    assert values_of(LocalStateStore(path).load()) == {ValueKey(SEM2, ALICE, NPS, "2"): ("100", 2)}


def test_rows_with_values_from_several_batches_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "10"}}, token="a"))
    store.record_batch(batch({(SEM, ALICE, REV): {"4": "11", "5": "3"}}, token="b"))
    expected = {
        ValueKey(SEM, ALICE, REV, "2"): ("40", 1),
        ValueKey(SEM, ALICE, REV, "4"): ("11", 2),
        ValueKey(SEM, ALICE, REV, "5"): ("3", 2),
    }
    assert values_of(LocalStateStore(path).load()) == expected
    store.compact()
    assert values_of(LocalStateStore(path).load()) == expected
    assert len((path / "semesters" / f"{SEM}.jsonl").read_text().splitlines()) == 2 + 1  # and the end line
    assert LocalStateStore(path).load().managed(SEM) == 3  # type: ignore[union-attr]


def test_a_loaded_state_is_a_snapshot(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    snap = store.load()
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "50"}, (SEM, BOB, REV): {"2": "1"}}, token="x"))
    store.forget([(SEM, ALICE, REV, "2")])
    assert values_of(snap) == {ValueKey(SEM, ALICE, REV, "2"): ("40", 1)}


def test_rejections_are_kept_until_the_row_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    rej = Rejection(
        RowKey(SEM, ALICE, REV),
        1580304,
        "2026-05-01T12:00:00.000Z",
        row_digest({"2": "140"}),
        "sum of metric weights over 100%",
        "tok",
    )
    store.record_rejected([rej])
    store.compact()
    assert LocalStateStore(path).load().rejections == {rej.row: rej}  # type: ignore[union-attr]
    assert rej.date == "2026-05-01"
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    assert LocalStateStore(path).load().rejections == {}  # type: ignore[union-attr]


def test_journal_entries_survive_until_settled(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    body = json.dumps({"semester_id": SEM, "imported_metrics": []})
    entry = JournalEntry(
        "tok-1",
        SEM,
        "2026-05-01T12:00:00.000Z",
        body,
        ((ValueKey(SEM, ALICE, REV, "2"), "40"),),
        "syncer c0ffee",
        "c0ffee",
    )
    store.open_journal(entry)
    store.open_journal(entry._replace(client_token="tok-2"))
    store.compact()
    state = LocalStateStore(path).load()
    assert state is not None and state.journal["tok-1"] == entry and state.journal["tok-1"].body == body
    assert entry.rows() == {RowKey(SEM, ALICE, REV): {"2": "40"}}
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="tok-1"))
    store.settle_journal("tok-2", outcome="not sent")
    assert LocalStateStore(path).load().journal == {}  # type: ignore[union-attr]
    store.compact()
    assert (path / "journal.jsonl").read_text() == seal_file([])


def test_last_import_request_is_kept_for_pacing(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    store.record_import_request(T0 + timedelta(seconds=6))
    store.record_import_request(T0)  # an older mark never moves it back
    assert store.load().meta.last_import_request == "2026-05-01T12:00:06.000Z"  # type: ignore[union-attr]


def test_forget_counts_what_was_managed(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}}))
    assert store.forget([(SEM, ALICE, REV, "2"), (SEM, ALICE, REV, "9"), (SEM, BOB, REV, "2")], reason="rm") == 1
    state = store.load()
    assert state is not None and values_of(state) == {ValueKey(SEM, ALICE, REV, "4"): ("1", 1)}
    assert state.managed(SEM) == 1


def test_writes_need_the_lock(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    store.unlock()
    with pytest.raises(StateError, match="lock"):
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    with pytest.raises(StateError, match="already exists"):
        store.lock()
        store.create(IDENT)


def test_a_writer_whose_lock_was_taken_away_stops(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    (tmp_path / "s" / "lock").unlink()
    with pytest.raises(StateError, match="taken away"):
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))


# --- crashes ----------------------------------------------------------------------------------------------


class Killed(BaseException):
    """A process killed at a write step (BaseException: nothing in the store may swallow it)."""


def _steps(run: object) -> list[str]:
    seen: list[str] = []
    run(seen.append)  # type: ignore[operator]
    return seen


def _prepare(path: Path) -> LocalStateStore:
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1"}}, token="a"))
    store.compact()
    store.record_batch(batch({(SEM, BOB, REV): {"2": "60"}}, token="b"))
    store.unlock()
    return store


def _killed_at(path: Path, step_index: int, action: str) -> None:
    counter = {"n": 0}

    def faults(step: str) -> None:
        if counter["n"] == step_index:
            raise Killed(step)
        counter["n"] += 1

    store = LocalStateStore(path, clock=clock, faults=faults, chunk=16)
    store.lock()
    with contextlib.suppress(Killed):  # the process "dies" here: its lock file stays behind
        _ACTIONS[action](store)


def _journal_and_batch(store: LocalStateStore) -> None:
    entry = JournalEntry(
        "c", SEM, "2026-05-01T12:00:00.000Z", '{"semester_id":"x"}', ((ValueKey(SEM, ALICE, NPS, "2"), "30"),)
    )
    store.open_journal(entry)
    store.record_batch(batch({(SEM, ALICE, NPS): {"2": "30"}, (SEM, ALICE, REV): {"2": "41"}}, token="c"))


def _compact(store: LocalStateStore) -> None:
    store.forget([(SEM, ALICE, REV, "4")])
    store.record_batch(batch({(SEM2, BOB, NPS): {"5": "7"}}, sem=SEM2, token="d"))
    store.compact()


_ACTIONS = {"journal+batch": _journal_and_batch, "compact": _compact}


@pytest.mark.parametrize("action", sorted(_ACTIONS))
def test_a_writer_killed_at_any_step_leaves_a_readable_store(tmp_path: Path, action: str) -> None:
    """Kill the writer before each step of the write sequence (temp file, every chunk of every write,
    fsync, rename, directory fsync): the store stays readable, keeps every write completed before the
    kill, and each operation is there whole or not at all."""
    template = tmp_path / "template"
    _prepare(template)
    # The states a reader may legitimately see: after each completed operation of the action.
    reference = tmp_path / "reference"
    subprocess.run(["cp", "-a", str(template), str(reference)], check=True)
    ref_store = LocalStateStore(reference, clock=clock)
    ref_store.lock()
    allowed = [image(reference)]
    real_append = ref_store._append

    def recording_append(build: object) -> None:
        real_append(build)  # type: ignore[arg-type]
        allowed.append(image(reference))

    ref_store._append = recording_append  # type: ignore[method-assign]
    _ACTIONS[action](ref_store)
    allowed.append(image(reference))
    steps = _steps(lambda hook: _ACTIONS[action](_fresh_locked(tmp_path / "count", template, hook)))
    assert len(steps) > 5
    for i in range(len(steps)):
        victim = tmp_path / f"victim{i}"
        subprocess.run(["cp", "-a", str(template), str(victim)], check=True)
        _killed_at(victim, i, action)
        seen = image(victim)
        assert seen in allowed, f"killed before step {i} ({steps[i]}): state not one of the committed ones"
        # The next writer takes over the dead writer's lock and carries on; everything still reads back.
        store = LocalStateStore(victim, clock=clock)
        store.lock()  # the dead writer's lock died with it: no unlock needed
        store.record_batch(batch({(SEM, BOB, NPS): {"2": "1"}}, token=f"after{i}"))
        store.compact()
        store.unlock()
        final = LocalStateStore(victim).load()
        assert final is not None and final.get((SEM, BOB, NPS, "2")) is not None
        assert (
            values_of(final).items()
            >= {k: v for k, v in values_of_image(seen).items() if k != ValueKey(SEM, BOB, NPS, "2")}.items()
        )


def values_of_image(img: tuple[object, ...] | None) -> dict[ValueKey, tuple[str, int]]:
    assert img is not None
    return img[6]  # type: ignore[return-value]


def _fresh_locked(path: Path, template: Path, hook: object) -> LocalStateStore:
    subprocess.run(["rm", "-rf", str(path)], check=True)
    subprocess.run(["cp", "-a", str(template), str(path)], check=True)
    store = LocalStateStore(path, clock=clock, faults=hook, chunk=16)  # type: ignore[arg-type]
    store.lock()
    return store


def test_a_torn_last_line_is_ignored_then_cut_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    store.unlock()
    with open(path / "log.jsonl", "a", encoding="utf-8") as f:
        f.write('{"s":3,"op":"batch","batch":{"id":2')  # a crash mid-append
    assert values_of(LocalStateStore(path).load()) == {ValueKey(SEM, ALICE, REV, "2"): ("40", 1)}
    store = LocalStateStore(path, clock=clock)
    store.lock()
    store.record_batch(batch({(SEM, BOB, REV): {"2": "50"}}, token="x"))
    assert all(json.loads(line.rpartition("\t")[0]) for line in (path / "log.jsonl").read_text().splitlines())
    assert len(values_of(LocalStateStore(path).load())) == 2


@pytest.mark.parametrize("fail_at", range(5))
def test_an_append_the_system_refuses_midway_leaves_the_log_whole_for_the_next_write(
    tmp_path: Path, fail_at: int
) -> None:
    """A full disk in the middle of an append (its open, any chunk of its line, its fsync): the write fails as
    a StateWriteError naming the log, and the next write on the same store object lands on a whole log."""
    path = tmp_path / "s"
    steps: list[str] = []

    def faults(step: str) -> None:
        if steps is armed and step.startswith("log.jsonl:"):
            steps.append(step)
            if len(steps) == fail_at + 1:
                raise OSError(28, "No space left on device")

    armed: list[str] = []
    store = new_store(path, faults=faults, chunk=128)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    armed = steps  # the next append's steps: open, the 3 chunks of its line, fsync
    with pytest.raises(StateWriteError) as caught:
        store.record_batch(batch({(SEM, BOB, REV): {"2": "failed"}}, token="failed"))
    assert steps == ["log.jsonl:open", *["log.jsonl:append"] * 3, "log.jsonl:fsync"][: fail_at + 1]
    assert str(caught.value).startswith(
        f"{path / 'log.jsonl'}: cannot write the state: No space left on device [ENOSPC]: free some space, then run"
    )
    store.record_batch(batch({(SEM, BOB, NPS): {"2": "next"}}, token="next"))
    lines = (path / "log.jsonl").read_text().split("\n")
    records = [unseal(line, where="log.jsonl", n=n) for n, line in enumerate(lines[:-1], 1)]
    assert lines[-1] == "" and all(r is not None and json.loads(r) for r in records)
    state = LocalStateStore(path).load()
    assert state is not None and state.get((SEM, BOB, NPS, "2")) is not None
    assert state.get((SEM, ALICE, REV, "2")) == ("40", 1)
    if fail_at < 4:  # the line was never whole: not recorded (past it, only the fsync failed: it may be)
        assert state.get((SEM, BOB, REV, "2")) is None


def test_a_torn_tail_that_cannot_be_cut_is_one_error_and_the_lock_is_given_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s"
    new_store(path).unlock()
    with open(path / "log.jsonl", "a", encoding="utf-8") as f:
        f.write('{"s":3,"op":"batch"')  # a crash mid-append

    def refused(log: Path, size: int) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("syncer.state.local.store.truncate_torn", refused)
    store = LocalStateStore(path, clock=clock)
    with pytest.raises(StateWriteError, match=r"log\.jsonl: cannot write the state: Read-only file system \[EROFS\]"):
        store.lock()
    monkeypatch.undo()
    store.lock()  # given back: taken again, and the torn tail cut
    assert (path / "log.jsonl").read_text() == ""


def test_a_lock_the_system_refuses_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s"
    real = os.open

    def refused(file: object, *args: object, **kw: object) -> int:
        if str(file).endswith("/lock"):
            raise OSError(13, "Permission denied")
        return real(file, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(StateWriteError) as caught:
        LocalStateStore(path, clock=clock).lock()
    assert str(caught.value) == (
        f"{path / 'lock'}: cannot take the state's lock: Permission denied [EACCES]: write to a place you may "
        "write to, or fix its permissions, then run again (nothing was written)"
    )


def test_a_corrupt_line_inside_the_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    store.unlock()
    text = (path / "log.jsonl").read_text()
    (path / "log.jsonl").write_text("garbage\n" + text)
    with pytest.raises(StateError, match=r"log.jsonl:1: the state is damaged: an unreadable log line"):
        LocalStateStore(path).load()


def test_a_corrupt_shard_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}, (SEM, BOB, REV): {"2": "1"}}))
    store.compact()
    shard = path / "semesters" / f"{SEM}.jsonl"
    lines = [line.rpartition("\t")[0] for line in shard.read_text().splitlines()]
    shard.write_text(seal_file([lines[0], lines[1][:-3]]))  # checksums that match: the rows are read strictly
    with pytest.raises(StateError, match=rf"{SEM}.jsonl:2: the state is damaged: not a row syncer writes"):
        LocalStateStore(path).load()
    shard.write_text(seal_file(['["a","b","c",{"2":1}]', "[1,2]"]))
    with pytest.raises(StateError, match="malformed row"):
        LocalStateStore(path).load()


def test_a_reader_during_a_compaction_sees_a_whole_state(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}, token="a"))
    store.compact()
    store.record_batch(batch({(SEM, BOB, REV): {"2": "60"}}, token="b"))
    store.forget([(SEM, ALICE, REV, "2")])
    expected = image(path)
    seen = []

    def faults(step: str) -> None:
        seen.append(image(path))

    store.unlock()
    store = LocalStateStore(path, clock=clock, faults=faults)
    store.lock()
    store.compact()
    assert seen and all(s == expected for s in seen)


# --- formats and identity -------------------------------------------------------------------------------


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    new_store(path).unlock()
    meta = json.loads((path / "meta.json").read_text())
    meta["format"] = STATE_FORMAT + 1
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StateError, match=r"newer than this syncer understands.*upgrade syncer"):
        LocalStateStore(path).load()


def test_an_older_format_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    store.compact()
    store.unlock()
    # Pretend this syncer writes the next format and reads the current one: identity's key was renamed.
    meta = json.loads((path / "meta.json").read_text())
    del meta["crc32"]
    meta["identity"]["base_host"] = meta["identity"].pop("host")
    (path / "meta.json").write_text(seal_meta(json.dumps(meta, indent=2) + "\n"))

    def upgrade(obj: dict[str, object]) -> dict[str, object]:
        ident = dict(obj["identity"])  # type: ignore[call-overload]
        ident["host"] = ident.pop("base_host")
        return {**obj, "identity": ident}

    monkeypatch.setattr(files, "STATE_FORMAT", STATE_FORMAT + 1)
    monkeypatch.setattr(local_log, "STATE_FORMAT", STATE_FORMAT + 1)  # what compaction writes
    monkeypatch.setattr(files, "MIGRATIONS", {STATE_FORMAT: upgrade})
    store = LocalStateStore(path, clock=clock)
    state = store.load()
    assert state is not None and state.meta.format == STATE_FORMAT and state.identity == IDENT  # the format found
    store.lock()
    store.compact()  # the next write stores the new format
    assert json.loads((path / "meta.json").read_text())["format"] == STATE_FORMAT + 1


def test_a_format_2_state_is_read_and_its_next_compaction_writes_format_3(tmp_path: Path) -> None:
    """Format 3 changed only where the git backend's branch keeps log segments: a local state of format 2 is
    read as it is."""
    path = tmp_path / "s"
    store = new_store(path)
    store.record_batch(batch({(SEM, ALICE, REV): {"2": "40"}}))
    store.compact()
    store.unlock()
    meta = files.meta_from_json((path / "meta.json").read_text(), where="meta.json")
    (path / "meta.json").write_text(files.meta_to_json(dataclasses.replace(meta, format=2)))
    store = LocalStateStore(path, clock=clock)
    state = store.load()
    assert state is not None and state.meta.format == 2 and state.get((SEM, ALICE, REV, "2")) == ("40", 1)
    store.lock()
    store.compact()
    assert json.loads((path / "meta.json").read_text())["format"] == 3


def test_an_unknown_or_malformed_operation_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    new_store(path).unlock()
    (path / "log.jsonl").write_text(seal('{"s":9,"op":"teleport"}'))
    with pytest.raises(StateError, match="unknown state operation 'teleport'"):
        LocalStateStore(path).load()
    (path / "log.jsonl").write_text(seal('{"s":9,"op":"batch","batch":{"id":1}}'))
    with pytest.raises(StateError, match=r"log.jsonl:1: the state is damaged: a malformed operation"):
        LocalStateStore(path).load()


def test_identity_of_another_target_is_refused() -> None:
    for host, uid, app in [
        ("open.larksuite.com", "open_id", "cli_a1b2"),
        ("open.feishu.cn", "union_id", None),
        ("open.feishu.cn", "open_id", "cli_other"),
    ]:
        with pytest.raises(StateError, match=r"another target.*--state PATH"):
            check_identity(IDENT, host=host, user_id_type=uid, app_id=app, location="/s")
    assert check_identity(IDENT, host="open.feishu.cn", user_id_type="open_id", app_id="cli_a1b2", location="x") == ()
    notes = check_identity(IDENT, host="open.feishu.cn", user_id_type="open_id", app_id=None, location="x")
    assert len(notes) == 1 and "FEISHU_APP_ID is not set" in notes[0]


def test_load_checked_and_target_identity(tmp_path: Path) -> None:
    store = new_store(tmp_path / "s")
    settings = Settings(target=Target(base_url="https://open.feishu.cn/"))
    assert load_checked(store, target=target_identity(settings, app_id="cli_a1b2"))[1] == ()
    other = target_identity(settings, base_url="http://127.0.0.1:8080", app_id="cli_a1b2")
    assert other.host == "127.0.0.1:8080"
    with pytest.raises(StateError, match=r"host open\.feishu\.cn \(this run: 127\.0\.0\.1:8080\)"):
        load_checked(store, target=other)
    assert load_checked(LocalStateStore(tmp_path / "none"), target=other) == (None, ())


def test_host_of() -> None:
    assert host_of("https://Open.Feishu.cn") == "open.feishu.cn"
    assert host_of("https://open.feishu.cn:443/") == "open.feishu.cn"
    assert host_of("http://127.0.0.1:9") == "127.0.0.1:9"


# --- locks ------------------------------------------------------------------------------------------------


def test_two_writers_cannot_hold_the_lock(tmp_path: Path) -> None:
    first = new_store(tmp_path / "s")
    second = LocalStateStore(tmp_path / "s", clock=clock)
    with pytest.raises(StateError, match=rf"locked by apply \(pid {os.getpid()} on .*alive\)"):
        second.lock()
    with pytest.raises(StateError, match="still running"):
        second.break_lock()  # `syncer state unlock` refuses an alive holder
    first.unlock()
    with second.locked(command="state rm") as info:
        assert info.command == "state rm" and second.lock_holder() == (info, "alive")
    assert second.lock_holder() is None


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_dead_writers_lock_is_taken_over_and_named(tmp_path: Path) -> None:
    """The lock dies with its holder (the kernel releases its flock): the file only says who held it. The
    next writer takes it without `state unlock`, and says whose it was."""
    path = tmp_path / "s"
    new_store(path).unlock()
    dead = _dead_pid()
    assert not pid_alive(dead)
    (path / "lock").write_text(
        json.dumps({"pid": dead, "host": socket.gethostname(), "time": "t", "command": "apply", "id": "x"})
    )
    store = LocalStateStore(path, clock=clock)
    assert store.lock_holder().status == "dead"  # type: ignore[union-attr]
    with store.locked(command="apply"):
        assert store.taken_over is not None and store.taken_over.pid == dead
    assert not (path / "lock").exists() and store.lock_holder() is None
    (path / "lock").write_text(json.dumps({"pid": dead, "host": "ci-runner-7", "time": "t", "command": "apply"}))
    cleared = store.break_lock()  # `syncer state unlock` forgets a dead holder without --force
    assert cleared is not None and cleared.host == "ci-runner-7" and store.lock_holder() is None


def test_a_killed_holder_releases_the_lock_with_its_process(tmp_path: Path) -> None:
    path = tmp_path / "s"
    new_store(path).unlock()
    code = (
        "import os, sys\n"
        "from syncer.state.local.store import LocalStateStore\n"
        f"s = LocalStateStore({str(path)!r}); s.lock(command='apply'); print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        store = LocalStateStore(path, clock=clock)
        assert store.lock_holder().status == "alive"  # type: ignore[union-attr]
        with pytest.raises(StateError, match=rf"locked by apply \(pid {holder.pid} on .*alive\)"):
            store.lock()
        with pytest.raises(StateError, match="still running"):
            store.break_lock()
        holder.kill()  # SIGKILL: no finally, no unlock
        holder.wait()
        assert store.lock_holder().status == "dead"  # type: ignore[union-attr]
        info = store.lock()
        assert store.taken_over is not None and store.taken_over.pid == holder.pid
        assert store.lock_holder() == (info, "alive")
        store.unlock()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_force_unlock_under_a_live_holder_stops_it_before_its_next_write(tmp_path: Path) -> None:
    stuck = new_store(tmp_path / "s")
    other = LocalStateStore(tmp_path / "s", clock=clock)
    assert other.break_lock(force=True) is not None  # a person sure the holder is stuck
    with pytest.raises(StateError, match="taken away"):
        stuck.record_batch(batch({(SEM, ALICE, REV): {"2": "1"}}, token="late"))
    other.lock()  # the lock is free for the next writer
    other.unlock()


def test_a_torn_lock_file_counts_as_dead(tmp_path: Path) -> None:
    path = tmp_path / "s"
    new_store(path).unlock()
    (path / "lock").write_text('{"pid": 12')
    store = LocalStateStore(path, clock=clock)
    assert store.lock_holder().status == "dead"  # type: ignore[union-attr]
    store.lock()
    store.unlock()


def test_the_lock_compacts_a_long_log(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = new_store(path, compact_after_ops=3)
    for i in range(5):
        store.record_batch(batch({(SEM, ALICE, REV): {"2": str(i)}}, token=f"t{i}"))
    store.unlock()
    store.lock()
    assert (path / "log.jsonl").read_text() == ""
    assert store.load().get((SEM, ALICE, REV, "2")) == ("4", 5)  # type: ignore[union-attr]


# --- a model-based property -------------------------------------------------------------------------------

KEYS = [(s, r, m) for s in (SEM, SEM2) for r in (ALICE, BOB) for m in (REV, NPS)]
op_strategy = st.one_of(
    st.tuples(
        st.just("batch"),
        st.dictionaries(
            st.sampled_from(KEYS[:4]),
            st.dictionaries(st.sampled_from(["2", "4", "5"]), st.text(max_size=3), min_size=1, max_size=3),
            min_size=1,
            max_size=3,
        ),
    ),
    st.tuples(
        st.just("forget"),
        st.lists(st.tuples(st.sampled_from(KEYS[:4]), st.sampled_from(["2", "4", "5"])), max_size=4),
    ),
    st.tuples(st.just("compact"), st.none()),
    st.tuples(st.just("reopen"), st.none()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op_strategy, max_size=12))
def test_the_store_agrees_with_a_dict(tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, object]]) -> None:
    path = tmp_path_factory.mktemp("model") / "s"
    store = new_store(path)
    model: dict[ValueKey, tuple[str, int]] = {}
    next_batch = 1
    for kind, arg in ops:
        if kind == "batch":
            rows: dict[tuple[str, str, str], dict[str, str]] = arg  # type: ignore[assignment]
            for sem in sorted({r[0] for r in rows}):
                part = {r: f for r, f in rows.items() if r[0] == sem}
                store.record_batch(batch(part, sem=sem, token=f"t{next_batch}"))
                for r, fields in part.items():
                    for f, v in fields.items():
                        model[ValueKey(*r, f)] = (v, next_batch)
                next_batch += 1
        elif kind == "forget":
            keys = [(*r, f) for r, f in arg]  # type: ignore[attr-defined]
            store.forget(keys)
            for k in keys:
                model.pop(ValueKey(*k), None)
        elif kind == "compact":
            store.compact()
        else:
            store.unlock()
            store = LocalStateStore(path, clock=clock)
            store.lock()
    loaded = LocalStateStore(path).load()
    assert values_of(loaded) == model
    assert loaded is not None and loaded.value_count == len(model)
