"""Every read path under every reading of the read answers and every user_id_type.

Where the documentation and the SDKs differ (docs/feishu-api.md, docs/emulator.md "Switches"), the emulator
answers in either reading: `documented` (users `{open_id, user_id}` with `user_id` the ID of the requested
type; semester names keyed `zh-CN`/`en-US`, times as millisecond strings) or `other` (the employee ID in
`user_id` plus a key named after a union_id or people_admin_id request; names keyed `zh_cn`/`en_us`, times
as integers). Each read syncer makes (apply's pre-flight, the read-back that settles a lost answer,
`import`, drift in `plan --refresh`, `catalog pull`) must work under both, with the metrics root naming
people by each of the four user ID types; `catalog pull`, the one reader of semesters, under each
combination of the two semester switches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.apply.preflight import PREFLIGHT_MESSAGE
from syncer.emulator import Emulator, EmulatorTransport, ManualClock, load_tenant
from syncer.feishu.auth import Credentials
from syncer.gitinfo import NO_GIT
from syncer.live.drift import compute_drift, refresh
from syncer.live.importer import ImportOptions, run_import
from syncer.live.pull import fetch_catalog, merge_into_root
from syncer.live.reader import LiveReader
from syncer.load.validate import validate_root
from syncer.model import UserIdType
from syncer.state import open_store, target_identity
from tests.apply.test_run import AnswerLost, Nameless, World
from tests.example import copy_example_as

H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REVENUE = "7272580325522276372"
FORMER = "ou_3075461c0c8eacfece00a926b0ea15f1"  # a user the semester does not list: 1580306
READINGS: dict[str, dict[str, str]] = {
    "documented": {"user_object": "documented", "semester_names": "zh-CN", "semester_times": "string"},
    "other": {"user_object": "typed_key", "semester_names": "zh_cn", "semester_times": "int"},
}
TYPES: list[UserIdType] = ["open_id", "union_id", "user_id", "people_admin_id"]
EVERY = pytest.mark.parametrize("uid", TYPES)
EACH_READING = pytest.mark.parametrize("reading", list(READINGS))
CREDS = Credentials("cli_emulator", "emulator_secret")


def _world(tmp: Path, reading: str, uid: UserIdType, *, name: str = "metrics", data: bool = True) -> World:
    """The example root with its people named by `uid`, against a tenant answering in `reading`."""
    clock = ManualClock()
    tenant = load_tenant().with_switches(**READINGS[reading])
    root = copy_example_as(tmp / name, uid, tenant=tenant, data=data)
    return World(root, clock, Emulator(tenant, clock=clock, sleep=clock.sleep))


def _as(w: World, uid: UserIdType, open_id: str) -> str:
    return w.emu.tenant.users[open_id].id_of(uid)


def _held(w: World, uid: UserIdType) -> dict[tuple[str, str, str, str], str]:
    """What Feishu holds, with reviewees and people named by `uid` as the state names them."""
    users = w.emu.tenant.users
    return {
        (s, users[r].id_of(uid), m, f): users[v].id_of(uid) if v in users else v
        for (s, r, m, f), v in w.held_values().items()
    }


def _reader(w: World) -> LiveReader:
    return LiveReader(
        base_url="http://127.0.0.1",
        credentials=CREDS,
        transport=EmulatorTransport(w.emu),
        clock=w.clock,
        sleep=w.clock.sleep,
    )


@EACH_READING
@EVERY
def test_preflight_holds_back_only_the_reviewee_the_semester_does_not_list(
    tmp_path: Path, reading: str, uid: UserIdType
) -> None:
    w = _world(tmp_path, reading, uid)
    former = _add_former(w, uid)
    run = w.apply(preflight=True)
    assert w.emu.requests("reviewees.query")  # the pre-flight ran
    assert [(r.row.reviewee, r.code, r.message) for r in run.report.held] == [(former, 1580306, PREFLIGHT_MESSAGE)]
    assert run.report.rejected == []  # held back for this run, not rejected: Feishu refused nothing
    assert all(former not in str(e.body) for e in w.imports())  # never sent
    expected = {k: v for k, v in w.expected_values().items() if k[1] != former}
    assert _held(w, uid) == expected


def _add_former(w: World, uid: UserIdType) -> str:
    former = _as(w, uid, FORMER)
    cat = w.root / "catalog.yaml"
    cat.write_text(cat.read_text() + f'  former.employee: "{former}"\n')
    (w.root / "teams" / "former.yaml").write_text(
        "semester: 2026-H2\nreviewees:\n  former.employee:\n    revenue: {weight: 10%, target: 100}\n"
    )
    return former


def test_preflight_holds_nobody_back_when_the_answers_name_no_reviewee_by_the_type(tmp_path: Path) -> None:
    """Answers that name users by open_id alone cannot say who is missing: the import itself judges."""
    w = _world(tmp_path, "documented", "union_id")
    w.answers_wrapper = Nameless
    former = _add_former(w, "union_id")
    run = w.apply(preflight=True)
    assert [(r.row.reviewee, r.code) for r in run.report.rejected] == [(former, 1580306)]
    assert run.report.rejected[0].message != PREFLIGHT_MESSAGE  # Feishu's refusal of the import, not the pre-flight
    assert _held(w, "union_id") == {k: v for k, v in w.expected_values().items() if k[1] != former}


@EACH_READING
@EVERY
def test_a_lost_acceptance_is_settled_by_reading_the_rows_back(tmp_path: Path, reading: str, uid: UserIdType) -> None:
    w = _world(tmp_path, reading, uid)
    w.transport_wrapper = lambda t: AnswerLost(t, code=0, exc=httpx.ReadTimeout("answer lost"))
    run = w.apply()
    assert w.emu.requests("metric_details.query")  # the read-back ran
    assert not any("not confirmed" in n for n in run.report.notes), run.report.notes
    rows = [(row.reviewee_user_id, row.metric_id) for r in w.emu.import_records() for row in r.rows]
    assert len(rows) == len(set(rows))  # confirmed by reading: nothing sent twice
    assert _held(w, uid) == w.expected_values()
    assert w.apply().report.requests == 0


def _seeded(tmp: Path, reading: str, uid: UserIdType) -> tuple[World, World]:
    """(the team's root, applied to Feishu; a second root with the same catalog and no data files)."""
    seed = _world(tmp, reading, uid, name="seed")
    assert seed.apply().report.exit_code == 0
    fresh = _world(tmp, reading, uid, name="fresh", data=False)
    fresh.emu, fresh.clock = seed.emu, seed.clock
    return seed, fresh


@EACH_READING
@EVERY
def test_import_reads_every_reviewee_and_value_back_into_files(tmp_path: Path, reading: str, uid: UserIdType) -> None:
    _, w = _seeded(tmp_path, reading, uid)
    result = validate_root(w.root, root_display="m")
    target = target_identity(result.settings, base_url="http://127.0.0.1", app_id="cli_emulator")
    report = run_import(
        root=w.root,
        root_display="m",
        result=result,
        reader=_reader(w),
        store=open_store(w.root, result.settings),
        target=target,
        options=ImportOptions(semester="2026-H2", all_reviewees=True),
        git=NO_GIT,
    )
    assert (report.reviewees_written, report.rows_written, report.values_written) == (30, 60, 215)
    assert w.plan().empty


@EACH_READING
@EVERY
def test_drift_names_the_value_changed_in_feishu(tmp_path: Path, reading: str, uid: UserIdType) -> None:
    w, _ = _seeded(tmp_path, reading, uid)
    with w.client() as client:  # someone changes alice's revenue target in Feishu
        client.import_metric_details(
            semester_id=H2,
            import_record_name="by hand",
            imported_metrics=[
                {"reviewee_user_id": ALICE, "metric_id": REVENUE, "fields": [{"field_id": "4", "field_value": "7"}]}
            ],
            client_token="by-hand",
            user_id_type="open_id",
        )
    result = validate_root(w.root)
    assert result.desired is not None
    state = open_store(w.root, result.settings).load()
    plan = w.plan()
    remote, _ = refresh(_reader(w), plan, state, result.desired, scope="all", budget=20, user_id_type=uid)
    drift = compute_drift(plan=plan, state=state, desired=result.desired, remote=remote, user_id_type=uid)
    changed: list[Any] = [(e.kind, e.key.reviewee, e.key.metric, e.key.field, e.live) for e in drift.entries]
    assert changed == [("changed", _as(w, uid, ALICE), REVENUE, "4", "7")]


@pytest.mark.parametrize("times", ["string", "int"])
@pytest.mark.parametrize("names", ["zh-CN", "zh_cn"])
@EVERY
def test_catalog_pull_names_semesters_by_their_english_names_and_closes_ended_ones(
    tmp_path: Path, names: str, times: str, uid: UserIdType
) -> None:
    w = _world(tmp_path, "documented", uid, data=False)
    w.emu = Emulator(w.emu.tenant.with_switches(semester_names=names, semester_times=times), clock=w.clock)
    (w.root / "catalog.yaml").unlink()
    settings = validate_root(w.root).settings
    pulled = fetch_catalog(_reader(w), user_id_type=uid)
    assert {s.name.get("en_us") for s in pulled.semesters} == {"2026 H1", "2026 H2"}
    merged = merge_into_root(w.root, "m", settings, pulled, now_ms=int(w.clock() * 1000))
    assert not merged.new_problems
    assert "  2026-H2:" in merged.new_text and "  2026-H1:" in merged.new_text
    assert merged.new_text.count("closed: true") == 1  # H1 ended before the clock's 2026-09-21
