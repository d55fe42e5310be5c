"""`state.backend: git` end to end: clones of a local bare repository, applies against the emulator (through
the CLI on loopback, or run_apply with a ManualClock), plans in other clones, races, kills, `state unlock`
and `state migrate`."""

from __future__ import annotations

import errno
import math
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syncer.apply.run import ApplyRun, Clocks, run_apply
from syncer.cli import cli
from syncer.emulator import Emulator, ManualClock
from syncer.errors import StateError
from syncer.feishu.write import WriteClient
from syncer.gitinfo import NO_GIT
from syncer.load.validate import validate_root
from syncer.model import Identity
from syncer.state import open_store
from syncer.state.git.store import GitStateStore
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord, parse_time
from tests.emulated import emulator_client, serving
from tests.example import copy_example, fast_imports
from tests.gitenv import isolate_git, state_commits
from tests.oserrors import Refuse

IMPORT = "metric_details.import"
H2 = "7293040702907514899"
SECRET = "ghs_neverPrintMe0123456789abcdef"


class Crash(Exception):
    """A simulated kill of the apply process at a chosen instant."""


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def cli_run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@dataclass
class Origin:
    """A bare remote whose main branch holds the example metrics/ with `state.backend: git`."""

    tmp: Path
    bare: Path

    def clone(self, name: str, *, shallow: bool = False) -> Path:
        dest = self.tmp / name
        if shallow:  # what actions/checkout makes: depth 1, detached HEAD, no credentials kept
            git("clone", "-q", "--depth", "1", f"file://{self.bare}", str(dest))
            git("checkout", "-q", "--detach", cwd=dest)
        else:
            git("clone", "-q", str(self.bare), str(dest))
        return dest / "metrics"

    def state_commits(self) -> list[str]:
        return state_commits(self.bare)

    def lock_ref(self) -> str:
        return git("for-each-ref", "--format=%(refname)", "refs/syncer/", cwd=self.bare)


@pytest.fixture
def origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Origin:
    isolate_git(monkeypatch, tmp_path)
    for var in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL", "GIT_CONFIG_COUNT", "CI"):
        monkeypatch.delenv(var, raising=False)
    # Tokens in the environment must never show anywhere (a file remote simply does not use them).
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("SYNCER_GIT_TOKEN", SECRET)
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git("clone", "-q", str(bare), str(seed))
    copy_example(seed / "metrics", backend="git")
    fast_imports(seed / "metrics")
    assert "backend: git" in (seed / "metrics" / "syncer.yaml").read_text()
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "metrics", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    return Origin(tmp_path, bare)


# --- through the CLI, against the emulator served on loopback ----------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    emu = Emulator(import_per_minute=1000)
    with serving(emu, monkeypatch):
        yield emu


def test_apply_in_a_ci_checkout_then_plan_in_a_fresh_clone_has_nothing_to_do(origin: Origin, served: Emulator) -> None:
    ci = origin.clone("ci", shallow=True)
    code, out = cli_run("plan", "--root", str(ci), "--detailed-exitcode")
    assert code == 2, out  # no state branch yet: everything is a create
    assert origin.state_commits() == []  # plan wrote nothing
    code, out = cli_run("apply", "--root", str(ci), "--auto-approve")
    assert code == 0, out
    assert "Applied 215 value changes (215 create) in 60 rows: 215 values sent as whole rows with 2 import" in out
    assert len(origin.state_commits()) == 1  # the run's commits squashed into one
    assert origin.lock_ref() == ""  # lock released

    fresh = origin.clone("reviewer")
    code, out = cli_run("plan", "--root", str(fresh), "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out
    code, show = cli_run("state", "show", "--root", str(fresh))
    assert code == 0 and "git:origin/syncer-state" in show and "215" in show
    code, again = cli_run("apply", "--root", str(fresh), "--auto-approve")
    assert code == 0 and len(served.requests(IMPORT)) == 2, again
    assert len(origin.state_commits()) == 1  # an apply with nothing to do pushes nothing
    assert not (fresh / ".syncer").exists()  # nothing written under the metrics root
    assert git("status", "--porcelain", cwd=fresh.parent) == ""
    code, rm = cli_run("state", "rm", "--root", str(fresh), "--reviewee", "alice", "--yes")
    assert code == 0 and "no longer managed" in rm, rm
    assert len(origin.state_commits()) == 2  # one more commit, for the state rm
    code, out = cli_run("plan", "--root", str(origin.clone("third")), "--detailed-exitcode")
    assert code == 2 and "alice" in out, out  # her values are creates again
    for text in (out, show, again, rm):
        assert SECRET not in text


def test_a_working_copy_write_the_system_refuses_is_one_line_and_the_rerun_finishes(
    origin: Origin, served: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The git backend writes the state's files in its working copy as the local backend does: a refusal of
    the system is the same one line, and the branch stays whole for the next run."""
    ci = origin.clone("ci")

    def segment(p: Path) -> bool:
        return "work" in p.parts and "log.d" in p.parts

    with pytest.MonkeyPatch.context() as faults:
        Refuse(faults, errno.EDQUOT, "replace", segment, 3)  # the first accepted batch's record
        code, out = cli_run("apply", "--root", str(ci), "--auto-approve")
    assert code == 1, out
    [line] = [x for x in out.splitlines() if x.startswith("error:")]
    assert "/work/log.d/" in line and "cannot write the state: Disk quota exceeded [EDQUOT]" in line, line
    assert "0 batches of this apply are recorded; the batch in flight is kept open in the journal" in line
    assert origin.lock_ref() == ""  # released all the same
    code, out = cli_run("apply", "--root", str(origin.clone("next")), "--auto-approve")
    assert code == 0 and "1 landed-earlier" in out, out
    assert len(served.import_records()) == 2
    code, out = cli_run("plan", "--root", str(origin.clone("reviewer")), "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out

    def refused(directory: Path, blobs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("syncer.state.git.store.write_files", refused)  # reading: the branch's files written out
    code, out = cli_run("plan", "--root", str(ci))
    assert code == 1 and "Traceback" not in out, out
    assert "cannot write out the files of git:origin/syncer-state to read them: Read-only file system" in out
    monkeypatch.undo()
    isolate_git(monkeypatch, origin.tmp)
    monkeypatch.setattr("syncer.state.git.working.write_files", refused)  # writing: the working copy
    code, out = cli_run("state", "rm", "--root", str(ci), "--reviewee", "alice", "--yes")
    assert code == 1 and "Traceback" not in out, out
    assert "/work: cannot write the working copy of git:origin/syncer-state: Read-only file system [EROFS]" in out
    assert "(nothing was written)" in out and origin.lock_ref() == ""


def test_state_migrate_to_git_and_back(origin: Origin, tmp_path: Path) -> None:
    root = origin.clone("a")
    local = LocalStateStore(root / ".syncer" / "state")  # state.path, where the local backend kept it
    with local.locked():
        local.create(Identity("open.feishu.cn", "cli_a1b2", "open_id"))
        local.record_batch(BatchRecord(H2, "tok-1", "rec-1", "c" * 40, "syncer c", _now(), {_row(): {"2": "60"}}))
    lineage = local.load().meta.lineage  # type: ignore[union-attr]
    code, out = cli_run("state", "migrate", "--root", str(root), "--to", "git")
    assert code == 0 and "to git:origin/syncer-state" in out and "backend: git" in out, out
    assert len(origin.state_commits()) == 1
    code, out = cli_run("state", "migrate", "--root", str(root), "--to", "git")
    assert code == 1 and "already holds a state" in out and lineage in out
    other = origin.clone("b")
    code, out = cli_run("state", "show", "--root", str(other), "--format", "json")
    assert code == 0 and lineage in out
    back = tmp_path / "back"
    code, out = cli_run("state", "migrate", "--root", str(other), "--to", "local", "--state", str(back))
    assert code == 0 and str(back) in out, out
    assert LocalStateStore(back).load().meta.lineage == lineage  # type: ignore[union-attr]
    code, out = cli_run("state", "migrate", "--root", str(other), "--to", "local", "--state", str(back))
    assert code == 1 and "already holds a state" in out
    code, out = cli_run("state", "migrate", "--help")
    assert "--to [git|local|postgres]" in out


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _row() -> Any:
    from syncer.model import RowKey

    return RowKey(H2, "ou_3245842393d09e9428ad4655da6e30b3", "7272580325522276372")


# --- run_apply with a ManualClock: races and kills -----------------------------------------------------------


@dataclass
class World:
    origin: Origin
    clock: ManualClock
    emu: Emulator

    def client(self) -> WriteClient:
        return emulator_client(self.emu, self.clock)

    def apply(
        self, root: Path, *, hook: Callable[[str, str], None] | None = None, store: GitStateStore | None = None
    ) -> ApplyRun:
        result = validate_root(root)
        assert result.ok and result.desired is not None, result.problems
        store = store or open_store(root, result.settings)  # type: ignore[assignment]
        assert isinstance(store, GitStateStore)
        return run_apply(
            store=store,
            client=self.client(),
            settings=result.settings,
            desired=result.desired,
            git=NO_GIT,
            root="metrics",
            commit_is_ancestor=lambda a, b: True,
            confirm=lambda plan: True,
            clocks=Clocks(timer=self.clock, sleep=self.clock.sleep),
            step_hook=hook,
        )

    def imports(self) -> list[Any]:
        return self.emu.requests(IMPORT)

    def held(self) -> dict[tuple[str, str, str, str], str]:
        out = {}
        for v in self.emu.values(H2):
            if v.source == "import":
                value = v.field_value_person if v.field_value_person else (v.field_value or "")
                out[(v.semester_id, v.reviewee_user_id, v.metric_id, v.field_id)] = value.rstrip("%")
        return out

    def expected(self, root: Path) -> dict[tuple[str, str, str, str], str]:
        result = validate_root(root)
        assert result.desired is not None
        return {tuple(k): v.value for k, v in result.desired.open_values().items()}  # type: ignore[misc]


@pytest.fixture
def world(origin: Origin) -> World:
    clock = ManualClock()
    return World(origin, clock, Emulator(clock=clock, sleep=clock.sleep))


def test_two_clones_racing_only_one_applies(world: World) -> None:
    a, b = world.origin.clone("a"), world.origin.clone("b")
    refused: list[StateError] = []

    def race(step: str, token: str) -> None:
        if step == "journaled" and not refused:
            before = len(world.imports())
            with pytest.raises(StateError) as err:
                world.apply(b)  # the other clone, while a holds the lock
            refused.append(err.value)
            assert len(world.imports()) == before  # b sent nothing

    run = world.apply(a, hook=race)
    assert run.report.exit_code == 0
    message = str(refused[0])
    assert "git:origin/syncer-state is locked by apply" in message and "unlock --force" in message
    assert SECRET not in message
    assert len(world.emu.import_records()) == 2
    assert world.held() == world.expected(a)
    assert world.apply(b).report.requests == 0  # once a is done, b finds nothing to do


@pytest.mark.parametrize(("step", "outcome"), [("journaled", "accepted"), ("sent", "landed-earlier")])
def test_a_killed_apply_is_finished_by_a_fresh_clone(world: World, step: str, outcome: str) -> None:
    first = world.origin.clone("killed")
    store = open_store(first, validate_root(first).settings)
    assert isinstance(store, GitStateStore)
    store._release = lambda **kw: None  # type: ignore[method-assign]  # SIGKILL: no `finally` runs
    seen: list[str] = []

    def kill(name: str, token: str) -> None:
        if name == step:
            seen.append(token)
            raise Crash(f"killed at {name}")

    with pytest.raises(Crash):
        world.apply(first, hook=kill, store=store)
    sent = len(world.imports())

    fresh = world.origin.clone("fresh")
    with pytest.raises(StateError, match="locked by apply"):
        world.apply(fresh)
    assert len(world.imports()) == sent  # refused before sending anything
    code, out = cli_run("state", "show", "--root", str(fresh))
    assert code == 0 and "locked by pid" in out and "journal" in out.lower(), out
    code, out = cli_run("state", "unlock", "--root", str(fresh))
    assert code == 1 and "--force" in out
    code, out = cli_run("state", "unlock", "--root", str(fresh), "--force")
    assert code == 0 and "Cleared the lock" in out

    run = world.apply(fresh)
    assert run.report.exit_code == 0
    assert run.report.settled == [(seen[0], outcome)]
    assert world.held() == world.expected(fresh)
    records = world.emu.import_records()
    assert len(records) == math.ceil(60 / 50)  # every batch imported exactly once
    assert len({e.client_token for e in world.imports()}) == 2  # the killed batch kept its token
    assert world.apply(world.origin.clone("later")).report.requests == 0
    assert world.origin.lock_ref() == ""


def test_the_pacing_mark_of_a_failed_apply_reaches_the_branch(world: World) -> None:
    """A request went out, then the apply failed (5xx until the retries ran out): the time of that request
    is still published on the state branch, so that the next apply (another runner) keeps the pace."""
    root = world.origin.clone("a")
    world.emu.faults.inject("error", times=5)  # every attempt of the first batch: a 5xx
    run = world.apply(root)  # the failure stops the run, and its report says what was recorded before it
    assert run.report.exit_code == 1 and run.report.aborted is not None and "1580101" in run.report.aborted
    assert len(world.imports()) == 5
    last = world.imports()[-1].time
    state = open_store(world.origin.clone("fresh"), validate_root(root).settings).load()
    assert state is not None and state.meta.last_import_request is not None
    assert parse_time(state.meta.last_import_request).timestamp() == pytest.approx(last, abs=0.01)
    assert len(state.journal) == 1  # the batch in flight is left for the next apply to settle
