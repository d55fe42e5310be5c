"""A run's shared context (syncer.apply.context): --max-duration is judged before each request from the
time spent, the pacing wait ahead and one request's allowance; the progress events count the rows done."""

from __future__ import annotations

from pathlib import Path

from syncer.apply.context import REQUEST_ALLOWANCE, ApplyOptions, Collaborators, Listeners, RunContext
from syncer.apply.outcome import Progress
from syncer.feishu.auth import Credentials
from syncer.feishu.pacing import Pacer
from syncer.feishu.write import WriteClient
from syncer.load.settings import Settings
from syncer.model import Catalog, DesiredState
from syncer.state.local.store import LocalStateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def context(tmp_path: Path, clock: Clock, *, max_duration: float | None, seen: list[Progress]) -> RunContext:
    desired = DesiredState(values={}, rows={}, catalog=Catalog(), closed_semesters=frozenset(), files=())
    options = ApplyOptions(Settings(), desired, record_name="syncer abc", commit="nogit", max_duration=max_duration)
    pacer = Pacer(interval=6.0, last_request_at=clock.now, clock=clock, sleep=lambda _s: None)
    client = WriteClient(base_url="http://127.0.0.1:1", credentials=Credentials("cli_x", "secret"))
    world = Collaborators(store=LocalStateStore(tmp_path / "state"), client=client, pacer=pacer, timer=clock)
    return RunContext(options, world, Listeners(progress=seen.append), start=clock.now)


def test_no_limit_never_overruns(tmp_path: Path) -> None:
    clock = Clock()
    run = context(tmp_path, clock, max_duration=None, seen=[])
    clock.now += 10_000
    assert not run.would_overrun()


def test_the_wait_ahead_and_one_request_count(tmp_path: Path) -> None:
    """The next slot is 6 s away (the last request was just now): 6 s + the allowance must fit."""
    clock = Clock()
    assert not context(tmp_path, clock, max_duration=6.0 + REQUEST_ALLOWANCE, seen=[]).would_overrun()
    assert context(tmp_path, clock, max_duration=6.0 + REQUEST_ALLOWANCE - 0.1, seen=[]).would_overrun()


def test_time_spent_counts(tmp_path: Path) -> None:
    clock = Clock()
    run = context(tmp_path, clock, max_duration=20.0, seen=[])
    assert not run.would_overrun()
    clock.now += 10.0  # the slot has come: no wait left, 10 s spent
    assert not run.would_overrun()
    clock.now += 5.1
    assert run.would_overrun()


def test_notes_go_to_the_report_and_the_display(tmp_path: Path) -> None:
    seen: list[Progress] = []
    run = context(tmp_path, Clock(), max_duration=None, seen=seen)
    run.rows_total, run.rows_done = 10, 4
    run.note("7293040702907514899", "a note")
    assert run.report.notes == ["a note"]
    assert seen == [Progress("note", "7293040702907514899", 4, 10, 0, 0.0, "a note")]
