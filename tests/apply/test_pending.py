"""A row is recorded as rejected only when Feishu refused it on its own, against the emulator.

Bad rows placed where the shared-refusal probe looks make a batch look refused alike: the apply stops the
semester, but only the rows refused alone are rejected; every other row stays pending (not applied, not in
the state's rejections, still a change for the plan) and the next apply sends or isolates it.

The world: a generated root of one metric (revenue: weight, target, actual, note) per reviewee in 2026-H2,
and a tenant that enrols the good reviewees. A bad row is one of: a reviewee the semester does not list
(1580306), a reviewee outside the app's data scope (1580112), a note longer than the tenant's 500
characters (1580303, row-level). Time is a ManualClock: pacing at the real 10 requests a minute is free.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.emulator import Emulator, ManualClock, default_tenant_path, parse_tenant
from syncer.load.validate import validate_root
from syncer.model import RowKey
from syncer.state import open_store
from tests.apply.test_run import H2, World
from tests.bench.generate import generate_root, open_id

TEMPLATE = "7300000000000000001"  # the template with revenue
CODES = {"left": 1580306, "scope": 1580112, "long": 1580303}


def reviewees(n: int) -> list[str]:
    """The generated reviewees in the order their rows are batched (by ID)."""
    return sorted(open_id(k) for k in range(n))


def make_world(tmp: Path, bad: dict[int, str], n: int) -> World:
    """`n` reviewees, one row each; `bad` maps a row's position in the batches to how it is bad."""
    ids = reviewees(n)
    root = tmp / "metrics"
    generate_root(root, reviewees=n, metrics=1, fields=4, files=1)
    cat = root / "catalog.yaml"
    cat.write_text(cat.read_text().replace("  bench:", "  2026-H2:"))
    data = root / "data" / "team-000.yaml"
    text = data.read_text().replace("semester: bench", "semester: 2026-H2")
    for i, kind in bad.items():
        if kind == "long":  # the row's note: longer than the tenant's max_length (500)
            head = f"  {ids[i]}:\n"
            at = text.index(head)
            note = text.index("      note: ", at)
            end = text.index("\n", note)
            text = text[:note] + f'      note: "{"x" * 501}"' + text[end:]
    data.write_text(text)
    tenant: dict[str, Any] = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    tenant["users"] += [
        {
            "open_id": oid,
            "union_id": "on_" + oid[3:],
            "user_id": f"b{i}",
            "people_admin_id": str(7_500_000_000_000_000_000 + i),
            "name": f"bench{i}",
        }
        for i, oid in enumerate([*ids, open_id(-1)])
    ]
    sem = next(s for s in tenant["semesters"] if s["id"] == H2)
    sem["reviewees"] += [
        {"reviewee_user_id": oid, "metric_template_id": TEMPLATE} for i, oid in enumerate(ids) if bad.get(i) != "left"
    ]
    tenant["app"]["data_scope"]["exclude"] += [ids[i] for i, kind in bad.items() if kind == "scope"]
    clock = ManualClock()
    return World(root, clock, Emulator(parse_tenant(tenant), clock=clock, sleep=clock.sleep))


def rejections(world: World) -> dict[RowKey, int]:
    result = validate_root(world.root)
    state = open_store(world.root, result.settings).load()
    assert state is not None
    return {row: r.code for row, r in state.rejections.items()}


def row(i: int, n: int) -> RowKey:
    return RowKey(H2, reviewees(n)[i], "7272580325522276372")


def landed(world: World) -> set[str]:
    return {k[1] for k in world.held_values()}


def test_the_issue_three_unknown_reviewees_where_the_probe_looks_take_no_good_row_with_them(tmp_path: Path) -> None:
    """25 rows, unknown reviewees (1580306) as the 1st, 6th and 20th: the batch looks refused alike. The first
    apply stops (exit 4) with only the 1st and 20th rejected (each refused alone), the 22 good rows and the
    6th pending: not in the state's rejections, still changes for the plan. The second apply lands the 22 and
    isolates the 6th (exit 4); the third has nothing to do (exit 0)."""
    world = make_world(tmp_path, {0: "left", 5: "left", 19: "left"}, 25)
    first = world.apply()
    assert first.report.exit_code == 4 and first.report.shared
    (stop,) = first.report.shared
    assert (stop.code, stop.rows_rejected, stop.rows_pending, stop.requests) == (1580306, 2, 23, 6)
    assert rejections(world) == {row(0, 25): 1580306, row(19, 25): 1580306}
    assert landed(world) == set()
    plan = world.plan()
    assert plan.counts.rows_to_send == 23 and plan.counts.rows_quarantined == 2  # detailed-exitcode: 2

    second = world.apply()
    assert second.report.exit_code == 4 and not second.report.shared
    assert rejections(world) == {row(0, 25): 1580306, row(5, 25): 1580306, row(19, 25): 1580306}
    assert landed(world) == set(reviewees(25)) - {reviewees(25)[i] for i in (0, 5, 19)}

    third = world.apply()
    assert third.report.exit_code == 0 and third.report.requests == 0


def test_out_of_scope_reviewees_where_the_probe_looks_are_held_alone_too(tmp_path: Path) -> None:
    """The same with 1580112: reviewees outside the app's data scope."""
    world = make_world(tmp_path, {0: "scope", 5: "scope", 19: "scope"}, 25)
    assert world.apply().report.shared
    assert rejections(world) == {row(0, 25): 1580112, row(19, 25): 1580112}
    again = world.apply().report
    assert again.exit_code == 4 and not again.shared
    assert set(rejections(world)) == {row(0, 25), row(5, 25), row(19, 25)}
    assert landed(world) == set(reviewees(25)) - {reviewees(25)[i] for i in (0, 5, 19)}


def probed(n: int, pick: int) -> set[int]:
    """Positions that make the first batch (its first min(n, 50) rows) look refused alike: its first row, a
    row of the rest of its first half (chosen by `pick`), and the middle row of its second half."""
    m = min(n, 50)
    left = -(-m // 2)
    return {0, 1 + pick % (left - 1), left + (m - left) // 2} if left > 1 else {0}


def request_bound(rows: int, bad: int) -> int:
    """The documented cost of one apply (syncer.apply.isolate): ceil(rows / 50) requests, plus for each batch
    at most 1 + 2 x ceil(log2 50) per bad unit in it (the shared-refusal probe and the split), a bound the
    sum over batches stays under when every bad unit is counted once."""
    batches = -(-rows // 50)
    return batches + batches + bad * 2 * math.ceil(math.log2(50))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(3, 75),
    data=st.data(),
)
def test_property_good_rows_land_bad_rows_are_held_with_their_own_code(
    tmp_path_factory: pytest.TempPathFactory, n: int, data: st.DataObject
) -> None:
    """Any set of bad rows, at any positions, of mixed codes: within N = 1 + floor((b - 1) / 2) applies
    (b bad rows; a stop on a refusal that looks shared needs three bad rows and rejects two of them) every
    good row is in Feishu, every bad row is in the state's rejections with its own code, no good row is ever
    there, each apply keeps to the documented request bound, and one more apply has nothing to send."""
    positions = data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n), label="bad positions")
    if data.draw(st.booleans(), label="also where the probe looks"):
        positions |= probed(n, data.draw(st.integers(1, 10**6)))
    kinds = sorted(CODES)
    if data.draw(st.booleans(), label="one code for all"):
        kinds = [data.draw(st.sampled_from(kinds))]
    bad = {i: data.draw(st.sampled_from(kinds), label=f"kind of {i}") for i in sorted(positions)}
    world = make_world(tmp_path_factory.mktemp("w"), bad, n)
    good = {rv for i, rv in enumerate(reviewees(n)) if i not in bad}
    limit = 1 + (len(bad) - 1) // 2
    for _ in range(limit):
        run = world.apply()
        held = rejections(world)
        assert all(r.reviewee not in good for r in held), "a good row was recorded as rejected"
        assert all(code == CODES[bad[i]] for i in bad if (r := row(i, n)) in held for code in [held[r]])
        sent = run.plan.counts.rows_to_send
        quarantined = {q.row for q in run.plan.quarantined}
        assert run.report.requests <= request_bound(sent, sum(1 for i in bad if row(i, n) not in quarantined))
        if not run.report.shared:
            break
    assert run.report.exit_code in (0, 4) and not run.report.shared, f"still work left after {limit} applies"
    assert landed(world) == good
    assert rejections(world) == {row(i, n): CODES[kind] for i, kind in bad.items()}
    last = world.apply()
    assert last.report.exit_code == 0 and last.report.requests == 0
