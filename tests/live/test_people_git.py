"""People by email with `state.backend: git`: `syncer people resolve` in one clone puts the cache on the state
branch; a fresh clone with no Feishu credentials (a fork's pull request) validates and plans with it, and an
apply keeps it. Against a local bare remote and the emulator served on loopback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorServer
from tests.example import fast_imports
from tests.gitenv import isolate_git, state_commits
from tests.live.test_people import DEV, GRACE, email_root

BATCH_GET_ID = "users.batch_get_id"


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@dataclass
class Origin:
    """A bare remote whose main branch holds the example root with `state.backend: git` and people given by
    email only."""

    tmp: Path
    bare: Path

    def clone(self, name: str) -> Path:
        """What actions/checkout makes: depth 1, detached HEAD."""
        dest = self.tmp / name
        git("clone", "-q", "--depth", "1", f"file://{self.bare}", str(dest))
        git("checkout", "-q", "--detach", cwd=dest)
        return dest / "metrics"

    def show(self, path: str) -> str:
        return git("show", f"syncer-state:{path}", cwd=self.bare)

    def state_commits(self) -> list[str]:
        return state_commits(self.bare)

    def syncer_refs(self) -> str:
        return git("for-each-ref", "--format=%(refname)", "refs/syncer/", cwd=self.bare)


@pytest.fixture
def origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Origin:
    isolate_git(monkeypatch, tmp_path)
    for var in (
        "GITHUB_TOKEN",
        "SYNCER_GIT_TOKEN",
        "GITHUB_ACTIONS",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ID",
        "GITHUB_SERVER_URL",
        "GIT_CONFIG_COUNT",
        "CI",
        "FEISHU_APP_ID",
        "FEISHU_APP_SECRET",
    ):
        monkeypatch.delenv(var, raising=False)
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git("clone", "-q", str(bare), str(seed))
    root = email_root(seed / "metrics", failing=False, backend="git")
    fast_imports(root)
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "metrics", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    return Origin(tmp_path, bare)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator on loopback. FEISHU_BASE_URL stays set (it is no secret: CI sets the target too);
    credentials are set only where a test needs them."""
    emu = Emulator(import_per_minute=1000)
    with EmulatorServer(emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        yield emu


def test_resolved_in_one_clone_then_validated_and_planned_in_a_fresh_one_without_credentials(
    origin: Origin, served: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = origin.clone("before")
    code, out = run("validate", "--root", str(before))
    assert code == 1 and "unresolved-person" in out and "syncer people resolve" in out, out  # no state yet

    ops = origin.clone("ops")
    with monkeypatch.context() as m:  # the one step with Feishu credentials
        m.setenv("FEISHU_APP_ID", "cli_emulator")
        m.setenv("FEISHU_APP_SECRET", "emulator_secret")
        code, out = run("people", "resolve", "--root", str(ops))
    assert code == 0, out
    assert f"grace.lead  Grace.Lead@example.com  {GRACE}" in out
    assert "Cache: git:origin/syncer-state/people.json" in out
    assert len(origin.state_commits()) == 1 and origin.syncer_refs() == ""  # one commit; lock released
    assert git("ls-tree", "--name-only", "syncer-state", cwd=origin.bare).split() == [
        "batches.jsonl",
        "journal.jsonl",
        "log.jsonl",
        "meta.json",
        "people.json",
        "rejections.jsonl",
    ]
    cache = json.loads(origin.show("people.json"))
    assert cache["people"]["dev.patel@example.com"]["user_id"] == DEV
    assert cache["identity"]["app_id"] == "cli_emulator"
    assert json.loads(origin.show("meta.json"))["identity"] == cache["identity"]  # the state of this target
    assert not (ops / ".syncer").exists() and git("status", "--porcelain", cwd=ops.parent) == ""
    asked = len(served.requests(BATCH_GET_ID))

    fork = origin.clone("fork-pr")  # a fresh checkout, no Feishu credentials at all
    code, out = run("validate", "--root", str(fork))
    assert code == 0 and "unresolved-person" not in out, out
    code, out = run("plan", "--root", str(fork), "--format", "json", "--detailed-exitcode")
    assert code == 2, out
    plan = json.loads(out)
    assert plan["state"]["serial"] == json.loads(origin.show("meta.json"))["serial"]
    assert any(c["reviewee"] == DEV for c in plan["changes"])  # dev.patel, by the cached ID
    assert any(v[3] == GRACE for row in plan["changes"] for v in row["values"])  # grace.lead as a person value
    assert plan["names"]["people"][DEV] == "dev.patel" and plan["names"]["people"][GRACE] == "grace.lead"
    code, out = run("plan", "--root", str(fork))
    assert code == 0 and "dev.patel" in out, out
    assert len(served.requests(BATCH_GET_ID)) == asked  # nothing asked Feishu
    assert not (fork / ".syncer").exists() and git("status", "--porcelain", cwd=fork.parent) == ""

    # An apply (credentials, from yet another clone) reads the cache from the branch, and keeps it there.
    with monkeypatch.context() as m:
        m.setenv("FEISHU_APP_ID", "cli_emulator")
        m.setenv("FEISHU_APP_SECRET", "emulator_secret")
        code, out = run("apply", "--root", str(origin.clone("ci")), "--auto-approve")
    assert code == 0, out
    assert json.loads(origin.show("people.json")) == cache
    code, out = run("plan", "--root", str(origin.clone("after")), "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out
    code, out = run("state", "show", "--root", str(fork))
    assert code == 0 and "git:origin/syncer-state" in out, out

    with monkeypatch.context() as m:  # resolving again changes nothing: no new commit
        m.setenv("FEISHU_APP_ID", "cli_emulator")
        m.setenv("FEISHU_APP_SECRET", "emulator_secret")
        commits = origin.state_commits()
        code, out = run("people", "resolve", "--root", str(ops))
    assert code == 0 and "(unchanged)" in out, out
    assert origin.state_commits() == commits and origin.syncer_refs() == ""


def test_a_state_branch_out_of_reach_is_a_warning_and_email_only_people_stay_unresolved(
    origin: Origin, tmp_path: Path
) -> None:
    clone = origin.clone("offline")
    git("remote", "set-url", "origin", str(tmp_path / "nowhere.git"), cwd=clone.parent)
    code, out = run("validate", "--root", str(clone))
    assert code == 1 and "Traceback" not in out, out
    assert "could not read the people cache of git:origin/syncer-state" in out
    assert "unresolved-person" in out and "syncer people resolve" in out

    outside = email_root(tmp_path / "copy", failing=False, backend="git")  # not in a git work tree
    code, out = run("validate", "--root", str(outside))
    assert code == 1 and "not inside a git work tree" in out and "unresolved-person" in out, out
