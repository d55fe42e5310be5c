"""Rejected rows against the emulator: a few reviewees left or are out of scope, an admin filled a field.
Every other value lands, the rejected rows are reported with file:line and remedy, exit 4; the next apply
sends nothing for them and exits 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncer.emulator import Emulator, ManualClock
from tests.test_apply import IMPORT, REPO, World

OUTSIDE = "ou_78120b254976fdd6d756c249c1ecaf8a"  # enrolled, outside the app's data scope: 1580112
PENDING = "ou_21531bc977b37e05f8dbaf4ce5895623"  # enrolled, project not started: 1580306
FORMER = "ou_3075461c0c8eacfece00a926b0ea15f1"  # not a reviewee of the semester: 1580306
TANG = "ou_89da0ccdfdb1fd18361d2bc3312226b1"  # an admin entered csat.calibration: 1580311

EXTRA = """\
semester: 2026-H2
reviewees:
  outside.scope:
    revenue: {weight: 10%, target: 100}
  pending.start:
    revenue: {weight: 10%, target: 100}
  former.employee:
    revenue: {weight: 10%, target: 100}
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    root = tmp_path / "metrics"
    shutil.copytree(REPO / "metrics", root, ignore=shutil.ignore_patterns(".syncer"))
    cat = root / "catalog.yaml"
    cat.write_text(cat.read_text() + f"  outside.scope: {OUTSIDE}\n  pending.start: {PENDING}\n"
                   f"  former.employee: {FORMER}\n")
    (root / "teams" / "leavers.yaml").write_text(EXTRA)
    support = root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace(
        "  tang.rui:\n    csat:\n", "  tang.rui:\n    csat:\n      calibration: \"Self-assessed: exceeded\"\n", 1))
    clock = ManualClock()
    return World(root, clock, Emulator(clock=clock, sleep=clock.sleep))


def test_bad_rows_are_isolated_reported_and_quarantined(world: World) -> None:
    run = world.apply()
    report = run.report
    assert report.exit_code == 4
    got = {(r.row.reviewee, r.code) for r in report.rejected}
    assert got == {(OUTSIDE, 1580112), (PENDING, 1580306), (FORMER, 1580306), (TANG, 1580311)}
    for r in report.rejected:
        assert r.new and r.source is not None and r.source.line > 0 and r.remedy
    assert {Path(r.source.file).name for r in report.rejected if r.source} == {"leavers.yaml", "support.yaml"}
    # Every other value landed.
    bad = {OUTSIDE, PENDING, FORMER, TANG}
    expected = {k: v for k, v in world.expected_values().items() if k[1] not in bad}
    held = {k: v for k, v in world.held_values().items() if k[1] not in bad}
    assert held == expected
    # The budget: at most 2 x ceil(log2 50) = 12 extra requests per bad row, beyond ceil(rows/50).
    rows = run.plan.counts.rows_to_send
    assert report.requests <= -(-rows // 50) + 4 * 12

    # The next apply sends nothing for them and exits 0.
    n = len(world.imports())
    again = world.apply()
    assert again.report.exit_code == 0 and again.report.requests == 0
    assert len(world.imports()) == n
    assert {(r.row.reviewee, r.new) for r in again.report.rejected} == {(x, False) for x in bad}
    assert len(again.plan.quarantined) == 4 and again.plan.empty


def test_a_changed_value_is_sent_again_and_retry_rejected_forces_it(world: World) -> None:
    world.apply()
    leavers = world.root / "teams" / "leavers.yaml"
    leavers.write_text(leavers.read_text().replace("pending.start:\n    revenue: {weight: 10%, target: 100}",
                                                   "pending.start:\n    revenue: {weight: 10%, target: 120}"))
    n = len(world.imports())
    run = world.apply()
    assert run.report.exit_code == 4 and run.report.requests == 1  # only the changed row, rejected again
    assert [r.row.reviewee for r in run.report.new_rejections] == [PENDING]
    assert len(world.imports()) == n + 1
    run = world.apply(retry_rejected=True)
    assert {r.row.reviewee for r in run.report.new_rejections} == {OUTSIDE, PENDING, FORMER, TANG}


def test_preflight_quarantines_non_reviewees_without_spending_import_quota(world: World) -> None:
    run = world.apply(preflight=True)
    by_reviewee = {r.row.reviewee: r for r in run.report.rejected}
    assert by_reviewee[FORMER].message.startswith("pre-flight") and by_reviewee[FORMER].new
    assert by_reviewee[OUTSIDE].message.startswith("pre-flight")  # out of the app's scope: not listed either
    assert len(world.emu.requests("reviewees.query")) >= 1
    assert run.report.exit_code == 4
    # Without pre-flight the same tenant costs more import requests (the isolation of FORMER and OUTSIDE).
    with_preflight = len(world.imports())
    clock = ManualClock()
    other = World(world.root, clock, Emulator(clock=clock, sleep=clock.sleep))
    shutil.rmtree(world.root / ".syncer")
    other.apply()
    assert with_preflight < len(other.imports())


def test_weight_move_between_metrics_lands_in_the_right_order_even_when_split(world: World) -> None:
    """alice: revenue 60% -> 40% and nps 40% -> 60% in one plan; a bad row in the same batch forces splits.
    Lowering goes first, so Feishu's sum check (<= 100%, counting stored metrics) never fails."""
    world.apply()
    sales = world.root / "teams" / "sales.yaml"
    text = sales.read_text()
    start = text.index("  alice:\n")
    end = text.index("\n  bob:", start)
    block = text[start:end].replace("weight: 60%", "weight: 40%").replace("weight: 40%\n      target: 45",
                                                                          "weight: 60%\n      target: 45")
    sales.write_text(text[:start] + block + text[end:])
    leavers = world.root / "teams" / "leavers.yaml"
    leavers.write_text(leavers.read_text().replace("target: 100", "target: 101"))
    run = world.apply(retry_rejected=True)
    assert all(e.code != 1580304 for e in world.imports())
    alice = {k: v for k, v in world.held_values().items() if k[1] == "ou_3245842393d09e9428ad4655da6e30b3"}
    assert sorted(v for k, v in alice.items() if k[3] == "2") == ["40", "60"]
    assert run.report.exit_code == 4


def test_request_wide_code_stops_the_semester_and_is_never_split(world: World) -> None:
    import dataclasses

    clock = world.clock
    world.emu = Emulator(dataclasses.replace(world.emu.tenant, licence=False), clock=clock, sleep=clock.sleep)
    run = world.apply()
    assert run.report.exit_code == 1
    assert run.report.failures and "1580901" in run.report.failures[0][1]
    assert len(world.emu.requests(IMPORT)) == 1  # one request, no split
