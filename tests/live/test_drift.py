"""Drift (`syncer plan --refresh`): values changed in Feishu behind syncer's back, values entered outside
syncer that a plan would overwrite, admin-owned fields, rows Feishu does not list; the request budget; and the
CLI's sections and exit codes, against the emulator."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from syncer.apply.run import Clocks, run_apply
from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorTransport, ManualClock, load_tenant
from syncer.feishu.auth import Credentials
from syncer.feishu.write import WriteClient
from syncer.gitinfo import NO_GIT
from syncer.live.drift import Drift, choose, compute_drift, fetch_remote, refresh, refresh_targets
from syncer.live.reader import LiveReader
from syncer.load.validate import validate_root
from syncer.plan.diff import make_plan
from syncer.plan.model import LiveView, Plan, PlanOptions, Targeting
from syncer.report.drift import catalog_names, drift_document, render_github, render_markdown, render_text
from syncer.state import open_store, target_identity
from tests.emulated import emulator_client, import_by_hand, served_example
from tests.example import copy_example
from tests.paths import SCHEMAS

CREDS = Credentials("cli_emulator", "emulator_secret")
H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TANG = "ou_89da0ccdfdb1fd18361d2bc3312226b1"
DEV = "ou_bc51c45dcfc87c6dcbaa5014b32451a7"
OUTSIDE = "ou_78120b254976fdd6d756c249c1ecaf8a"
REVENUE = "7272580325522276372"
CSAT = "7272580325522276404"


@dataclass
class World:
    root: Path
    clock: ManualClock
    emu: Emulator

    def client(self) -> WriteClient:
        return emulator_client(self.emu, self.clock)

    def behind_the_back(self, reviewee: str, metric: str, fields: dict[str, str], token: str = "by-hand") -> None:
        items: Any = [
            {
                "reviewee_user_id": reviewee,
                "metric_id": metric,
                "fields": [{"field_id": f, "field_value": v} for f, v in fields.items()],
            }
        ]
        with self.client() as c:
            c.import_metric_details(
                semester_id=H2,
                import_record_name="by hand in Feishu",
                imported_metrics=items,
                client_token=token,
                user_id_type="open_id",
            )

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    def drift(
        self, *, scope: str = "plan", budget: int = 20, targets: Any = None, targeting: Targeting | None = None
    ) -> tuple[Plan, Drift]:
        result = validate_root(self.root, root_display="m")
        assert result.ok and result.desired is not None, result.problems
        store = open_store(self.root, result.settings)
        state = store.load()
        target = target_identity(result.settings, base_url="http://127.0.0.1", app_id="cli_emulator")
        plan = make_plan(
            result.desired,
            state,
            PlanOptions(
                safety=result.settings.safety,
                git=NO_GIT,
                target=target,
                state_location=store.location,
                force=True,
                root="m",
                targeting=targeting,
            ),
        )
        with LiveReader(
            base_url="http://127.0.0.1",
            credentials=CREDS,
            transport=EmulatorTransport(self.emu),
            clock=self.clock,
            sleep=self.clock.sleep,
        ) as reader:
            wanted = targets if targets is not None else refresh_targets(plan, state, result.desired, scope=scope)  # type: ignore[arg-type]
            remote = fetch_remote(reader, wanted, budget=budget, user_id_type="open_id", scope=scope)  # type: ignore[arg-type]
        return plan, compute_drift(
            plan=plan, state=state, desired=result.desired, remote=remote, user_id_type="open_id"
        )


def _world(tmp: Path, *, shape: str = "object", wire: str = "both", fmt: str = "40%") -> World:
    """The example root applied to the emulator: state and Feishu agree."""
    clock = ManualClock()
    tenant = load_tenant().with_switches(metric_details_shape=shape, percentage_wire_format=wire)
    emu = Emulator(tenant, clock=clock, sleep=clock.sleep)
    root = tmp / "m"
    copy_example(root)
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace('percentage_format: "40%"', f'percentage_format: "{fmt}"'))
    w = World(root, clock, emu)
    result = validate_root(root)
    assert result.desired is not None
    with w.client() as client:
        run = run_apply(
            store=open_store(root, result.settings),
            client=client,
            settings=result.settings,
            desired=result.desired,
            git=NO_GIT,
            root="m",
            commit_is_ancestor=lambda a, b: True,
            confirm=lambda p: True,
            clocks=Clocks(timer=clock, sleep=clock.sleep),
        )
    assert run.report.exit_code == 0
    return w


@pytest.fixture
def world(tmp_path: Path) -> World:
    return _world(tmp_path)


@pytest.mark.parametrize(
    ("shape", "wire", "fmt"),
    [("object", "both", "40%"), ("list", "both", "40%"), ("object", "40", "40"), ("list", "40%", "40%")],
)
def test_no_drift_then_a_value_changed_behind_syncers_back(tmp_path: Path, shape: str, wire: str, fmt: str) -> None:
    w = _world(tmp_path, shape=shape, wire=wire, fmt=fmt)
    _, drift = w.drift(scope="all")
    assert drift.entries == () and not drift.detected and drift.complete
    assert drift.reviewees_checked == 30 and drift.requests == 1  # 30 reviewees: one request
    w.behind_the_back(BOB, REVENUE, {"5": "1500000", "2": "60" if wire == "40" else "60%"})
    _, drift = w.drift(scope="all")
    assert [(e.kind, e.key.reviewee, e.key.field, e.applied, e.live, e.desired) for e in drift.entries] == [
        ("changed", BOB, "5", "1499000", "1500000", "1499000")
    ]  # the weight, 60 or 60%, is the same value
    assert drift.detected
    assert drift.entries[0].source is not None and drift.entries[0].source.file == "m/teams/sales.yaml"


def test_by_default_only_the_rows_the_plan_touches_are_read(world: World) -> None:
    world.behind_the_back(BOB, REVENUE, {"5": "1500000"})
    plan, drift = world.drift()
    assert plan.empty and drift.reviewees_in_scope == 0 and drift.requests == 0 and not drift.detected
    world.edit("teams/sales.yaml", "target: 1200000\n      actual: 1499000", "target: 1300000\n      actual: 1499000")
    plan, drift = world.drift()
    assert [c.key.reviewee for c in plan.changes] == [BOB]
    assert drift.reviewees_checked == 1 and [e.key.field for e in drift.entries] == ["5"]


def test_refresh_all_of_a_targeted_plan_reads_only_its_target(world: World) -> None:
    world.behind_the_back(BOB, REVENUE, {"5": "1500000"})  # bob is in teams/sales.yaml
    _, drift = world.drift(scope="all", targeting=Targeting.of(paths=["teams/support.yaml"]))
    assert 0 < drift.reviewees_checked < 30 and not drift.detected
    _, drift = world.drift(scope="all", targeting=Targeting.of(paths=["teams/sales.yaml"]))
    assert [(e.kind, e.key.reviewee) for e in drift.entries] == [("changed", BOB)]


def test_values_entered_outside_syncer_admin_fields_and_rows_feishu_does_not_list(world: World) -> None:
    world.behind_the_back(ALICE, REVENUE, {"7": "typed in Feishu"})
    world.edit(
        "teams/sales.yaml",
        "      unit: CNY\n      target: 1000000\n",
        "      unit: CNY\n      target: 1000000\n      note: from git\n",
    )
    world.edit("teams/support.yaml", "  tang.rui:\n    csat:\n", "  tang.rui:\n    csat:\n      calibration: mine\n")
    world.edit("teams/engineering.yaml", "  dev.patel:\n", "  dev.patel:\n    revenue:\n      target: 1\n")
    _, drift = world.drift()
    got = [(e.kind, e.key.reviewee, e.key.field, e.live, e.desired) for e in drift.entries]
    assert ("unmanaged", ALICE, "7", "typed in Feishu", "from git") in got
    assert ("admin", TANG, "7283776005142675480", "Calibrated by HR in the October review", "mine") in got
    assert [(r.reviewee, r.metric) for r, _ in drift.absent] == [(DEV, REVENUE)]
    assert drift.detected  # the unmanaged value; admin fields and absent rows alone are warnings
    text = render_text(drift, catalog_names(validate_root(world.root).catalog), redact=False)
    assert 'alice / revenue.note: Feishu holds "typed in Feishu"; the plan would write "from git"' in text
    assert "1580311" in text and "dev.patel / revenue" in text


def test_admin_fields_and_absent_rows_alone_are_no_drift(world: World) -> None:
    world.edit("teams/support.yaml", "  tang.rui:\n    csat:\n", "  tang.rui:\n    csat:\n      calibration: mine\n")
    _, drift = world.drift()
    assert [e.kind for e in drift.entries] == ["admin"] and not drift.detected


def test_the_budget_limits_the_requests_and_says_what_was_left() -> None:
    targets = {H2: {f"ou_{i:032x}" for i in range(120)}, "1": {"ou_" + "f" * 32}}
    chosen, used = choose(targets, 2)  # semesters in order, then reviewees in order, 50 a request
    assert used == 2 and chosen["1"] == ["ou_" + "f" * 32] and chosen[H2] == sorted(targets[H2])[:50]
    assert choose(targets, 10)[1] == 4


def test_fetch_within_budget_and_refused_chunks(world: World) -> None:
    fake = [f"ou_{i:032x}" for i in range(1, 31)]
    revs = {r for (_, r, _) in open_store(world.root, validate_root(world.root).settings).load().rows}  # type: ignore[union-attr]
    _, drift = world.drift(targets={H2: set(fake) | revs}, budget=1, scope="all")
    assert drift.reviewees_checked == 50 and drift.reviewees_in_scope == 60 and not drift.complete
    assert any("raise --refresh-budget" in n for n in drift.notes)
    _, drift = world.drift(targets={H2: {OUTSIDE}}, scope="all")
    assert drift.reviewees_checked == 0 and any("1580112" in n for n in drift.notes)


def test_renderers_redact_and_the_json_says_drift_exits_2(world: World) -> None:
    world.behind_the_back(BOB, REVENUE, {"5": "1500000"})
    _, drift = world.drift(scope="all")
    names = catalog_names(validate_root(world.root).catalog)
    for out in (
        render_text(drift, names, redact=True),
        render_markdown(drift, names, redact=True),
        str(render_github(drift, names, redact=True)),
    ):
        assert "1500000" not in out and "1499000" not in out and "bob" in out
    github = str(render_github(drift, names, redact=False))
    assert github.startswith("::warning file=m/teams/sales.yaml,line=") and "1500000" in github
    doc = drift_document(drift, redact=True, detailed_exitcode=True)
    assert doc["detected"] is True and doc["exit_code"] == 2 and doc["counts"]["changed"] == 1
    assert doc["values"][0]["live"] is None and doc["values"][0]["reviewee"] == BOB
    assert "exit_code" not in drift_document(drift, redact=False, detailed_exitcode=False)


# --- the CLI, against the emulator on loopback -----------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    with served_example(tmp_path, monkeypatch) as s:
        yield s.root, s.url


def test_cli_plan_refresh_shows_drift_and_exits_2(served: tuple[Path, str]) -> None:
    _, url = served
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", "--auto-approve"]).exit_code == 0
    result = runner.invoke(cli, ["plan", "--refresh-all", "--detailed-exitcode"])
    assert result.exit_code == 0, result.output
    assert "Feishu holds what syncer applied" in result.output
    import_by_hand(url)
    result = runner.invoke(cli, ["plan", "--detailed-exitcode"])
    assert result.exit_code == 0  # without --refresh a plan never reads Feishu
    result = runner.invoke(cli, ["plan", "--refresh-all", "--detailed-exitcode"])
    assert result.exit_code == 2, result.output
    # The drifted value is the plan's own action: a repair (Feishu's value -> the YAML's), and the drift section
    # explains it.
    assert "(0 to create, 0 to update, 1 to repair, 0 to forget)" in result.output
    assert 'revenue.actual: "1500000" in Feishu -> "1499000" (repair' in result.output
    assert "Drift: 1 value changed in Feishu outside syncer" in result.output
    assert '"1499000" -> "1500000" in Feishu' in result.output
    result = runner.invoke(cli, ["plan", "--refresh-all", "--detailed-exitcode", "--format", "json", "--redact-values"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert [v[0] for row in doc["changes"] for v in row["values"]] == ["repair"]
    assert doc["counts"]["values_to_repair"] == 1
    assert doc["drift"]["detected"] is True and doc["drift"]["exit_code"] == 2
    assert "1500000" not in result.stdout
    schema = json.loads((SCHEMAS / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)  # the drift section is part of the plan's schema
    result = runner.invoke(cli, ["plan", "--refresh-all", "--format", "markdown"])
    assert (
        result.exit_code == 0 and "### Drift" in result.stdout and "| bob | revenue.actual | changed |" in result.stdout
    )


def test_cli_plan_refresh_needs_credentials(served: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEISHU_APP_SECRET")
    result = CliRunner().invoke(cli, ["plan", "--refresh-all"])
    assert result.exit_code == 1 and "FEISHU_APP_SECRET" in result.output and "Traceback" not in result.output


def test_cli_apply_refresh_repairs_drift_so_feishu_ends_equal_to_the_yaml(served: tuple[Path, str]) -> None:
    root, url = served
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", "--auto-approve"]).exit_code == 0
    import_by_hand(url)  # bob's revenue actual: 1500000 in Feishu, 1499000 in the YAML and the state
    result = runner.invoke(cli, ["apply", "--auto-approve"])
    assert result.exit_code == 0 and "Feishu was not read" in result.output  # a plain apply cannot see it
    report = root.parent / "report.json"
    result = runner.invoke(cli, ["apply", "--auto-approve", "--refresh-all", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "1 value change (1 repair) in 1 row" in result.output
    doc = json.loads(report.read_text())
    assert doc["exit_code"] == 0 and doc["plan"]["counts"]["values_to_repair"] == 1 and len(doc["batches"]) == 1
    assert doc["batches"][0]["import_record_id"] and "1499000" not in report.read_text()  # no values
    result = runner.invoke(cli, ["plan", "--refresh-all", "--detailed-exitcode"])
    assert result.exit_code == 0, result.output
    assert "No changes: Feishu holds what the YAML says" in result.output


def test_repairs_count_against_the_update_threshold(world: World) -> None:
    for rev in (ALICE, BOB):
        world.behind_the_back(rev, REVENUE, {"5": "1"}, token=f"by-hand-{rev[-4:]}")
    result = validate_root(world.root)
    assert result.desired is not None
    state = open_store(world.root, result.settings).load()
    target = target_identity(result.settings, base_url="http://127.0.0.1", app_id="cli_emulator")
    safety = dataclasses.replace(result.settings.safety, max_update_ratio=0.0, min_existing=1)

    def plan_with(live: LiveView | None) -> Plan:
        return make_plan(
            result.desired,  # type: ignore[arg-type]
            state,
            PlanOptions(safety=safety, git=NO_GIT, target=target, state_location="s", live=live),
        )

    first = plan_with(None)
    assert first.empty and not first.breaches
    transport = EmulatorTransport(world.emu)
    clock = world.clock
    with LiveReader(
        base_url="http://127.0.0.1", credentials=CREDS, transport=transport, clock=clock, sleep=clock.sleep
    ) as reader:
        _, live = refresh(reader, first, state, result.desired, scope="all", budget=20, user_id_type="open_id")
    repaired = plan_with(live)
    assert repaired.counts.values_to_repair == 2 and [b.kind for b in repaired.breaches] == ["update"]
    assert repaired.refused and repaired.checksum != first.checksum
