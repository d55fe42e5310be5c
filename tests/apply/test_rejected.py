"""Rejected rows against the emulator: a few reviewees left or are out of scope, an admin filled a field.
Every other value lands, the rejected rows are reported with file:line and remedy, exit 4; the next apply
sends nothing for them and exits 0."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from syncer.emulator import Emulator, ManualClock
from syncer.emulator.tenant import FieldDef, I18n, MetricField
from syncer.load.validate import validate_root
from syncer.state import open_store
from tests.apply.test_run import IMPORT, World
from tests.example import copy_example

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
    copy_example(root)
    cat = root / "catalog.yaml"
    cat.write_text(
        cat.read_text() + f"  outside.scope: {OUTSIDE}\n  pending.start: {PENDING}\n  former.employee: {FORMER}\n"
    )
    (root / "teams" / "leavers.yaml").write_text(EXTRA)
    support = root / "teams" / "support.yaml"
    support.write_text(
        support.read_text().replace(
            "  tang.rui:\n    csat:\n", '  tang.rui:\n    csat:\n      calibration: "Self-assessed: exceeded"\n', 1
        )
    )
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
    leavers.write_text(
        leavers.read_text().replace(
            "pending.start:\n    revenue: {weight: 10%, target: 100}",
            "pending.start:\n    revenue: {weight: 10%, target: 120}",
        )
    )
    n = len(world.imports())
    run = world.apply()
    assert run.report.exit_code == 4 and run.report.requests == 1  # only the changed row, rejected again
    assert [r.row.reviewee for r in run.report.new_rejections] == [PENDING]
    assert len(world.imports()) == n + 1
    run = world.apply(retry_rejected=True)
    assert {r.row.reviewee for r in run.report.new_rejections} == {OUTSIDE, PENDING, FORMER, TANG}


def test_preflight_holds_back_non_reviewees_without_spending_import_quota_or_recording_them(world: World) -> None:
    run = world.apply(preflight=True)
    by_reviewee = {r.row.reviewee: r for r in run.report.held}
    assert by_reviewee[FORMER].message.startswith("pre-flight")
    assert by_reviewee[OUTSIDE].message.startswith("pre-flight")  # out of the app's scope: not listed either
    assert {r.row.reviewee for r in run.report.rejected} == {PENDING, TANG}  # refused by the import itself
    asked = {u for q in world.emu.requests("reviewees.query") for u in json.loads(q.body)["user_ids"]}
    assert asked == {row.reviewee for rows in run.plan.rows_by_semester().values() for row in rows}
    assert run.report.exit_code == 4
    state = open_store(world.root, validate_root(world.root).settings).load()
    assert state is not None and {r.reviewee for r in state.rejections} == {PENDING, TANG}  # FORMER: not recorded
    again = world.apply(preflight=True)  # asked again, held back again, still not recorded
    assert {r.row.reviewee for r in again.report.held} == {FORMER, OUTSIDE} and again.report.exit_code == 4
    # Without pre-flight the same tenant costs more import requests (the isolation of FORMER and OUTSIDE).
    with_preflight = len(world.imports())
    clock = ManualClock()
    other = World(world.root, clock, Emulator(clock=clock, sleep=clock.sleep))
    shutil.rmtree(world.root / ".syncer")
    other.apply()
    assert with_preflight < len(other.imports())


def test_weight_move_between_metrics_lands_in_the_right_order_even_when_split(world: World) -> None:
    """alice: revenue 60% -> 40% and nps 40% -> 60%, and bob's unit too long (1580303) in the same batch.
    The batch [bob, alice lower, alice raise] is split [bob, alice lower] | [alice raise]: the lowering row
    must go no later than the raising one, or Feishu's sum (counting what it stores) passes 100%
    (1580304) and alice is quarantined by mistake. Swapping the order makes this test fail."""
    (world.root / "teams" / "leavers.yaml").unlink()
    support = world.root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace('      calibration: "Self-assessed: exceeded"\n', ""))
    world.apply()
    sales = world.root / "teams" / "sales.yaml"
    text = sales.read_text()
    start = text.index("  alice:\n")
    end = text.index("\n  bob:", start)
    block = (
        text[start:end]
        .replace("weight: 60%", "weight: 40%")
        .replace("weight: 40%\n      target: 45", "weight: 60%\n      target: 45")
    )
    text = text[:start] + block + text[end:]
    bob = text.index("  bob:\n")
    text = text[:bob] + text[bob:].replace("unit: CNY", "unit: Chinese yuan renminbi", 1)
    sales.write_text(text)
    cat = world.root / "catalog.yaml"
    cat.write_text(
        cat.read_text().replace(
            'unit:   {id: "3", type: text, max_length: 20}', 'unit:   {id: "3", type: text, max_length: 100}'
        )
    )
    n = len(world.imports())
    run = world.apply()
    assert [e.code for e in world.imports()[n:]][:1] == [1580303]  # the one batch, rejected, then split
    assert all(e.code != 1580304 for e in world.imports())
    assert {(r.row.reviewee, r.code) for r in run.report.new_rejections} == {
        ("ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9", 1580303)
    }
    alice = {k: v for k, v in world.held_values().items() if k[1] == "ou_3245842393d09e9428ad4655da6e30b3"}
    assert {k[2]: v for k, v in alice.items() if k[3] == "2"} == {
        "7272580325522276372": "40",
        "7272580325522276401": "60",
    }


def test_max_duration_also_bounds_the_isolation(world: World) -> None:
    run = world.apply(max_duration=10)
    assert run.report.exit_code == 3
    assert run.report.seconds <= 10
    run = world.apply()  # the rest, in a run without a limit
    assert {r.row.reviewee for r in run.report.rejected} == {OUTSIDE, PENDING, FORMER, TANG}


def test_request_wide_code_stops_the_semester_and_is_never_split(world: World) -> None:
    import dataclasses

    clock = world.clock
    world.emu = Emulator(dataclasses.replace(world.emu.tenant, licence=False), clock=clock, sleep=clock.sleep)
    run = world.apply()
    assert run.report.exit_code == 1
    assert run.report.failures and "1580901" in run.report.failures[0][1]
    assert len(world.emu.requests(IMPORT)) == 1  # one request, no split


# --- every documented code's path, provoked through the real apply -----------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _catalog_add_metric(world: World, text: str) -> None:
    cat = world.root / "catalog.yaml"
    _edit(cat, "\ntemplates:\n", "\n" + text + "templates:\n")  # metrics: ends where the templates begin


def _setup_code(world: World, code: int) -> str:
    """Change the example root (and the tenant) so that Feishu answers `code` for some rows; return the
    reviewee (open_id) whose rows it concerns ('*' for request-wide codes)."""
    root = world.root
    sales = root / "teams" / "sales.yaml"
    if code == 1580105:  # a semester ID the tenant does not know
        _edit(root / "catalog.yaml", 'id: "7293040702907514899"', 'id: "7293040702907514000"')
        return "*"
    if code == 1580309:  # the closed semester marked open again: its deadline has passed
        _edit(root / "catalog.yaml", "closed: true", "closed: false")
        return "*"
    if code == 1580310:  # an old-version metric
        _catalog_add_metric(
            world, '  legacy:\n    id: "7100000000000000001"\n    fields:\n      target: {id: "4", type: number}\n'
        )
        _edit(sales, "  alice:\n", "  alice:\n    legacy: {target: 5}\n")
        return "*"
    if code == 1580301:  # the catalog says text where Feishu's field is a number
        score = "7283776005142675490"  # a number field of nps in the tenant's library
        tenant = world.emu.tenant
        nps = tenant.metrics["7272580325522276401"]
        tenant = dataclasses.replace(
            tenant,
            fields={**tenant.fields, score: FieldDef(score, I18n(zh_cn="评分", en_us="Score"), "number")},
            metrics={
                **tenant.metrics,
                nps.metric_id: dataclasses.replace(nps, fields=(*nps.fields, MetricField(score, "number"))),
            },
        )
        world.emu = Emulator(tenant, clock=world.clock, sleep=world.clock.sleep)
        _edit(
            root / "catalog.yaml",
            '  nps:\n    id: "7272580325522276401"\n    fields:\n',
            f'  nps:\n    id: "7272580325522276401"\n    fields:\n      score: {{id: "{score}", type: text}}\n',
        )
        _edit(sales, "      target: 45\n", "      target: 45\n      score: about 45\n")  # the first nps: alice's
        return "ou_3245842393d09e9428ad4655da6e30b3"
    if code == 1580303:  # longer than Feishu's max_length (20 for revenue.unit)
        _edit(
            root / "catalog.yaml",
            'unit:   {id: "3", type: text, max_length: 20}',
            'unit:   {id: "3", type: text, max_length: 100}',
        )
        _edit(sales, "unit: CNY", "unit: Chinese yuan renminbi (CNY)")
        return "ou_3245842393d09e9428ad4655da6e30b3"
    if code == 1580305:  # a field the metric does not have in Feishu
        _edit(
            root / "catalog.yaml",
            '      target: {id: "4", type: number}\n      actual: {id: "5", type: number}\n'
            '      note:   {id: "7", type: text}\n',
            '      target: {id: "4", type: number}\n'
            '      actual: {id: "5", type: number}\n      note:   {id: "7", type: text}\n'
            '      unit:   {id: "3", type: text}\n',
        )
        _edit(sales, "      target: 45\n", "      target: 45\n      unit: points\n")
        return "ou_3245842393d09e9428ad4655da6e30b3"
    if code == 1580312:  # a metric outside the reviewee's template (alice is in sales)
        _edit(sales, "  alice:\n", "  alice:\n    incidents: {target: 2}\n")
        return "ou_3245842393d09e9428ad4655da6e30b3"
    if code == 1580302:  # under the `replace` switch, a row without its required field
        world.emu = Emulator(
            world.emu.tenant.with_switches(partial_rows="replace"), clock=world.clock, sleep=world.clock.sleep
        )
        eng = root / "teams" / "engineering.yaml"
        _edit(eng, "    incidents:\n      weight: 30\n      target: 3\n", "    incidents:\n      weight: 30\n")
        return "ou_bc51c45dcfc87c6dcbaa5014b32451a7"
    raise AssertionError(code)


REQUEST_WIDE = [1580105, 1580309, 1580310]
ROW_LEVEL = [1580301, 1580302, 1580303, 1580305, 1580312]


@pytest.mark.parametrize("code", REQUEST_WIDE)
def test_request_wide_codes_stop_the_semester_unsplit(world: World, code: int) -> None:
    (world.root / "teams" / "leavers.yaml").unlink()
    support = world.root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace('      calibration: "Self-assessed: exceeded"\n', ""))
    _setup_code(world, code)
    run = world.apply()
    assert run.report.exit_code == 1
    assert any(str(code) in why for _, why in run.report.failures), run.report.failures
    rejected = [e for e in world.imports() if e.code == code]
    assert len(rejected) == 1  # never split


@pytest.mark.parametrize("code", ROW_LEVEL)
def test_row_and_reviewee_level_codes_are_isolated(world: World, code: int) -> None:
    (world.root / "teams" / "leavers.yaml").unlink()
    support = world.root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace('      calibration: "Self-assessed: exceeded"\n', ""))
    who = _setup_code(world, code)
    run = world.apply()
    assert run.report.exit_code == 4, (run.report.failures, [(r.row, r.code) for r in run.report.rejected])
    assert {(r.row.reviewee, r.code) for r in run.report.rejected} == {(who, code)}
    assert world.apply().report.exit_code == 0


def test_1580312_condemns_the_row_whose_metric_feishu_does_not_find_and_lands_the_reviewees_other_rows(
    world: World,
) -> None:
    """1580312 is documented as "the reviewee's metric was not found: check the metric ID": the row's
    problem. alice's incidents row (not in her template) is refused alone; her revenue and nps rows land."""
    (world.root / "teams" / "leavers.yaml").unlink()
    support = world.root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace('      calibration: "Self-assessed: exceeded"\n', ""))
    alice = _setup_code(world, 1580312)
    run = world.apply()
    assert [(r.row.reviewee, r.code) for r in run.report.rejected] == [(alice, 1580312)]
    (bad,) = [r.row for r in run.report.rejected]
    assert "metric ID" in run.report.rejected[0].remedy
    held = {k for k in world.held_values() if k[1] == alice}
    expected = {k for k in world.expected_values() if k[1] == alice and k[2] != bad.metric}
    assert expected and held == expected  # every other row of alice landed


def test_weights_over_100_counting_a_metric_the_yaml_no_longer_holds(world: World) -> None:
    """1580304: alice's nps weight (40%) stays in Feishu after `state rm`; raising revenue to 70% passes 100%."""
    from syncer.load.validate import validate_root
    from syncer.state import open_store

    (world.root / "teams" / "leavers.yaml").unlink()
    support = world.root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace('      calibration: "Self-assessed: exceeded"\n', ""))
    world.apply()
    sales = world.root / "teams" / "sales.yaml"
    text = sales.read_text()
    start = text.index("  alice:\n")
    end = text.index("\n  bob:", start)
    block = text[start:end]
    nps = block[block.index("    nps:\n") :]
    sales.write_text(text[:start] + block.replace(nps, "").replace("weight: 60%", "weight: 70%") + text[end:])
    store = open_store(world.root, validate_root(world.root).settings)
    with store.locked(command="state rm"):
        state = store.load()
        assert state is not None
        keys = [
            k
            for k, _ in state.iter_values()
            if k.reviewee == "ou_3245842393d09e9428ad4655da6e30b3" and k.metric == "7272580325522276401"
        ]
        store.forget(keys, reason="rm")
        store.compact()
    run = world.apply()
    assert {(r.row.reviewee, r.code) for r in run.report.rejected} == {("ou_3245842393d09e9428ad4655da6e30b3", 1580304)}
    assert run.report.exit_code == 4


def test_a_refusal_every_row_shares_stops_early_leaves_the_rest_pending_then_a_settings_fix_sends_it(
    tmp_path: Path,
) -> None:
    """Feishu wants percentages without their % sign: every row with a weight is refused alike (1580301).
    The apply stops the semester after 6 requests (not 2 x rows) and says which setting to change. Only the
    two rows refused on their own are rejected; the batch's 48 other rows and the semester's 10 unsent rows
    are pending (not rejected): the apply exits 4 and the plan still has them as changes.
    Once target.percentage_format is fixed, the next apply sends everything."""
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    emu = Emulator(Emulator().tenant.with_switches(percentage_wire_format="40"), clock=clock, sleep=clock.sleep)
    world = World(root, clock, emu)
    run = world.apply()
    report = run.report
    assert report.exit_code == 4 and report.shared
    assert len(world.imports()) == 6 and all(e.code == 1580301 for e in world.imports())
    (stop,) = report.shared
    assert (stop.code, stop.rows_rejected, stop.rows_pending, stop.rows_unsent, stop.requests) == (
        1580301,
        2,
        48,
        10,
        6,
    )
    assert 'target.percentage_format: "40"' in stop.cause
    assert len(report.new_rejections) == 2 and report.rows_pending == 58
    assert world.held_values() == {}
    plan = world.plan()
    assert plan.counts.rows_quarantined == 2  # only the rows refused alone
    assert plan.counts.rows_to_send == 58  # the pending rows are still changes
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace('percentage_format: "40%"', 'percentage_format: "40"'))
    assert world.plan().counts.rows_quarantined == 0  # what would be sent changed: released by itself
    n = len(world.imports())
    run = world.apply()
    assert run.report.exit_code == 0 and len(world.imports()) == n + 2
    assert world.held_values() == world.expected_values()


def test_a_row_an_older_shared_refusal_holds_back_is_listed_with_that_diagnosis(world: World) -> None:
    """A state written before rows were rejected only on their own may hold a row rejected with a refusal
    its batch shared: the apply that skips it shows the diagnosis (what to change) as its remedy, while a row
    rejected on its own shows its code's remedy."""
    from syncer.feishu.codes import describe
    from syncer.load.validate import validate_root
    from syncer.state import open_store
    from syncer.state.model import SHARED_REFUSAL

    world.apply()
    store = open_store(world.root, validate_root(world.root).settings)
    with store.locked(command="test"):
        state = store.load()
        assert state is not None
        former = next(r for r in state.rejections.values() if r.row.reviewee == FORMER)
        later = "2099-01-01T00:00:00.000Z"  # after every batch: no acceptance since has released it
        store.record_rejected([former._replace(at=later, message=f"{SHARED_REFUSAL}: check the semester")])
        store.compact()
    run = world.apply()
    assert run.report.requests == 0
    by_reviewee = {r.row.reviewee: r for r in run.report.rejected}
    assert by_reviewee[FORMER].remedy == "check the semester" and not by_reviewee[FORMER].new
    assert by_reviewee[PENDING].remedy == describe(1580306).remedy


def test_a_rejection_says_so_as_it_happens_without_an_eta_of_its_own(world: World) -> None:
    """The progress display gets one event per rejected unit: its code and meaning, and no requests left
    counted for it (so no ETA is shown on that line)."""
    from syncer.apply.outcome import Progress

    events: list[Progress] = []
    world.apply(progress=events.append)
    rejected = [e for e in events if e.kind == "rejected"]
    assert len(rejected) == 4
    assert all(e.requests_left == 0 and e.eta_seconds == 0.0 and "rejected with 158" in e.message for e in rejected)
