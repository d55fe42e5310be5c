"""`syncer import` against the emulator (in process, ManualClock): values Feishu holds become data files and
state, and the first plan after it is empty, whatever shape metric_details/query answers in and whatever
percentage wire format the tenant uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.apply.run import Clocks, run_apply
from syncer.edit.scalars import key, scalar
from syncer.emulator import Emulator, EmulatorTransport, ManualClock, load_tenant
from syncer.errors import LoadError, RefusedError, StateError, SyncerError
from syncer.feishu.auth import Credentials
from syncer.feishu.write import WriteClient
from syncer.gitinfo import NO_GIT
from syncer.live.importer import ImportConflict, ImportOptions, ImportReport, run_import
from syncer.live.reader import LiveReader
from syncer.load.files import NOT_DATA
from syncer.load.validate import validate_root
from syncer.load.yamlparse import parse
from syncer.model import Identity
from syncer.plan.diff import make_plan
from syncer.plan.model import Plan, PlanOptions
from syncer.state import open_store, target_identity
from tests.emulated import emulator_client
from tests.example import copy_example

CREDS = Credentials("cli_emulator", "emulator_secret")
H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REVENUE = "7272580325522276372"
SALES = [
    "ou_3245842393d09e9428ad4655da6e30b3",
    "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "ou_f13e7d77076ad5946e756c1f5a2f285c",
    "ou_97f06d24fb8478ba33a349d3b65a0860",
    "ou_56be438dfda3a92c532736e3df830fea",
    "ou_cd8ae23c163f3fb8cf04a60789ce6ddf",
    "ou_837220ddc0c0596c395b3b25dae8b2c7",
    "ou_26926121682bd5db60606d2e6276395d",
    "ou_0c43a7a5c19904f90e61f19527393e74",
    "ou_4e0bca4d202eedc00e6f1c2390f3c29a",
]


@dataclass
class World:
    tmp: Path
    clock: ManualClock
    emu: Emulator
    root: Path  # the adopting team's root: the example catalog and settings, no data files yet

    def reader(self, events: list[Any] | None = None) -> LiveReader:
        return LiveReader(
            base_url="http://127.0.0.1",
            credentials=CREDS,
            transport=EmulatorTransport(self.emu),
            clock=self.clock,
            sleep=self.clock.sleep,
            progress=events.append if events is not None else None,
        )

    def writer(self) -> WriteClient:
        return emulator_client(self.emu, self.clock)

    def target(self) -> Identity:
        result = validate_root(self.root)
        return target_identity(result.settings, base_url="http://127.0.0.1", app_id="cli_emulator")

    def import_(self, **kw: Any) -> ImportReport:
        kw.setdefault("semester", "2026-H2")
        if "reviewees" not in kw:
            kw.setdefault("all_reviewees", True)
        result = validate_root(self.root, root_display="m")
        assert result.ok, result.problems
        return run_import(
            root=self.root,
            root_display="m",
            result=result,
            reader=self.reader(),
            store=open_store(self.root, result.settings),
            target=self.target(),
            options=ImportOptions(**kw),
            git=NO_GIT,
        )

    def plan(self) -> Plan:
        result = validate_root(self.root, root_display="m")
        assert result.ok and result.desired is not None, result.problems
        store = open_store(self.root, result.settings)
        return make_plan(
            result.desired,
            store.load(),
            PlanOptions(safety=result.settings.safety, git=NO_GIT, target=self.target(), state_location=store.location),
        )

    def raw_import(self, *rows: tuple[str, str, dict[str, str]], token: str = "raw-1") -> None:
        """Values entered in Feishu outside syncer."""
        items: Any = [
            {
                "reviewee_user_id": r,
                "metric_id": m,
                "fields": [{"field_id": f, "field_value": v} for f, v in fields.items()],
            }
            for r, m, fields in rows
        ]
        with self.writer() as client:
            client.import_metric_details(
                semester_id=H2,
                import_record_name="by hand",
                imported_metrics=items,
                client_token=token,
                user_id_type="open_id",
            )


def _copy_example(dest: Path, *, data: bool, percentage_format: str = "40%") -> Path:
    copy_example(dest)
    if not data:
        for path in dest.rglob("*.yaml"):
            if path.name not in NOT_DATA:
                path.unlink()
    settings_file = dest / "syncer.yaml"
    settings_file.write_text(
        settings_file.read_text().replace('percentage_format: "40%"', f'percentage_format: "{percentage_format}"')
    )
    return dest


def make_world(
    tmp: Path, *, shape: str = "object", wire: str = "both", percentage_format: str = "40%", seed: bool = True
) -> World:
    clock = ManualClock()
    tenant = load_tenant().with_switches(metric_details_shape=shape, percentage_wire_format=wire)
    emu = Emulator(tenant, clock=clock, sleep=clock.sleep)
    world = World(tmp, clock, emu, _copy_example(tmp / "m", data=False, percentage_format=percentage_format))
    if seed:  # the team's values, already in Feishu: the example root applied with a throwaway state
        seed_root = _copy_example(tmp / "seed", data=True, percentage_format=percentage_format)
        result = validate_root(seed_root)
        assert result.desired is not None
        with world.writer() as client:
            run = run_apply(
                store=open_store(seed_root, result.settings, override=tmp / "seed-state"),
                client=client,
                settings=result.settings,
                desired=result.desired,
                git=NO_GIT,
                root="seed",
                commit_is_ancestor=lambda a, b: True,
                confirm=lambda p: True,
                clocks=Clocks(timer=clock, sleep=clock.sleep),
            )
        assert run.report.exit_code == 0 and run.report.values_applied == 215
    return world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@pytest.mark.parametrize(
    ("shape", "wire", "fmt"),
    [("object", "both", "40%"), ("list", "both", "40%"), ("object", "40%", "40%"), ("list", "40", "40")],
)
def test_import_then_plan_is_empty(tmp_path: Path, shape: str, wire: str, fmt: str) -> None:
    w = make_world(tmp_path, shape=shape, wire=wire, percentage_format=fmt)
    report = w.import_()
    assert report.rows_written == 60 and report.values_written == 215 and report.reviewees_written == 30
    # the example catalog knows every value the example wrote; HR's calibration notes are admin-owned
    assert report.skipped == (("values of csat.calibration, which admins enter in Feishu (input_setting: admin)", 2),)
    assert report.batch is not None and report.batch.import_record_id == "import"
    assert report.batch.client_token.startswith("import-")
    assert report.requests == 2  # reviewees/query (one page) and metric_details/query (30 reviewees)
    plan = w.plan()
    assert plan.empty, plan.changes[:5]
    assert plan.counts.values_managed == 215
    text = (w.root / "imported" / "2026-H2-001.yaml").read_text()
    assert "semester: 2026-H2\n" in text and "      weight: 60%\n" in text and "owner: grace.lead" in text


def test_percentages_on_the_wire_without_percent_read_back_the_same(tmp_path: Path) -> None:
    w = make_world(tmp_path, wire="40", percentage_format="40")
    assert w.emu.value(H2, ALICE, REVENUE, "2").field_value == "60"  # type: ignore[union-attr]
    w.import_()
    assert "weight: 60%" in (w.root / "imported" / "2026-H2-001.yaml").read_text()
    assert w.plan().empty


def test_files_are_split_ordered_and_never_overwrite(world: World) -> None:
    existing = world.root / "imported" / "2026-H2-001.yaml"
    existing.parent.mkdir()
    existing.write_text("semester: 2026-H1\nreviewees:\n  bob:\n    revenue:\n      weight: 50%\n")
    report = world.import_(per_file=7)
    assert report.files == tuple(f"m/imported/2026-H2-{n:03d}.yaml" for n in range(2, 7))
    assert existing.read_text().startswith("semester: 2026-H1")
    first = (world.root / "imported" / "2026-H2-002.yaml").read_text()
    keys = [
        line.strip().rstrip(":") for line in first.splitlines() if line.startswith("  ") and not line.startswith("   ")
    ]
    assert keys[:2] == ["alice", "ana.souza"] and keys == sorted(keys)
    assert "reviewees 1-7 of 30" in first
    assert world.plan().empty


def test_texts_read_back_exactly(world: World) -> None:
    texts = [
        "yes",
        "~",
        "null",
        " leading space",
        "a: b # not a comment",
        "line one\nline two\n",
        "no final break\nsecond",
        "tab\there",
        "quotes \"double\" and 'single'",
        "#hash",
        "- dash",
        "crlf\r\nline",
    ]
    texts = texts[: len(SALES)]
    world.raw_import(*[(rid, REVENUE, {"7": t}) for rid, t in zip(SALES, texts, strict=False)])
    world.import_()
    assert world.plan().empty
    result = validate_root(world.root)
    assert result.desired is not None
    notes = {k.reviewee: v.value for k, v in result.desired.values.items() if k.metric == REVENUE and k.field == "7"}
    expected = {rid: t.replace("\r\n", "\n") for rid, t in zip(SALES, texts, strict=False)}
    assert notes == expected
    assert "|\n" in (world.root / "imported" / "2026-H2-001.yaml").read_text()  # a literal block for the note


def test_only_the_reviewees_asked_for(world: World) -> None:
    fake = [f"ou_{i:032x}" for i in range(1, 91)]  # unknown to the tenant: Feishu leaves them out
    report = world.import_(reviewees=("alice", BOB, *fake))
    assert report.reviewees_asked == 92 and report.reviewees_written == 2
    reads = [e for e in world.emu.requests() if e.endpoint in ("metric_details.query", "reviewees.query")]
    assert [e.endpoint for e in reads] == ["metric_details.query"] * 2  # 92 reviewees are two requests
    assert all(e.status == 200 for e in reads)  # paced: never over the quota
    assert reads[1].time - reads[0].time >= 3.0 - 1e-6  # 20 a minute: 3 s apart


def test_unknown_reviewee_alias_is_an_error(world: World) -> None:
    with pytest.raises(SyncerError, match="nobody"):
        world.import_(reviewees=("nobody",))
    assert world.emu.requests("metric_details.query") == []


def test_metrics_and_fields_the_catalog_lacks_are_left_out_and_counted(world: World) -> None:
    catalog = world.root / "catalog.yaml"
    text = catalog.read_text()
    start = text.index("  csat:")
    catalog.write_text(text[:start] + "\n" + text[text.index("people:") :])
    catalog.write_text(catalog.read_text().replace('      unit:   {id: "3", type: text, max_length: 20}\n', ""))
    report = world.import_()
    reasons = dict(report.skipped)
    assert (
        reasons[
            "rows of metric 7272580325522276404 (CSAT), which catalog.yaml does not have (run `syncer catalog pull`)"
        ]
        == 8
    )
    assert reasons["values of field 3 of 'revenue', which catalog.yaml does not have"] == 10
    assert world.plan().empty


def test_admin_fields_are_left_out(world: World) -> None:
    report = world.import_()
    assert report.skipped == (("values of csat.calibration, which admins enter in Feishu (input_setting: admin)", 2),)
    # tang.rui's calibration note was entered by HR (admin_values): never written, never managed
    text = "".join(p.read_text() for p in (world.root / "imported").glob("*.yaml"))
    assert "calibration" not in text and "Calibrated by HR" not in text


def test_conflicting_rows_are_refused_identical_rows_adopted(world: World) -> None:
    teams = world.root / "teams"
    teams.mkdir(exist_ok=True)
    (teams / "alice.yaml").write_text(
        "semester: 2026-H2\nreviewees:\n  alice:\n    revenue:\n      weight: 60%\n      target: 1000000\n"
        "  bob:\n    revenue:\n      actual: 1\n"
    )
    with pytest.raises(ImportConflict) as err:
        world.import_()
    assert [(c.row.reviewee, c.source.line, c.differences) for c in err.value.conflicts] == [
        (BOB, 8, (("actual", "1", "1499000"),))
    ]
    assert (
        not (world.root / "imported").exists()
        and not open_store(world.root, validate_root(world.root).settings).exists()
    )
    report = world.import_(skip_existing=True)
    assert report.rows_adopted == 1 and report.rows_left_alone == 1 and report.rows_written == 58
    plan = world.plan()
    assert [(c.action, c.key.reviewee, c.key.field, c.old, c.new) for c in plan.changes] == [
        ("create", BOB, "5", None, "1")
    ]  # bob's row stays the file's: not managed yet, so a create


def test_refused_when_the_files_would_not_be_read(world: World) -> None:
    settings_file = world.root / "syncer.yaml"
    settings_file.write_text(settings_file.read_text().replace("exclude: []", 'exclude: ["imported/**"]'))
    with pytest.raises(RefusedError, match="would not be read"):
        world.import_()
    assert not (world.root / "imported").exists()
    assert open_store(world.root, validate_root(world.root).settings).load() is None


def test_out_dir_must_be_inside_the_root(world: World, tmp_path: Path) -> None:
    with pytest.raises(SyncerError, match="outside the metrics root"):
        world.import_(out_dir=tmp_path / "elsewhere")
    with pytest.raises(SyncerError, match="dot-directory"):
        world.import_(out_dir=world.root / ".hidden")


def test_another_targets_state_is_refused_before_any_request(world: World) -> None:
    store = open_store(world.root, validate_root(world.root).settings)
    with store.locked():
        store.create(Identity("open.feishu.cn", "cli_other", "open_id"))
    with pytest.raises(StateError, match="another target"):
        world.import_()
    assert world.emu.requests("reviewees.query") == []


def test_a_second_import_of_the_same_reviewees_is_refused_by_the_identical_rows_rule(world: World) -> None:
    world.import_()
    again = world.import_()
    assert again.rows_written == 0 and again.rows_adopted == 60 and again.files == ()
    assert world.plan().empty


def test_progress_reports_requests_and_eta(world: World) -> None:
    events: list[Any] = []
    result = validate_root(world.root, root_display="m")
    run_import(
        root=world.root,
        root_display="m",
        result=result,
        reader=world.reader(events),
        store=open_store(world.root, result.settings),
        target=world.target(),
        options=ImportOptions(semester=H2, all_reviewees=True),
        git=NO_GIT,
    )
    assert [(e.endpoint, e.done, e.total) for e in events] == [
        ("reviewees/query", 1, 1),
        ("metric_details/query", 1, 1),
    ]
    assert events[-1].requests_left == 0 and events[-1].eta_seconds == 0


# --- the YAML writer ---------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40))
def test_scalars_read_back_as_the_same_text(text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    doc = f"a:\n  {key(text)}: {scalar(text, indent=2)}\n"
    try:
        tree = parse(doc, "x.yaml")
    except LoadError as exc:  # pragma: no cover - a failure shows the document
        raise AssertionError(f"{doc!r}: {exc}") from exc
    assert tree is not None and not isinstance(tree, type(None))
    inner: Any = tree.get("a")  # type: ignore[union-attr]
    ((k, v),) = inner.items
    assert (k.text, v.text) == (text, text)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("40%", "40%"),
        ("-5%", "-5%"),
        ("0012", "0012"),
        ("yes", "yes"),
        ("~", '"~"'),
        ("null", '"null"'),
        ("a: b", '"a: b"'),
        ("#x", '"#x"'),
        (" x", '" x"'),
        ("a\nb", "|-\n        a\n        b"),
    ],
)
def test_scalars_are_plain_when_they_can_be(text: str, written: str) -> None:
    assert scalar(text, indent=6) == written


# --- the CLI ------------------------------------------------------------------------------------------------


def test_cli_import_lists_conflicts_redacted_and_needs_a_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from syncer.cli import cli
    from syncer.emulator import EmulatorServer

    w = make_world(tmp_path)
    (w.root / "teams").mkdir(exist_ok=True)
    (w.root / "teams" / "bob.yaml").write_text("semester: 2026-H2\nreviewees:\n  bob:\n    revenue:\n      actual: 1\n")
    with EmulatorServer(w.emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        monkeypatch.chdir(tmp_path)
        runner = CliRunner()
        result = runner.invoke(cli, ["import", "--root", "m", "--semester", "2026-H2"])
        assert result.exit_code == 1 and "--reviewees" in result.output and "--all" in result.output
        result = runner.invoke(
            cli, ["import", "--root", "m", "--semester", "2026-H2", "--reviewees", "alice,bob", "--redact-values"]
        )
        assert result.exit_code == 1, result.output
        assert (
            "m/teams/bob.yaml:4:5: bob / revenue: actual: (redacted) in the file, (redacted) in Feishu" in result.output
        )
        assert "1499000" not in result.output and "Traceback" not in result.output
        result = runner.invoke(
            cli,
            [
                "import",
                "--root",
                "m",
                "--semester",
                "2026-H2",
                "--reviewees",
                "alice",
                "--reviewees",
                "bob",
                "--skip-existing",
                "--per-file",
                "1",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "wrote m/imported/2026-H2-001.yaml\nwrote m/imported/2026-H2-002.yaml\n" in result.output
        assert "Imported 11 values in 3 rows of 2 reviewees" in result.output  # bob's revenue stays in bob.yaml
        assert "shows the 1 row left alone as changes" in result.output


def test_values_holding_a_control_character_are_left_out_and_counted(world: World) -> None:
    # Feishu takes a note with U+0000 (entered outside syncer); syncer's state could not record it, so
    # import writes it in no file: skipped, with its reason counted, like the values it cannot write.
    world.raw_import((ALICE, REVENUE, {"7": "a\x00b"}), (BOB, REVENUE, {"7": "bell\x07"}), token="raw-nul")
    report = world.import_()
    reasons = dict(report.skipped)
    assert reasons["values of revenue.note holding a control character, which syncer's state cannot record"] == 2
    text = "".join(p.read_text() for p in (world.root / "imported").glob("*.yaml"))
    assert "\\0" not in text and "\\a" not in text and "\x00" not in text
    assert validate_root(world.root).ok
