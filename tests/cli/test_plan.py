"""`syncer plan` end to end with click's CliRunner, on tests/golden/plan/root."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from syncer.cli import cli
from syncer.gitinfo import NO_GIT
from syncer.load.validate import validate_root
from syncer.model import Identity, RowKey
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.plan.sent import desired_fields, sent_digest
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord, Rejection
from tests.paths import GOLDEN, SCHEMAS

ROOT = GOLDEN / "plan" / "root"
SCHEMA = json.loads((SCHEMAS / "plan.schema.json").read_text())
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SEM = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REV = "7272580325522276372"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "metrics"
    shutil.copytree(ROOT, dest)
    return dest


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def apply_all(root: Path, state: Path, *, identity: Identity = IDENT) -> None:
    """Record what an apply of the current plan would record (every changed row whole, forgets)."""
    result = validate_root(root)
    assert result.desired is not None
    store = LocalStateStore(state, clock=lambda: T0)
    with store.locked():
        if not store.exists():
            store.create(identity)
        plan = make_plan(
            result.desired,
            store.load(),
            PlanOptions(
                safety=result.settings.safety, git=NO_GIT, target=identity, state_location=str(state), force=True
            ),
        )
        sent = desired_fields(result.desired.values, [r for rs in plan.rows_by_semester().values() for r in rs])
        rows = {r: {f: dv.value for f, dv in fields.items()} for r, fields in sent.items()}
        for sem, sem_rows in plan.rows_by_semester().items():
            store.record_batch(BatchRecord(sem, f"tok-{sem}", "rec", "nogit", "n", T0, {r: rows[r] for r in sem_rows}))
        store.forget(plan.forgotten())
        store.compact()


def test_first_plan_creates_everything(root: Path) -> None:
    r = run("plan", "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "Plan: 18 values changed (18 to create, 0 to update, 0 to forget); 5 rows to send" in r.output
    assert "no state at" in r.output
    assert run("plan", "--root", str(root), "--detailed-exitcode").exit_code == 2


def test_nothing_to_do_after_apply(root: Path) -> None:
    apply_all(root, root / ".syncer" / "state")
    r = run("plan", "--root", str(root), "--detailed-exitcode")
    assert r.exit_code == 0, r.output
    assert "No changes: nothing to change since the last apply (18 values managed; Feishu was not read" in r.output
    assert "FEISHU_APP_ID is not set" in r.output  # compared what it could, and says so


def test_plan_reads_the_state_through_its_cache_and_never_a_stale_one(root: Path, tmp_path: Path) -> None:
    """The decoded state is kept with the check cache: the next plan against the same state files reuses
    it, a state an apply rewrote is decoded again, and --no-cache plans the same without it."""
    env = {"SYNCER_CACHE_DIR": str(tmp_path / "cache")}
    state = root / ".syncer" / "state"
    apply_all(root, state)
    first = run("plan", "--root", str(root), "--detailed-exitcode", env=env)
    assert first.exit_code == 0, first.output
    assert len(list((tmp_path / "cache" / "state").glob("*/*.entry"))) == 1
    support = root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace("actual: 44", "actual: 45"))
    changed = run("plan", "--root", str(root), "--detailed-exitcode", env=env)
    assert changed.exit_code == 2 and '~ nps.actual: "44" -> "45"' in changed.output
    assert run("plan", "--root", str(root), "--no-cache", env=env).output == changed.output
    apply_all(root, state)  # the shard is rewritten: the entry is for other bytes now
    after = run("plan", "--root", str(root), "--detailed-exitcode", env=env)
    assert after.exit_code == 0 and "No changes" in after.output, after.output


def test_changes_and_forgets_exit_2(root: Path) -> None:
    state = root / ".syncer" / "state"
    apply_all(root, state)
    support = root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace("actual: 44", "actual: 45"))
    sales = root / "teams" / "sales.yaml"
    sales.write_text(
        sales.read_text().replace('      note: "Closed **two** deals | see <https://example.com> @bob"\n', "")
    )
    r = run("plan", "--root", str(root), "--detailed-exitcode")
    assert r.exit_code == 2, r.output
    assert '~ nps.actual: "44" -> "45"' in r.output
    assert "- revenue.note" in r.output and "forget: stays in Feishu" in r.output
    assert "1 to create, 0 to update" not in r.output
    # A forget alone counts as a change too.
    support.write_text(support.read_text().replace("actual: 45", "actual: 44"))
    assert run("plan", "--root", str(root), "--detailed-exitcode").exit_code == 2


def test_json_out_and_schema(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    r = run("plan", "--root", str(root), "--format", "json", "--out", str(out), "--print")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert json.loads(out.read_text()) == doc
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["counts"]["values_to_create"] == 18 and doc["counts"]["requests_min"] == 1
    assert doc["git"]["commit"] == "nogit" and doc["state"]["exists"] is False


def test_json_out_writes_the_document_once_and_says_so_on_stdout(root: Path, tmp_path: Path) -> None:
    """The file is the document; stdout gets one line, not the same JSON again (--print asks for both)."""
    out = tmp_path / "plan.json"
    r = run("plan", "--root", str(root), "--format", "json", "--out", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert r.stdout == f"wrote {out.as_posix()}: {doc['summary']}\n"
    assert doc["summary"].startswith("Plan: 18 values changed")
    assert json.loads(run("plan", "--root", str(root), "--format", "json").output) == doc  # no --out: stdout
    md = run("plan", "--root", str(root), "--format", "markdown", "--out", str(out))  # CI's comment and artifact
    assert md.stdout.startswith("<!-- syncer:plan -->") and json.loads(out.read_text()) == doc


def test_redaction_by_flag_and_env(root: Path, tmp_path: Path) -> None:
    for args, env in ((["--redact-values"], None), ([], {"SYNCER_REDACT": "1"})):
        for fmt in ("text", "markdown", "json", "github"):
            r = run(
                "plan",
                "--root",
                str(root),
                "--format",
                fmt,
                "--out",
                str(tmp_path / "p.json"),
                *args,
                env=env,
            )
            assert r.exit_code == 0
            for secret in ("1055000", "Closed", "1499000"):
                assert secret not in r.output, (fmt, secret)
                assert secret not in (tmp_path / "p.json").read_text()
    plain = json.loads(run("plan", "--root", str(root), "--format", "json").output)
    redacted = json.loads(run("plan", "--root", str(root), "--format", "json", "--redact-values").output)
    assert plain["checksum"] == redacted["checksum"]


def test_markdown_and_github_formats(root: Path) -> None:
    r = run("plan", "--root", str(root), "--format", "markdown")
    assert r.output.startswith("<!-- syncer:plan -->\n### syncer plan\n\n**Plan: 18 values changed")
    assert "&lt;https://example.com&gt;" in r.output and "&#64;bob" in r.output
    g = run("plan", "--root", str(root), env={"GITHUB_ACTIONS": "true"})  # github is the default there
    assert "Plan: 18 values changed" in g.output and "+ revenue.weight" not in g.output


def test_invalid_yaml_exits_1_with_problems(root: Path) -> None:
    support = root / "teams" / "support.yaml"
    support.write_text(support.read_text().replace("carol:", "nobody:"))
    for fmt in ("text", "github", "json", "markdown"):
        r = run("plan", "--root", str(root), "--format", fmt, "--detailed-exitcode")
        assert r.exit_code == 1, (fmt, r.output)
        assert "support.yaml" in r.output
    assert "no plan" in run("plan", "--root", str(root)).output


def test_state_of_another_target_is_refused(root: Path, tmp_path: Path) -> None:
    apply_all(root, root / ".syncer" / "state", identity=Identity("open.larksuite.com", "cli_a1b2", "open_id"))
    r = run("plan", "--root", str(root))
    assert r.exit_code == 1
    assert "belongs to another target" in r.output and "--state PATH" in r.output
    # Pointing elsewhere works (a rehearsal).
    assert run("plan", "--root", str(root), "--state", str(tmp_path / "rehearsal")).exit_code == 0
    # FEISHU_BASE_URL decides the host over syncer.yaml.
    assert run("plan", "--root", str(root), env={"FEISHU_BASE_URL": "https://open.larksuite.com"}).exit_code == 0


def test_app_id_is_compared_when_known(root: Path) -> None:
    apply_all(root, root / ".syncer" / "state")
    assert run("plan", "--root", str(root), env={"FEISHU_APP_ID": "cli_a1b2"}).exit_code == 0
    r = run("plan", "--root", str(root), env={"FEISHU_APP_ID": "cli_other"})
    assert r.exit_code == 1 and "app ID cli_a1b2 (this run: cli_other)" in r.output


def test_newer_state_format_is_refused(root: Path) -> None:
    state = root / ".syncer" / "state"
    apply_all(root, state)
    meta = json.loads((state / "meta.json").read_text())
    meta["format"] = 99
    (state / "meta.json").write_text(json.dumps(meta))
    r = run("plan", "--root", str(root))
    assert r.exit_code == 1 and "newer than this syncer understands" in r.output


def test_safety_threshold_needs_force(root: Path, tmp_path: Path) -> None:
    apply_all(root, root / ".syncer" / "state")
    sales = root / "teams" / "sales.yaml"
    text = sales.read_text()
    for old, new in (
        ("actual: 1055000", "actual: 1"),
        ("actual: 1499000", "actual: 2"),
        ("target: 45", "target: 4"),
        ("actual: 42", "actual: 4"),
        ("target: 1000000", "target: 3"),
    ):
        text = text.replace(old, new)
    sales.write_text(text)
    out = tmp_path / "p.json"
    r = run("plan", "--root", str(root), "--out", str(out))
    assert r.exit_code == 1
    assert "Safety: apply will refuse this plan" in r.output and "--force" in r.output
    assert json.loads(out.read_text())["safety"]["refused"] is True  # the plan is still written
    r = run("plan", "--root", str(root), "--force", "--detailed-exitcode")
    assert r.exit_code == 2 and "(--force given)" in r.output
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("max_update_ratio: 0.3", "max_update_ratio: 0.9"))
    assert run("plan", "--root", str(root)).exit_code == 0


def test_rejected_rows_are_listed_not_counted(root: Path) -> None:
    state = root / ".syncer" / "state"
    store = LocalStateStore(state, clock=lambda: T0)
    with store.locked():
        store.create(IDENT)
        row = RowKey(SEM, ALICE, REV)
        fields = desired_fields(validate_root(root).desired.values, [row])[row]  # type: ignore[union-attr]
        digest = sent_digest(fields, percentage_format="40%")  # what an apply sent (the default format)
        store.record_rejected([Rejection(row, 1580303, "2026-04-30T08:00:00.000Z", digest, "too long")])
    r = run("plan", "--root", str(root))
    assert "rejected on 2026-04-30 with 1580303" in r.output
    assert "Plan: 13 values changed (13 to create" in r.output and "1 rejected row held back" in r.output


def test_plan_never_writes_the_state(root: Path) -> None:
    state = root / ".syncer" / "state"
    apply_all(root, state)
    before = {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}
    run("plan", "--root", str(root))
    assert {p: p.read_bytes() for p in state.rglob("*") if p.is_file()} == before
    run("plan", "--root", str(root / "x"), "--state", str(root / "never"))
    assert not (root / "never").exists()


def test_help_documents_every_option() -> None:
    out = run("plan", "--help").output
    for opt in (
        "--root",
        "--state",
        "--format",
        "--out",
        "--detailed-exitcode",
        "--redact-values",
        "--force",
    ):
        assert opt in out


def test_a_targeted_plan_says_what_it_left_out(root: Path) -> None:
    files = sorted(p.relative_to(root).as_posix() for p in (root / "teams").glob("*.yaml"))  # archive/: closed
    assert len(files) > 1
    r = run("plan", "--root", str(root), "--path", files[0])
    assert r.exit_code == 0, r.output
    assert f"Targeted plan (--path {files[0]}): left out 0 semesters, {len(files) - 1} data file" in r.output
    assert "Validation covered the whole root" in r.output
    doc = json.loads(run("plan", "--root", str(root), "--path", files[0], "--format", "json").output)
    jsonschema.validate(doc, SCHEMA)
    assert doc["targeting"]["paths"] == [files[0]] and doc["targeting"]["files_left_out"] == len(files) - 1
    assert {c["file"] for c in doc["changes"]} == {f"{root}/{files[0]}"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--path", "nothing/*.yaml"], "--path 'nothing/*.yaml' matches no data file"),
        (["--semester", "1999-H9"], "--semester '1999-H9': unknown semester"),
    ],
)
def test_targeting_mistakes_are_one_clear_error(root: Path, args: list[str], message: str) -> None:
    r = CliRunner().invoke(cli, ["plan", "--root", str(root), *args])
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output
