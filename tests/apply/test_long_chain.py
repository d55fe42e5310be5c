"""A first apply too long for one CI job, chained across runs: thousands of batches at Feishu's real quota
(10 imports a minute: 2,000 batches are 3.3 hours; CI runs this at 2,000, the suite at 120), each run
stopped by --max-duration (exit 3) and the next one started from a fresh clone, as the apply workflow's
follow-up dispatch does, with the git backend. Time is a ManualClock shared by the emulator, the client
and the pacer: hours of pacing take no real time.

What must hold at the end: every value is in Feishu once, no batch was sent twice (one import record and one
client token a batch), the requests add up to ceil(rows / 50) over all runs, each run stopped before its
limit, and a plan from a fresh clone has nothing left to do."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from syncer.apply.run import Clocks, RunOptions, run_apply
from syncer.emulator import Emulator, ManualClock
from syncer.gitinfo import NO_GIT
from syncer.load.validate import validate_root
from syncer.model import Identity
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.state import open_store
from tests.bench.bench_apply import SEMESTER, bench_tenant, make_root
from tests.emulated import emulator_client
from tests.gitenv import isolate_git, state_commits

#: The suite's run is short (120 batches, a few seconds of git a run); CI runs it at 2,000 batches
#: (100,000 rows, 3.3 hours of pacing; about 3 minutes of git pushes) next to the rest of the suite:
#: `.ci/run` sets SYNCER_LONG_CHAIN_BATCHES=2000.
BATCHES = int(os.environ.get("SYNCER_LONG_CHAIN_BATCHES", "120"))
#: --max-duration of each run: a quarter of the whole (500 batches of 6 s, 50 minutes, at 2,000), so the
#: apply takes four runs and three hand-overs.
CHUNK = 6.0 * math.ceil(BATCHES / 4)


def git(*args: str, cwd: Path | None = None) -> str:
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert p.returncode == 0, f"git {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}"
    return p.stdout.strip()


@pytest.fixture
def origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bare remote whose main branch holds a generated root of BATCHES x 50 rows, state on a git branch."""
    isolate_git(monkeypatch, tmp_path)
    for var in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL", "GIT_CONFIG_COUNT", "CI"):
        monkeypatch.delenv(var, raising=False)
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    # Thousands of pushes pass git's threshold for an automatic gc, which a local bare repository runs in
    # the background, racing the next run's clone (and in the foreground, at every push, since the squashed
    # writes stay loose): a hosting service does its maintenance out of the push path, so none here.
    git("config", "gc.auto", "0", cwd=bare)
    seed = tmp_path / "seed"
    git("clone", "-q", str(bare), str(seed))
    root = make_root(seed, BATCHES * 50)
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "state:\n  backend: git\n", encoding="utf-8")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "metrics", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    return bare


def test_a_first_apply_of_thousands_of_batches_chains_across_runs(origin: Path, tmp_path: Path) -> None:
    rows = BATCHES * 50
    clock = ManualClock()
    emu = Emulator(bench_tenant(rows, import_per_minute=10), clock=clock, sleep=clock.sleep)
    runs: list[Any] = []
    expected: dict[tuple[str, ...], str] | None = None
    while len(runs) < 20:
        clone = tmp_path / f"run-{len(runs)}"
        git("clone", "-q", str(origin), str(clone))  # every run starts from a fresh checkout
        root = clone / "metrics"
        result = validate_root(root)
        assert result.ok and result.desired is not None, result.problems[:3]
        if expected is None:
            expected = {tuple(k): v.value for k, v in result.desired.open_values().items()}
            assert len(expected) == rows * 4  # 4 fields a row
        started = clock()
        run = run_apply(
            store=open_store(root, result.settings),
            client=emulator_client(emu, clock),
            settings=result.settings,
            desired=result.desired,
            git=NO_GIT,
            root="metrics",
            commit_is_ancestor=lambda a, b: True,
            confirm=lambda plan: True,
            clocks=Clocks(timer=clock, sleep=clock.sleep),
            options=RunOptions(max_duration=CHUNK),
        )
        runs.append(run.report)
        assert clock() - started <= CHUNK  # stopped before its limit, never after
        if run.report.exit_code == 0:
            break
        assert run.report.exit_code == 3 and run.report.stopped_early and run.report.rows_left > 0

    assert runs[-1].exit_code == 0
    want = math.ceil(rows / 50)
    assert len(runs) >= 4  # three hand-overs at least
    per_run = CHUNK / 6  # imports a run fits at 10 a minute (the first of a later run waits for the pace)
    assert all(r.requests >= per_run - 1 for r in runs[:-1])  # each run as long as its limit allows
    assert sum(r.requests for r in runs) == want  # no request spent twice over the chain
    records = emu.import_records()
    assert len(records) == want
    imports = emu.requests("metric_details.import")
    assert len(imports) == want and len({e.client_token for e in imports}) == want  # nothing sent twice
    held = {
        (v.semester_id, v.reviewee_user_id, v.metric_id, v.field_id): (v.field_value or "").rstrip("%")
        for v in emu.values(SEMESTER)
        if v.source == "import"
    }
    assert held == expected  # every value landed, once

    fresh = tmp_path / "after"
    git("clone", "-q", str(origin), str(fresh))
    result = validate_root(fresh / "metrics")
    assert result.desired is not None
    store = open_store(fresh / "metrics", result.settings)
    plan = make_plan(
        result.desired,
        store.load(),
        PlanOptions(
            safety=result.settings.safety,
            git=NO_GIT,
            target=Identity("127.0.0.1", "cli_emulator", "open_id"),
            state_location=store.location,
        ),
    )
    assert plan.changes == () and plan.counts.values_managed == rows * 4
    assert len(state_commits(origin)) == len(runs)  # one squashed commit an apply
