"""Quarantine bookkeeping (syncer.apply.quarantine): rows refused on their own are done with (counted in the
progress as the rows that landed are), and a refusal every row shares stops the semester with its rows left
pending, diagnosed without asking Feishu what it does not need to know."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.apply.outcome import Progress
from syncer.emulator import Emulator, ManualClock
from syncer.errors import UnstorableValue
from syncer.feishu.codes import describe
from syncer.load.validate import validate_root
from syncer.model import ValueKey
from syncer.state import open_store
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchInfo, BatchRecord
from tests.apply.test_lost_answer import FORMER, former_world
from tests.apply.test_run import H2, World
from tests.example import copy_example


def test_rows_rejected_on_their_own_count_as_done_in_the_progress(tmp_path: Path) -> None:
    world = former_world(tmp_path)
    events: list[Progress] = []
    run = world.apply(progress=events.append)
    meaning = describe(1580306).meaning
    assert [(r.row.reviewee, r.code, r.meaning) for r in run.report.rejected] == [(FORMER, 1580306, meaning)]
    (rejected,) = [e for e in events if e.kind == "rejected"]
    assert (rejected.semester, rejected.message) == (H2, f"1 row rejected with 1580306: {meaning}")
    state = open_store(world.root, validate_root(world.root).settings).load()
    assert state is not None
    assert [(r.row.reviewee, r.message) for r in state.rejections.values()] == [(FORMER, meaning)]
    last = [e for e in events if e.kind == "batch"][-1]
    assert last.rows_done == last.rows_total == run.plan.counts.rows_to_send


def test_a_shared_refusal_counts_its_batch_done_and_asks_nothing_it_does_not_need(tmp_path: Path) -> None:
    """Every row refused alike with 1580301 (percentages sent with a % sign Feishu does not want): when the
    semester stops, the whole batch is done with (2 rows rejected, 48 pending) and the diagnosis comes from
    the catalog alone: the projects' state (activity/query) is asked only to explain a 1580306."""
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    emu = Emulator(Emulator().tenant.with_switches(percentage_wire_format="40"), clock=clock, sleep=clock.sleep)
    world = World(root, clock, emu)
    events: list[Progress] = []
    run = world.apply(progress=events.append)
    (stop,) = run.report.shared
    assert (stop.code, stop.meaning, stop.rows_rejected, stop.rows_pending) == (
        1580301,
        describe(1580301).meaning,
        2,
        48,
    )
    (stopped,) = [e for e in events if e.kind == "stop"]
    assert (stopped.rows_done, stopped.rows_total) == (50, 60)
    assert world.emu.requests("activity.query") == []


def test_rows_set_aside_count_as_done_in_the_progress_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of the plan that landed but that the state cannot hold is set aside: done with, and counted once,
    as the rows recorded with it are. One row of each batch set aside: the progress says 50, then 60 of 60."""
    root = tmp_path / "metrics"
    copy_example(root)
    real = LocalStateStore.record_batch
    aside: dict[str, ValueKey] = {}

    def record_batch(store: LocalStateStore, batch: BatchRecord) -> BatchInfo:
        if batch.client_token not in aside:
            row, fields = next(iter(batch.rows.items()))
            aside[batch.client_token] = ValueKey(*row, next(iter(fields)))
            raise UnstorableValue("cannot store it (injected)", key=aside[batch.client_token], backend="local")
        return real(store, batch)

    monkeypatch.setattr(LocalStateStore, "record_batch", record_batch)
    clock = ManualClock()
    world = World(root, clock, Emulator(clock=clock, sleep=clock.sleep))
    events: list[Progress] = []
    run = world.apply(progress=events.append)
    assert [(r.row, r.code) for r in run.report.rejected] == [(k.row, 0) for k in aside.values()]
    assert len(aside) == 2
    assert [(e.rows_done, e.rows_total) for e in events if e.kind == "batch"] == [(50, 60), (60, 60)]
