"""`state.backend: postgres` through the command line: `state migrate --to postgres` and back (lossless),
`state history` (which commit set a value; text, JSON, redacted; what local keeps), and two real `syncer
apply` processes sharing one database and one emulator on loopback, one SIGKILLed: no 429, no lock left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorServer
from syncer.gitinfo import GitInfo
from syncer.load.settings import Settings, StateSettings
from syncer.state.git import open_git_store
from syncer.state.local.store import LocalStateStore
from tests.apply.conftest import world
from tests.apply.test_run import World, use_postgres

__all__ = ["world"]  # the fixture: the example root and an emulator on a ManualClock
from tests.apply.test_shared_quota import IMPORT, make_roots, scaled_emulator
from tests.bench.generate import open_id
from tests.state.gitrepo import Repo, isolate_git
from tests.state.test_postgres import image

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_migrate_to_postgres_and_back_is_lossless(world: World, pg_dsn: str, tmp_path: Path) -> None:
    world.apply(git=GitInfo("a" * 40, "aaaaaaa", False))
    settings = world.root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("backend: local", "backend: local\n  name: example"))
    source = LocalStateStore(world.root / ".syncer" / "state")
    people = {"format": 1, "identity": source.load().identity._asdict(), "people": {}}  # type: ignore[union-attr]
    (source.path / "people.json").write_text(json.dumps(people))  # a people cache travels too
    before = image(source.load())
    code, out = run("state", "migrate", "--root", str(world.root), "--to", "postgres")
    assert code == 0 and "to postgres:example" in out, out
    assert pg_dsn not in out
    code, out = run("state", "migrate", "--root", str(world.root), "--to", "postgres")
    assert code == 1 and "already holds a state" in out
    settings.write_text(settings.read_text().replace("backend: local", "backend: postgres"))
    assert world.plan().empty  # the database's state is the same state: nothing to do
    code, out = run("state", "show", "--root", str(world.root))
    assert code == 0 and "State at postgres:example" in out and "215 values, 60 rows" in out, out
    back = tmp_path / "back"
    code, out = run("state", "migrate", "--root", str(world.root), "--to", "local", "--state", str(back))
    assert code == 0 and f"to {back}" in out, out
    again = LocalStateStore(back)
    assert image(again.load()) == before
    assert again.read_people() == source.read_people() == people


def test_history_tells_which_commit_set_a_value(world: World, pg_dsn: str) -> None:
    use_postgres(world.root)
    world.apply(git=GitInfo("a" * 40, "aaaaaaa", False))
    sales = world.root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("target: 45", "target: 46"))
    world.apply(git=GitInfo("b" * 40, "bbbbbbb", False))
    code, out = run("state", "history", "--root", str(world.root), "--reviewee", "alice", "--field", "target")
    assert code == 0, out
    assert "alice (" in out and "nps (" in out and "target (" in out
    first, second = out.index('set to "45"'), out.index('set to "46"')
    assert first < second
    assert "commit aaaaaaaaaaaa" in out[first:second] and "commit bbbbbbbbbbbb" in out[second:]
    assert "keeps every change" in out
    code, out = run(
        "state", "history", "--root", str(world.root), "--reviewee", "alice", "--field", "target", "--format", "json",
        "--redact-values",
    )  # fmt: skip
    doc = json.loads(out)
    assert doc["complete"] is True and doc["redacted"] is True
    nps = [c for c in doc["changes"] if c["metric_name"] == "nps"]
    assert [c["commit"] for c in nps] == ["a" * 40, "b" * 40]
    assert all(c["value"] is None for c in doc["changes"]) and '"value": "' not in out


def test_history_from_the_local_backend_says_what_it_does_not_keep(world: World) -> None:
    world.apply(git=GitInfo("a" * 40, "aaaaaaa", False))
    sales = world.root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("target: 45", "target: 46"))
    world.apply(git=GitInfo("b" * 40, "bbbbbbb", False))
    code, out = run("state", "history", "--root", str(world.root), "--reviewee", "alice", "--metric", "nps")
    assert code == 0, out
    assert 'set to "46"' in out and "commit bbbbbbbbbbbb" in out and '"45"' not in out
    assert "last change only" in out and "earlier values and forgotten keys are not kept" in out
    code, out = run("state", "history", "--root", str(world.root), "--reviewee", "nobody-at-all")
    assert code == 0 and "No change of a managed value matches." in out


@pytest.fixture
def two_roots(tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[Path], Emulator]]:
    roots = make_roots(tmp_path, "postgres")
    emu = scaled_emulator()
    with EmulatorServer(emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        for root in roots:
            settings = root / "syncer.yaml"
            settings.write_text(settings.read_text() + f"import_record_name: syncer {root.name}\n")
        yield roots, emu


def test_two_applies_at_once_one_sigkilled_no_429_and_no_lock_left(two_roots: tuple[list[Path], Emulator]) -> None:
    """The issue's end to end: two roots, one database, one emulator, two `syncer apply` processes at once.
    The first is SIGKILLed after its first batch: the second finishes; neither meets a 429; the killed one's
    lock is gone with its session (`state show` names no live holder), and its rerun needs no unlock."""
    roots, emu = two_roots
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs = [  # the plans (stdout) are long: not piped, or a full pipe would stall the process
        subprocess.Popen(
            [sys.executable, "-m", "syncer", "apply", "--root", str(root), "--auto-approve"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for root in roots
    ]
    victim, survivor = procs
    try:
        assert victim.stderr is not None
        for line in victim.stderr:
            if "rows 50/200 done" in line:
                break
        victim.kill()
        victim.wait()
        out, err = survivor.communicate(timeout=120)
        assert survivor.returncode == 0, (out, err)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    code, shown = run("state", "show", "--root", str(roots[0]), "--format", "json")
    assert code == 0, shown
    lock = json.loads(shown)["lock"]
    assert lock is None or lock["status"] == "dead", lock
    code, out = run("apply", "--root", str(roots[0]), "--auto-approve")
    assert code == 0, out
    assert [e for e in emu.requests() if e.status == 429] == []
    assert sum(1 for e in emu.requests(IMPORT) if e.code == 0) >= 8
    code, out = run("state", "history", "--root", str(roots[0]), "--reviewee", open_id(0), "--format", "json")
    changes = json.loads(out)["changes"]
    assert changes and {c["import_record_name"] for c in changes} == {"syncer sales"}


def test_migrate_from_postgres_to_git_pushes_the_state_branch(
    world: World, pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With state.backend postgres, `--to git` copies the database's state onto state.branch of the remote
    (it once wrote a local directory instead, and said to switch to git)."""
    world.apply(git=GitInfo("a" * 40, "aaaaaaa", False))
    use_postgres(world.root)
    source = LocalStateStore(world.root / ".syncer" / "state")
    code, out = run("state", "migrate", "--root", str(world.root), "--to", "postgres", "--state", str(source.path))
    assert code == 0, out
    isolate_git(monkeypatch, tmp_path)
    repo = Repo(tmp_path / "git")
    root = repo.clone("runner")
    shutil.rmtree(root)
    shutil.copytree(world.root, root, ignore=shutil.ignore_patterns(".syncer"))
    code, out = run("state", "migrate", "--root", str(root), "--to", "git")
    assert code == 0 and "to git:" in out, out
    assert repo.branch_commits("syncer-state") and not (root / ".syncer").exists()
    branch = open_git_store(root, Settings(state=StateSettings(backend="git"))).load()
    assert image(branch) == image(source.load())
