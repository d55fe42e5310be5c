"""`syncer apply` against the emulator: request counts, pacing, faults, the journal, the ancestor check and
saved-plan staleness. Time is a ManualClock shared by the emulator, the client and the pacer, so a minute of
pacing at Feishu's real quota takes no real time."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.apply.outcome import StopRequest
from syncer.apply.run import ApplyRun, Clocks, RunOptions, check_ancestry, run_apply
from syncer.emulator import Emulator, EmulatorTransport, ManualClock
from syncer.errors import RefusedError
from syncer.feishu.auth import Credentials
from syncer.feishu.errors import AuthError
from syncer.feishu.write import WriteClient
from syncer.gitinfo import NO_GIT, GitInfo
from syncer.load.validate import validate_root
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.report.apply import render_summary
from syncer.report.plan_json import plan_chunks
from syncer.state import open_store, target_identity
from tests.emulated import emulator_client
from tests.example import copy_example

IMPORT = "metric_details.import"
H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REVENUE = "7272580325522276372"


class Crash(Exception):
    """A simulated kill of the apply process at a chosen instant."""


@dataclass
class World:
    root: Path
    clock: ManualClock
    emu: Emulator
    runs: list[ApplyRun] = field(default_factory=list)

    transport_wrapper: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None
    # Rewrites Feishu's answers for every apply (a reading the emulator has no switch for); applied first.
    answers_wrapper: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None

    def client(self) -> WriteClient:
        transport: httpx.BaseTransport = EmulatorTransport(self.emu)
        if self.answers_wrapper is not None:
            transport = self.answers_wrapper(transport)
        if self.transport_wrapper is not None:
            transport = self.transport_wrapper(transport)
        return emulator_client(self.emu, self.clock, transport=transport)

    def apply(self, *, git: GitInfo = NO_GIT, hook: Callable[[str, str], None] | None = None, **kw: Any) -> ApplyRun:
        result = validate_root(self.root)
        assert result.ok and result.desired is not None, result.problems
        kw.setdefault("commit_is_ancestor", lambda a, b: True)
        kw.setdefault("confirm", lambda plan: True)
        options = RunOptions(**{k: kw.pop(k) for k in list(kw) if k in RunOptions.__dataclass_fields__})
        run = run_apply(
            store=open_store(self.root, result.settings),
            client=self.client(),
            settings=result.settings,
            desired=result.desired,
            git=git,
            root="m",
            clocks=Clocks(timer=self.clock, sleep=self.clock.sleep),
            step_hook=hook,
            options=options,
            **kw,
        )
        self.runs.append(run)
        return run

    def plan(self) -> Any:
        result = validate_root(self.root)
        assert result.desired is not None
        store = open_store(self.root, result.settings)
        target = target_identity(result.settings, base_url="http://127.0.0.1", app_id="cli_emulator")
        return make_plan(
            result.desired,
            store.load(),
            PlanOptions(
                safety=result.settings.safety,
                git=NO_GIT,
                target=target,
                state_location=store.location,
                percentage_format=result.settings.target.percentage_format,
            ),
        )

    def imports(self) -> list[Any]:
        return self.emu.requests(IMPORT)

    def expected_values(self) -> dict[tuple[str, str, str, str], str]:
        result = validate_root(self.root)
        assert result.desired is not None
        return {tuple(k): v.value for k, v in result.desired.open_values().items()}  # type: ignore[misc]

    def held_values(self) -> dict[tuple[str, str, str, str], str]:
        out = {}
        for v in self.emu.values(H2):
            if v.source == "import":
                value = v.field_value_person if v.field_value_person else (v.field_value or "")
                out[(v.semester_id, v.reviewee_user_id, v.metric_id, v.field_id)] = value.rstrip("%")
        return out


def use_postgres(root: Path, *, name: str = "example") -> None:
    """Keep the root's state in the postgres database of SYNCER_PG_DSN (the `pg_dsn` fixture sets it)."""
    settings = root / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(re.sub(r"backend: \w+", f"backend: postgres\n  name: {name}", text, count=1), encoding="utf-8")


@pytest.fixture(params=["local", "postgres"])
def each_backend(request: pytest.FixtureRequest, world: World) -> World:
    """The world, with its state on each backend whose crash behaviour is the applier's own."""
    if request.param == "postgres":
        request.getfixturevalue("pg_dsn")
        use_postgres(world.root)
    return world


def test_first_apply_sends_exactly_ceil_rows_over_50_and_lands_everything(world: World) -> None:
    plan = world.plan()
    rows = plan.counts.rows_to_send
    run = world.apply()
    assert run.report.exit_code == 0
    assert len(world.imports()) == math.ceil(rows / 50) == run.report.requests
    assert all(e.code == 0 for e in world.imports())
    assert world.held_values() == world.expected_values()
    assert run.report.values_applied == plan.counts.values_to_create


def test_second_apply_is_a_no_op(world: World) -> None:
    world.apply()
    before = len(world.emu.requests())
    run = world.apply()
    assert run.plan.empty and run.report.requests == 0
    assert [e for e in world.emu.requests()[before:] if e.endpoint == IMPORT] == []


def test_pacing_at_the_real_quota_is_even_and_sees_no_429(world: World) -> None:
    # 3 semesters' worth of rows is not available; make 3 batches by splitting with a tiny fake: use the
    # real quota (10/min, 6 s apart) over two applies, which must not collide either.
    world.apply()
    data = world.root / "teams" / "sales.yaml"
    data.write_text(data.read_text().replace("target: 45", "target: 46"))
    data = world.root / "teams" / "support.yaml"
    data.write_text(data.read_text().replace("target: 50", "target: 51"))
    world.apply()
    times = [e.time for e in world.imports()]
    assert len(times) >= 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g >= 6.0 - 1e-6 for g in gaps), gaps
    assert all(g <= 6.0 + 1e-6 for g in gaps[:1]), gaps  # within an apply: exactly the interval
    assert all(e.status != 429 for e in world.emu.requests())


def test_change_of_one_value_sends_one_row_with_every_managed_field(world: World) -> None:
    world.apply()
    sales = world.root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("unit: CNY", "unit: RMB", 1))
    n = len(world.imports())
    run = world.apply()
    assert run.report.requests == 1 and run.report.rows_applied == 1
    assert run.report.values_applied >= 5  # the whole row: weight, unit, target, actual, owner (and note)
    assert len(world.imports()) == n + 1


@pytest.mark.parametrize("kind", ["error", "rate_limited", "lost_response", "error_after_commit"])
def test_faults_end_with_every_value_in_place_and_nothing_sent_twice(world: World, kind: str) -> None:
    world.emu.faults.inject(kind, times=2)  # type: ignore[arg-type]
    run = world.apply()
    assert run.report.exit_code == 0
    assert world.held_values() == world.expected_values()
    records = world.emu.import_records()
    assert len(records) == 2  # 60 rows: two batches, each imported once
    imported = [(row.reviewee_user_id, row.metric_id) for r in records for row in r.rows]
    assert len(imported) == len(set(imported)) == 60  # no row imported twice
    assert world.apply().report.requests == 0


def test_random_faults_with_latency_and_storms(world: World) -> None:
    world.emu.faults.configure(
        seed=11, error_rate=0.3, lost_response_rate=0.2, storm_rate=0.1, latency_ms=(5, 50), endpoints=[IMPORT]
    )
    run = world.apply()
    assert run.report.exit_code == 0
    assert world.held_values() == world.expected_values()
    assert len(world.emu.import_records()) == 2
    assert world.apply().report.requests == 0


def test_expired_token_is_refetched(world: World) -> None:
    client = world.client()
    client.authenticate()
    world.emu.expire_tokens()
    result = validate_root(world.root)
    assert result.desired is not None
    run = run_apply(
        store=open_store(world.root, result.settings),
        client=client,
        settings=result.settings,
        desired=result.desired,
        git=NO_GIT,
        root="m",
        commit_is_ancestor=lambda a, b: True,
        confirm=lambda p: True,
        clocks=Clocks(timer=world.clock, sleep=world.clock.sleep),
    )
    assert run.report.exit_code == 0
    assert [e.code for e in world.imports()].count(99991663) == 1


@pytest.mark.parametrize("step", ["journaled", "sent", "recorded"])
@pytest.mark.parametrize("batch", [0, 1])
def test_killed_at_each_step_then_everything_lands_once(each_backend: World, step: str, batch: int) -> None:
    world = each_backend
    seen: list[str] = []

    def kill(name: str, token: str) -> None:
        if name == step:
            seen.append(token)
            if len(seen) == batch + 1:
                raise Crash(f"killed at {name}")

    with pytest.raises(Crash):
        world.apply(hook=kill)
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)  # the dead run's lock
    run = world.apply()
    assert run.report.exit_code == 0
    assert world.held_values() == world.expected_values()
    records = world.emu.import_records()
    assert len(records) == 2  # two batches, each imported exactly once
    # The killed batch was settled with its own token, never re-sent under a new one.
    tokens = [e.client_token for e in world.imports()]
    assert len(set(tokens)) == 2
    if step == "journaled":
        assert run.report.settled == [(seen[-1], "accepted")]
    elif step == "sent":
        assert run.report.settled == [(seen[-1], "landed-earlier")]
    else:
        assert run.report.settled == []
    assert world.apply().report.requests == 0


def test_killed_while_the_server_commits(each_backend: World) -> None:
    """The server committed the import, then the client died before the answer: a commit hook raising in
    the caller's thread is that instant."""
    world = each_backend

    def die(_record: object) -> None:
        raise Crash("killed after the server committed")

    world.emu.faults.add_commit_hook(die)
    with pytest.raises(Crash):
        world.apply()
    world.emu.faults.remove_commit_hook(die)
    open_store(world.root, validate_root(world.root).settings).break_lock(force=True)
    run = world.apply()
    assert [o for _, o in run.report.settled] == ["landed-earlier"]
    assert world.held_values() == world.expected_values()
    assert len(world.emu.import_records()) == 2


class AnswerLost(httpx.BaseTransport):
    """The emulator answers, then the answer is lost on the way back: raise `exc` for the first import
    request whose answer has code `code` (a rejection the caller never sees)."""

    def __init__(self, inner: httpx.BaseTransport, *, code: int, exc: BaseException) -> None:
        self.inner, self.code, self.exc, self.fired = inner, code, exc, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not self.fired and request.url.path.endswith("/metric_details/import"):
            response.read()
            if response.json().get("code") == self.code:
                self.fired = True
                raise self.exc
        return response


class Nameless(httpx.BaseTransport):
    """Answers of the read APIs that name users by open_id alone: no ID of any other type to read."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith(("/metric_details/query", "/reviewees/query")):
            return response
        body = json.loads(response.read())

        def strip(node: Any) -> Any:
            if isinstance(node, dict):
                if "open_id" in node:
                    return {"open_id": node["open_id"]}
                return {k: strip(v) for k, v in node.items()}
            return [strip(v) for v in node] if isinstance(node, list) else node

        return httpx.Response(response.status_code, headers=response.headers, json=strip(body))


def _former_world(tmp_path: Path) -> World:
    """The example plus one reviewee Feishu rejects (1580306), with rejected requests' tokens remembered."""
    root = tmp_path / "metrics"
    copy_example(root)
    cat = root / "catalog.yaml"
    cat.write_text(cat.read_text() + "  former.employee: ou_3075461c0c8eacfece00a926b0ea15f1\n")
    (root / "teams" / "former.yaml").write_text(
        "semester: 2026-H2\nreviewees:\n  former.employee:\n    revenue: {weight: 10%, target: 100}\n"
    )
    clock = ManualClock()
    emu = Emulator(clock=clock, sleep=clock.sleep)
    return World(
        root, clock, Emulator(emu.tenant.with_switches(remember_rejected_tokens=True), clock=clock, sleep=clock.sleep)
    )


FORMER = "ou_3075461c0c8eacfece00a926b0ea15f1"


def test_a_lost_rejection_is_not_recorded_as_applied_on_settle(tmp_path: Path) -> None:
    """Killed right after Feishu rejected a batch: the next apply re-sends it with the same token, Feishu
    answers 1580110 (it remembers rejected tokens), and the read-back shows the rows are not there: they
    are sent again under a new token, rejected, and quarantined; never recorded as applied."""
    w = _former_world(tmp_path)
    w.transport_wrapper = lambda t: AnswerLost(t, code=1580306, exc=Crash("killed after the rejection"))
    with pytest.raises(Crash):
        w.apply()
    w.transport_wrapper = None
    open_store(w.root, validate_root(w.root).settings).break_lock(force=True)
    run = w.apply()
    assert "not-landed" in [o for _, o in run.report.settled]
    assert (FORMER, 1580306) in {(r.row.reviewee, r.code) for r in run.report.rejected}
    assert run.report.exit_code == 4
    assert not any(k[1] == FORMER for k in w.held_values())
    assert not any(k[1] == FORMER for k in _state_values(w))
    good = {k: v for k, v in w.expected_values().items() if k[1] != FORMER}
    assert w.held_values() == good


def test_a_lost_rejection_is_not_recorded_as_applied_on_retry(tmp_path: Path) -> None:
    """The answer of a rejected request is lost (timeout) and the client retries with the same token:
    1580110 after a retry is read back before anything is recorded."""
    w = _former_world(tmp_path)
    w.transport_wrapper = lambda t: AnswerLost(t, code=1580306, exc=httpx.ReadTimeout("lost"))
    run = w.apply()
    assert (FORMER, 1580306) in {(r.row.reviewee, r.code) for r in run.report.rejected}
    assert not any(k[1] == FORMER for k in _state_values(w))
    assert run.report.exit_code == 4


def _state_values(w: World) -> dict[tuple[str, str, str, str], str]:
    state = open_store(w.root, validate_root(w.root).settings).load()
    assert state is not None
    return {tuple(k): v for k, (v, _b) in state.iter_values()}  # type: ignore[misc]


def test_max_duration_stops_before_a_batch_that_would_overrun(world: World) -> None:
    run = world.apply(max_duration=7)  # first batch at once, the second would start 6 s later + allowance
    assert run.report.exit_code == 3 and run.report.stopped_early
    assert run.report.seconds <= 7
    assert run.report.requests == 1 and run.report.rows_left > 0
    run = world.apply()
    assert run.report.exit_code == 0 and run.report.requests == 1
    assert world.held_values() == world.expected_values()


def test_a_max_duration_too_short_for_one_request_fails_rather_than_asking_for_a_follow_up(world: World) -> None:
    # Exit 3 means "progress was made, run again": CI triggers the next run on it (GitLab's follow-up
    # pipeline). A run that could not send one request would be followed by another just like it, forever.
    run = world.apply(max_duration=2)  # shorter than one request's allowance
    assert run.report.requests == 0 and world.imports() == []
    assert run.report.exit_code == 1 and not run.report.stopped_early
    assert "--max-duration of 2 s" in (run.report.aborted or "")
    assert "STOPPED: --max-duration of 2 s" in render_summary(run.report, run.plan.names, run.plan.counts)
    assert world.apply().report.exit_code == 0


def test_saved_plan_must_still_match(world: World, tmp_path: Path) -> None:
    saved = json.loads("".join(plan_chunks(world.plan(), redact=True)))
    sales = world.root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("unit: CNY", "unit: RMB", 1))
    with pytest.raises(RefusedError, match="the saved plan is stale"):
        world.apply(saved_plan=saved)
    assert world.imports() == []
    saved = json.loads("".join(plan_chunks(world.plan(), redact=True)))
    assert world.apply(saved_plan=saved).report.exit_code == 0
    with pytest.raises(RefusedError, match="made before this state existed"):
        world.apply(saved_plan=saved)
    saved = json.loads("".join(plan_chunks(world.plan(), redact=True)))
    sales.write_text(sales.read_text().replace("unit: RMB", "unit: USD", 1))
    world.apply()
    sales.write_text(sales.read_text().replace("unit: USD", "unit: RMB", 1))
    with pytest.raises(RefusedError, match=r"serial \d+ then, \d+ now"):
        world.apply(saved_plan=saved)


def test_no_confirmation_sends_nothing(world: World) -> None:
    with pytest.raises(RefusedError, match="cancelled"):
        world.apply(confirm=lambda plan: False)
    assert world.imports() == []


def test_ancestor_check() -> None:
    from syncer.state.model import LastApply, State, StateMeta

    def state(commit: str) -> State:
        meta = StateMeta(
            format=1,
            lineage="x",
            serial=3,
            created="",
            identity=None,  # type: ignore[arg-type]
            last_apply=LastApply("t", commit, 1),
        )
        return State(meta=meta, rows={}, batches={}, rejections={}, journal={})

    check_ancestry(state("aaa"), commit="bbb", is_ancestor=lambda a, b: True, force=False)
    with pytest.raises(RefusedError, match="not an ancestor"):
        check_ancestry(state("aaa"), commit="bbb", is_ancestor=lambda a, b: False, force=False)
    with pytest.raises(RefusedError, match="fetch-depth"):
        check_ancestry(state("aaa"), commit="bbb", is_ancestor=lambda a, b: None, force=False)
    check_ancestry(state("aaa"), commit="bbb", is_ancestor=lambda a, b: False, force=True)
    check_ancestry(state("aaa"), commit="nogit", is_ancestor=lambda a, b: False, force=False)
    check_ancestry(None, commit="bbb", is_ancestor=lambda a, b: False, force=False)


def test_old_commit_is_refused_in_a_real_repository(world: World) -> None:
    import subprocess

    from syncer.gitinfo import git_info, is_ancestor

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=world.root,
            check=True,
            capture_output=True,
            text=True,
            env={
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@t",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@t",
                "PATH": "/usr/bin:/bin",
            },
        ).stdout.strip()

    (world.root / ".gitignore").write_text(".syncer/\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "one")
    first = git("rev-parse", "HEAD")
    sales = world.root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("unit: CNY", "unit: RMB", 1))
    git("commit", "-qam", "two")

    def anc(a: str, b: str) -> bool | None:
        return is_ancestor(a, b, cwd=world.root)

    world.apply(git=git_info(world.root), commit_is_ancestor=anc)
    git("checkout", "-q", first)
    with pytest.raises(RefusedError, match="not an ancestor"):
        world.apply(git=git_info(world.root), commit_is_ancestor=anc)


@pytest.mark.parametrize("signal", ["SIGINT", "SIGTERM"])
def test_a_stop_request_is_honoured_after_the_request_in_flight_is_recorded(world: World, signal: str) -> None:
    """A signal during an apply: the batch in flight is finished and recorded, nothing more is sent, the exit
    code says which signal (130, 143), and the next apply goes on from there."""
    stop = StopRequest()

    def hook(step: str, token: str) -> None:
        if step == "sent":
            assert stop.request(signal)  # arrives while the first request's answer is being recorded

    run = world.apply(hook=hook, stop=stop)
    assert run.report.interrupted == signal and run.report.exit_code == {"SIGINT": 130, "SIGTERM": 143}[signal]
    assert len(world.imports()) == 1 and run.report.rows_applied == 50 and run.report.rows_left == 10
    assert "Interrupted by" in render_summary(run.report, run.plan.names, run.plan.counts)
    assert not stop.armed and not stop.request(signal)  # outside the sending, a signal stops at once
    again = world.apply()
    assert again.report.exit_code == 0 and again.report.rows_applied == 10
    assert world.held_values() == world.expected_values()


def test_a_wrong_app_secret_binds_no_state(world: World) -> None:
    creds = Credentials("cli_emulator", "wrong")
    client = WriteClient(base_url="http://127.0.0.1", credentials=creds, transport=EmulatorTransport(world.emu))
    result = validate_root(world.root)
    assert result.desired is not None
    with pytest.raises(AuthError, match=r"10014.*app secret is invalid.*FEISHU_APP_SECRET"):
        run_apply(
            store=open_store(world.root, result.settings),
            client=client,
            settings=result.settings,
            desired=result.desired,
            git=NO_GIT,
            root="m",
            commit_is_ancestor=lambda a, b: True,
            confirm=lambda p: True,
        )
    assert not (world.root / ".syncer").exists()  # no state, no lock: nothing bound to that app


@pytest.mark.parametrize("signal", ["SIGINT", "SIGTERM"])
def test_a_stop_asked_during_the_last_request_still_exits_with_the_signal(world: World, signal: str) -> None:
    """Everything was sent and recorded, but the user did ask to stop: the exit code says so."""
    stop = StopRequest()
    sent = []

    def hook(step: str, token: str) -> None:
        if step == "sent":
            sent.append(token)
            if len(sent) == 2:  # the example's last request
                assert stop.request(signal)

    run = world.apply(hook=hook, stop=stop)
    assert run.report.rows_left == 0 and run.report.rows_applied == 60
    assert run.report.exit_code == {"SIGINT": 130, "SIGTERM": 143}[signal]
    assert "nothing was left to send" in render_summary(run.report, run.plan.names, run.plan.counts)


def test_a_failure_half_way_keeps_the_report_of_what_was_recorded(world: World) -> None:
    """Retries spent on the second request: the run stops, and its report (summary, --report) still says
    that the first batch landed and was recorded, and what is left."""
    sent: list[str] = []

    def hook(step: str, token: str) -> None:
        if step == "sent" and not sent:
            sent.append(token)
            world.emu.faults.inject("error", times=5)  # every attempt of the next request: a 5xx

    run = world.apply(hook=hook)
    report = run.report
    assert report.exit_code == 1 and report.aborted is not None and "1580101" in report.aborted
    assert report.rows_applied == 50 and report.rows_left == 10
    text = render_summary(report, run.plan.names, run.plan.counts)
    assert "Applied 180 of 215 value changes in 50 rows" in text and "STOPPED: " in text and "10 rows not sent" in text
    again = world.apply()
    assert again.report.exit_code == 0 and world.held_values() == world.expected_values()


def test_a_settled_batch_is_told_apart_from_the_plan(world: World) -> None:
    """A run killed after its first request was answered: the next run settles that batch from the journal
    and applies the rest; its summary counts the plan's rows and requests, and the settled batch on its own
    line."""

    class Kill(BaseException):
        pass

    def kill(step: str, token: str) -> None:
        if step == "sent":
            raise Kill

    with pytest.raises(Kill):
        world.apply(hook=kill)
    run = world.apply()
    report = run.report
    assert [o for _, o in report.settled] == ["landed-earlier"] and report.settle_requests == 1
    assert report.rows_applied == 10 and run.plan.counts.rows_to_send == 10
    text = render_summary(report, run.plan.names, run.plan.counts)
    assert (
        text.startswith("Applied 35 value changes (35 create) in 10 rows: ") and "1 import request (1 accepted)" in text
    )
    settled = "Settled 1 batch an interrupted apply left open: 1 landed-earlier (50 rows, 180 values recorded"
    assert settled + ", with 1 request)" in text
