"""The pre-flight (syncer.apply.preflight) with projects: rows of reviewees whose projects are not started are
held back before any import, and a tenant that will not say (activity/query refused) still gets its apply."""

from __future__ import annotations

from pathlib import Path

from syncer.emulator import Emulator, ManualClock, parse_tenant
from syncer.load.validate import validate_root
from syncer.state import open_store
from tests.apply.test_run import World
from tests.emulator.test_activities import with_projects
from tests.example import copy_example

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"  # in the project 'H2 review' alone
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # in it and in 'Joiners', which runs


def _world(tmp_path: Path, progress: str) -> World:
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    return World(root, clock, Emulator(parse_tenant(with_projects(progress)), clock=clock, sleep=clock.sleep))


def test_rows_of_a_reviewee_whose_every_project_is_not_started_are_held_back_before_any_import(tmp_path: Path) -> None:
    world = _world(tmp_path, "initiating")
    run = world.apply(preflight=True)
    held = {r.row.reviewee: r for r in run.report.held}
    assert set(held) == {ALICE}  # bob's other project runs
    assert held[ALICE].message.startswith("pre-flight: the project 'H2 review'") and held[ALICE].code == 1580306
    assert held[ALICE].remedy.endswith("a Performance admin starts it in Feishu, then apply again")
    assert not any(ALICE in e.body for e in world.imports())  # no import spent on her
    assert len(world.emu.requests("activity.query")) == 1
    assert run.report.rejected == [] and run.report.exit_code == 4


def test_once_the_project_starts_the_next_apply_sends_the_rows_it_held_back(tmp_path: Path) -> None:
    """Held back, not rejected: nothing was recorded, so the apply after the project starts sends them (no
    --retry-rejected, no change to the YAML)."""
    world = _world(tmp_path, "initiating")
    world.apply(preflight=True)
    state = open_store(world.root, validate_root(world.root).settings).load()
    assert state is not None and state.rejections == {}
    clock = ManualClock()
    started = World(world.root, clock, Emulator(parse_tenant(with_projects("enabled")), clock=clock, sleep=clock.sleep))
    run = started.apply(preflight=True)
    assert run.report.held == [] and run.report.exit_code == 0
    assert any(ALICE in e.body for e in started.imports())


def test_no_project_is_checked_when_activity_query_fails(tmp_path: Path) -> None:
    world = _world(tmp_path, "initiating")
    world.emu.faults.inject("error", endpoint="activity.query", times=1000)
    run = world.apply(preflight=True)
    alice = [r for r in run.report.rejected if r.row.reviewee == ALICE]
    assert alice and all(r.code == 1580306 and not r.message.startswith("pre-flight") for r in alice)  # the import said


def _all_in_one_project(tmp_path: Path) -> World:
    data = with_projects("initiating")
    h2 = next(s for s in data["semesters"] if s["id"] == "7293040702907514899")
    for r in h2["reviewees"]:
        r["activity_ids"] = ["7500000000000000001"]
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    return World(root, clock, Emulator(parse_tenant(data), clock=clock, sleep=clock.sleep))


def test_a_shared_1580306_is_diagnosed_with_the_project_not_started(tmp_path: Path) -> None:
    world = _all_in_one_project(tmp_path)
    [stop] = world.apply().report.shared
    assert stop.code == 1580306 and stop.cause.startswith("the project 'H2 review'")


def test_the_diagnosis_keeps_its_general_advice_when_activity_query_fails(tmp_path: Path) -> None:
    world = _all_in_one_project(tmp_path)
    world.emu.faults.inject("error", endpoint="activity.query", times=1000)
    [stop] = world.apply().report.shared
    assert stop.code == 1580306 and "check the semester" in stop.cause
