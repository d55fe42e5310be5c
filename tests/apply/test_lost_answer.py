"""An entry that may have landed is never closed as not landed.

A batch lands, its answer is lost (the emulator's `lost_response`), and the retry under the same client token
meets a failure that says nothing about that token: a 429 asking to wait an hour, a code syncer does not know,
a refused re-authentication, 5xx until the retries are spent. The journal entry stays open (the apply stops
and says what the next one does); the next apply settles it first, under the same token (1580110, then the
rows read back), and only then plans. Across the runs Feishu holds exactly one accepted import of that batch.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from syncer.emulator import Emulator, ManualClock
from syncer.emulator.faults import FaultKind
from syncer.emulator.store import ImportRecord
from syncer.load.validate import validate_root
from syncer.state import open_store
from tests.apply.test_run import H2, AnswerLost, Crash, World
from tests.example import copy_example

FORMER = "ou_3075461c0c8eacfece00a926b0ea15f1"  # a user the semester does not list: 1580306
UNKNOWN = 1580999  # a code of the import's range that syncer does not know


class Scripted(httpx.BaseTransport):
    """Answers `times` import requests itself (HTTP `status`, `code`) instead of the emulator: from the first
    import whose answer the emulator dropped on (the retry under its token), or from the start (`armed`)."""

    def __init__(self, inner: httpx.BaseTransport, *, status: int, code: int, times: int, armed: bool) -> None:
        self.inner, self.status, self.code, self.times, self.armed = inner, status, code, times, armed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_import = request.url.path.endswith("/metric_details/import")
        if is_import and self.armed and self.times:
            self.times -= 1
            return httpx.Response(self.status, json={"code": self.code, "msg": "scripted", "data": {}})
        try:
            return self.inner.handle_request(request)
        except httpx.RemoteProtocolError:
            self.armed = self.armed or is_import
            raise


def refusal(world: World, kind: str, *, after_lost: bool) -> None:
    """Make the next import request (`after_lost`: the retry after a lost answer) meet `kind`."""
    emu = world.emu
    world.transport_wrapper = None
    if kind in ("rate-limited", "5xx"):
        fault: FaultKind = "rate_limited" if kind == "rate-limited" else "error"
        times = 1 if kind == "rate-limited" else 4 if after_lost else 5  # 5 attempts in all

        def strike() -> None:
            emu.faults.inject(fault, times=times, reset=3600)

        if not after_lost:
            strike()
            return
        fired: list[bool] = []

        def on_commit(record: ImportRecord) -> None:
            if not fired:
                fired.append(True)
                strike()

        emu.faults.add_commit_hook(on_commit)
        return
    status, code, times = (400, UNKNOWN, 1) if kind == "unknown-code" else (401, 99991663, 2)

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        return Scripted(inner, status=status, code=code, times=times, armed=not after_lost)

    world.transport_wrapper = wrap


def open_entries(world: World) -> list[str]:
    state = open_store(world.root, validate_root(world.root).settings).load()
    assert state is not None
    return sorted(state.journal)


def accepted(world: World, token: str) -> int:
    return sum(1 for e in world.imports() if e.client_token == token and e.code == 0)


KINDS = ["rate-limited", "unknown-code", "auth", "5xx"]


def first_run_loses_the_answer(world: World, kind: str) -> str:
    """Run 1: the first batch lands, its answer is lost, the retry meets `kind`. Returns the batch's token."""
    world.emu.faults.inject("lost_response")
    refusal(world, kind, after_lost=True)
    run = world.apply()
    world.emu.faults.clear()
    world.transport_wrapper = None
    assert run.report.exit_code == 1
    assert run.report.aborted is not None and "stays open" in run.report.aborted
    assert "the next apply settles it first" in run.report.aborted
    (token,) = open_entries(world)
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 1
    assert run.report.batches == []  # not recorded: its answer never said so
    return token


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_answer_then_a_refusal_that_cannot_tell_leaves_the_entry_open(world: World, kind: str) -> None:
    token = first_run_loses_the_answer(world, kind)
    run = world.apply()
    assert run.report.settled == [(token, "landed-earlier")]  # 1580110 under its token, the values read back
    assert run.report.exit_code == 0 and open_entries(world) == []
    assert accepted(world, token) == 1
    assert len(world.emu.import_records()) == 2  # 60 rows, two batches: each accepted once
    assert world.held_values() == world.expected_values()
    assert world.apply().report.requests == 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_settling_run_meeting_the_same_refusal_keeps_the_entry_open_and_sends_nothing_new(
    world: World, kind: str
) -> None:
    token = first_run_loses_the_answer(world, kind)
    refusal(world, kind, after_lost=False)  # the next apply's settle, under the same token, meets it too
    n = len(world.imports())
    run = world.apply()
    world.emu.faults.clear()
    world.transport_wrapper = None
    assert run.report.exit_code == 1 and run.report.settled == []
    assert run.report.aborted is not None and "stays open" in run.report.aborted
    assert open_entries(world) == [token]
    assert {e.client_token for e in world.imports()[n:]} <= {token}  # nothing else sent while it may have landed
    assert len(world.emu.import_records()) == 1
    run = world.apply()
    assert run.report.settled == [(token, "landed-earlier")] and run.report.exit_code == 0
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 2
    assert world.held_values() == world.expected_values()


@pytest.mark.parametrize("code", [1580306, 1580309])
def test_a_rejection_after_a_lost_answer_is_read_back_and_a_landed_batch_is_recorded(world: World, code: int) -> None:
    """The first batch lands, its answer is lost, and the retry under its token is answered with a documented
    rejection (a row-level or a request-wide one). Feishu's own checks answered, but the batch may have landed
    all the same: the rows are read back, hold the batch's values, and the batch is recorded as landed; its
    rows are neither sent again nor quarantined."""
    world.emu.faults.inject("lost_response")
    world.transport_wrapper = lambda inner: Scripted(inner, status=400, code=code, times=1, armed=False)
    run = world.apply()
    world.transport_wrapper = None
    assert run.report.exit_code == 0, run.report
    assert run.report.rejected == [] and run.report.failures == []
    assert len(run.report.batches) == 2 and run.report.batches[0].import_record_id == ""
    assert len(world.emu.import_records()) == 2  # each batch accepted once, none under a new token
    assert world.held_values() == world.expected_values()
    assert open_entries(world) == [] and world.apply().report.requests == 0


def former_world(tmp_path: Path) -> World:
    """The example plus one reviewee the semester does not list (1580306); refused tokens are not remembered."""
    root = tmp_path / "former"
    copy_example(root)
    cat = root / "catalog.yaml"
    cat.write_text(cat.read_text() + f"  former.employee: {FORMER}\n")
    (root / "teams" / "former.yaml").write_text(
        "semester: 2026-H2\nreviewees:\n  former.employee:\n    revenue: {weight: 10%, target: 100}\n"
    )
    clock = ManualClock()
    return World(root, clock, Emulator(clock=clock, sleep=clock.sleep))


def test_an_open_entry_feishu_rejects_on_settling_is_read_back_then_closed_and_isolated(tmp_path: Path) -> None:
    """Killed right after Feishu rejected a batch (1580306), its answer never seen: the next apply settles the
    entry under its token, is rejected again, reads the rows back (not there), closes it as rejected, and
    the plan isolates the row at fault; every other row lands once."""
    world = former_world(tmp_path)
    world.transport_wrapper = lambda t: AnswerLost(t, code=1580306, exc=Crash("killed after the rejection"))
    with pytest.raises(Crash):
        world.apply()
    world.transport_wrapper = None
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)
    (token,) = open_entries(world)
    run = world.apply()
    assert run.report.settled == [(token, "rejected")] and open_entries(world) == []
    assert [(r.row.reviewee, r.code) for r in run.report.new_rejections] == [(FORMER, 1580306)]
    assert world.held_values() == {k: v for k, v in world.expected_values().items() if k[1] != FORMER}
    imported = [(row.reviewee_user_id, row.metric_id) for r in world.emu.import_records() for row in r.rows]
    assert len(imported) == len(set(imported)) == 60  # every good row imported once


def test_an_open_entry_that_landed_and_is_then_rejected_on_settling_is_recorded(world: World) -> None:
    """Killed after Feishu accepted a batch, its answer never seen; settling it, Feishu answers a documented
    rejection instead of 1580110: the rows read back hold its values, so it is recorded as landed earlier and
    none of its rows is sent again."""
    world.transport_wrapper = lambda t: AnswerLost(t, code=0, exc=Crash("killed after the acceptance"))
    with pytest.raises(Crash):
        world.apply()
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)
    (token,) = open_entries(world)
    world.transport_wrapper = lambda inner: Scripted(inner, status=400, code=1580306, times=1, armed=True)
    run = world.apply()
    assert run.report.settled == [(token, "landed-earlier")] and run.report.exit_code == 0
    assert run.report.rejected == []
    assert [b.import_record_id for b in run.report.batches if b.settled] == [""]  # no answer named its record
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 2
    assert world.held_values() == world.expected_values()


def test_settling_says_so_as_it_happens(world: World) -> None:
    """Each settled entry is one progress event: how many rows and what became of it, counting none of this
    plan's rows or requests (it is an earlier run's batch)."""
    from syncer.apply.outcome import Progress

    world.transport_wrapper = lambda t: AnswerLost(t, code=0, exc=Crash("killed after the acceptance"))
    with pytest.raises(Crash):
        world.apply()
    world.transport_wrapper = None
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)
    (token,) = open_entries(world)
    events: list[Progress] = []
    run = world.apply(progress=events.append)
    assert run.report.settled == [(token, "landed-earlier")]
    assert [e for e in events if e.kind == "settle"] == [
        Progress("settle", H2, 0, 0, 0, 0.0, "settled an interrupted batch (50 rows): landed-earlier")
    ]


class ReadRefused(httpx.BaseTransport):
    """The emulator, except that every metric_details/query is refused (no permission to read)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/metric_details/query"):
            return httpx.Response(400, json={"code": 99991672, "msg": "scripted", "data": {}})
        return self.inner.handle_request(request)


def test_an_open_entry_whose_token_is_known_but_whose_rows_cannot_be_read_stays_open(world: World) -> None:
    """Settling, Feishu answers 1580110 (the token was received), and the read-back that would tell whether the
    batch was accepted is refused: the entry stays open, nothing is planned or sent, the apply exits non-zero
    saying why; once the rows can be read, the next apply records it as landed, and no row went out twice."""
    world.transport_wrapper = lambda t: AnswerLost(t, code=0, exc=Crash("killed after the acceptance"))
    with pytest.raises(Crash):
        world.apply()
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)
    (token,) = open_entries(world)
    world.transport_wrapper = ReadRefused
    n = len(world.imports())
    run = world.apply()
    assert run.report.settled == [] and run.report.exit_code == 1
    assert run.report.aborted is not None and "could not be read back" in run.report.aborted
    assert "stays open" in run.report.aborted
    assert open_entries(world) == [token]
    assert {e.client_token for e in world.imports()[n:]} == {token}  # only the same token, again
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 1
    world.transport_wrapper = None
    run = world.apply()
    assert run.report.settled == [(token, "landed-earlier")] and run.report.exit_code == 0
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 2
    assert world.held_values() == world.expected_values()


def test_a_lost_answer_then_1580110_with_rows_that_cannot_be_read_is_never_sent_under_a_new_token(
    world: World,
) -> None:
    """Within one apply: the batch lands, its answer is lost, the retry under its token answers 1580110, and the
    rows cannot be read back. It may have landed, so the entry stays open and the apply stops: no new token."""
    world.emu.faults.inject("lost_response")
    world.transport_wrapper = ReadRefused
    run = world.apply()
    assert run.report.exit_code == 1
    assert run.report.aborted is not None and "could not be read back" in run.report.aborted
    (token,) = open_entries(world)
    assert {e.client_token for e in world.imports()} == {token}
    assert accepted(world, token) == 1 and len(world.emu.import_records()) == 1
    world.transport_wrapper = None
    run = world.apply()
    assert run.report.settled == [(token, "landed-earlier")] and run.report.exit_code == 0
    assert len(world.emu.import_records()) == 2 and world.held_values() == world.expected_values()
