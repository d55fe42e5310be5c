"""The caller workflow the README gives, as a second repository uses it: linted with actionlint and zizmor,
run on every pull request and in the merge queue, the check it produces named in the README, and the
reusable workflow's modes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import REPO
from tests.workflowfiles import SHA, linter, load, triggers, workflow_jobs

PINNED = "3d3c42e5aac5ba805825da76410c181273ba90b1"


def _caller_from_readme() -> str:
    """The caller workflow the README shows (after its `caller-workflow` marker), with a commit filled in."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- caller-workflow -->", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    return textwrap.dedent(block).replace("<commit sha>", PINNED)


@pytest.fixture
def second_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "hr-metrics"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "metrics.yml").write_text(_caller_from_readme())
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_a_second_repository_calls_the_reusable_workflow_with_what_it_declares(second_repo: Path) -> None:
    caller = load(second_repo / ".github" / "workflows" / "metrics.yml")
    assert len(caller["jobs"]) == 1
    (job,) = caller["jobs"].values()
    target, _, ref = job["uses"].partition("@")
    assert target == "feishu-syncer/syncer/.github/workflows/syncer.yml"
    assert SHA.fullmatch(ref.split()[0])
    called = triggers(load(REPO / ".github" / "workflows" / "syncer.yml"))["workflow_call"]
    inputs, secrets = called["inputs"], called.get("secrets", {})
    given = job.get("with", {})
    assert set(given) <= set(inputs)
    assert {n for n, i in inputs.items() if i.get("required")} <= set(given)
    assert set(job.get("secrets", {})) <= set(secrets)
    assert given.get("mode", inputs["mode"]["default"]) == "auto"
    assert given.get("syncer-version", inputs["syncer-version"]["default"]) == ""  # the pinned commit's source
    lines = [ln for ln in _caller_from_readme().splitlines() if ln.strip()]
    assert len(lines) <= 14, "the README promises about a dozen lines"


def test_the_caller_runs_on_every_pull_request_and_in_the_merge_queue(second_repo: Path) -> None:
    """A `paths:` filter on pull_request would leave a pull request that does not touch metrics/ waiting
    for its required check forever; without `merge_group` a merge queue waits for it the same way."""
    on = triggers(load(second_repo / ".github" / "workflows" / "metrics.yml"))
    assert "pull_request" in on and not (on["pull_request"] or {}), "no filter on pull_request"
    assert "merge_group" in on and not (on["merge_group"] or {})
    assert on["push"]["branches"] == ["main"]
    assert "schedule" in on, "the drift mode the README describes runs on a schedule"
    own = triggers(load(REPO / ".github" / "workflows" / "metrics-plan.yml"))
    assert set(own) == {"pull_request", "merge_group"} and not any(own.values())


def _check_name(job_id: str, job: dict[str, Any]) -> str:
    """What GitHub names a job's check: its `name:`, or else its ID."""
    return str(job.get("name", job_id))


def test_the_readme_names_the_check_the_workflows_produce(second_repo: Path) -> None:
    """A job of a called workflow reports as `<caller job> / <called job>`, each by name or else by ID."""
    ((caller_id, caller),) = load(second_repo / ".github" / "workflows" / "metrics.yml")["jobs"].items()
    produced = f"{_check_name(caller_id, caller)} / {_check_name('plan', workflow_jobs('syncer.yml')['plan'])}"
    readme = (REPO / "README.md").read_text()
    (required,) = re.findall(r"require the status check `([^`]+)`", readme)
    assert required == produced == "syncer / plan"


def test_actionlint_accepts_the_call_against_our_workflow_and_action(second_repo: Path) -> None:
    """actionlint checks a local call's inputs against the called workflow, and the action's inputs against
    the action: the second repository gets copies of both and calls them locally."""
    actionlint = linter("actionlint")
    workflows = second_repo / ".github" / "workflows"
    shutil.copy(REPO / ".github" / "workflows" / "syncer.yml", workflows / "syncer.yml")
    shutil.copytree(REPO / ".github" / "actions", second_repo / ".github" / "actions")
    caller = workflows / "metrics.yml"
    text = caller.read_text()
    caller.write_text(re.sub(r"feishu-syncer/syncer/(\.github/workflows/syncer\.yml)@\S+", r"./\1", text))
    assert "./.github/workflows/syncer.yml" in caller.read_text()
    done = subprocess.run([actionlint, "-no-color"], cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    caller.write_text(caller.read_text() + "    with: {mdoe: plan}\n")
    done = subprocess.run([actionlint, "-no-color"], cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 1
    assert "mdoe" in done.stdout


def test_zizmor_finds_nothing_in_the_readmes_caller(second_repo: Path) -> None:
    zizmor = linter("zizmor")
    args = [zizmor, "--offline", "--no-progress", "--color=never", ".github/"]
    done = subprocess.run(args, cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    caller = second_repo / ".github" / "workflows" / "metrics.yml"
    caller.write_text(caller.read_text().replace(PINNED, "main"))  # an unpinned call is a finding
    done = subprocess.run(args, cwd=second_repo, capture_output=True, text=True)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout


def test_the_reusable_workflow_keeps_secrets_to_apply_and_drift_and_installs_with_its_own_action() -> None:
    jobs = workflow_jobs("syncer.yml")
    assert jobs["apply"]["environment"] == "feishu"
    assert "secrets." not in yaml.safe_dump(jobs["plan"])
    for job in jobs.values():
        (install,) = [s for s in job["steps"] if s.get("name") == "Install syncer"]
        assert install["uses"] == "$/.github/actions/syncer"  # this repository at the commit being run
        extras = {"extras": "html"} if job is jobs["plan"] else {}  # the plan job also writes the HTML plan
        assert install["with"] == {"version": "${{ inputs.syncer-version }}", **extras}
        assert "pip install" not in yaml.safe_dump(job)


def test_the_drift_job_only_reads_in_the_read_only_environment_on_a_schedule() -> None:
    drift = workflow_jobs("syncer.yml")["drift"]
    assert drift["environment"] == "feishu-read"
    assert drift["permissions"] == {"contents": "read"}
    assert "github.event_name == 'schedule'" in drift["if"]
    script = "\n".join(str(s.get("run", "")) for s in drift["steps"])
    assert "syncer plan " in script and "--refresh-all" in script and "--detailed-exitcode" in script
    assert "syncer apply" not in script
    assert "2) echo" in script and "exit 1" in script  # drift (exit 2) fails the run, so that GitHub notifies


def _decides(condition: str, mode: str, event: str) -> bool:
    """A job's `if:` of the reusable workflow, evaluated for one mode and event. It reads only the subset of
    GitHub's expression language the workflow uses; anything else fails to evaluate (and the test with it)."""
    known = re.sub(
        r"!contains\(fromJSON\('(\[[^\]]*\])'\), inputs\.mode\)", r"(inputs.mode not in json.loads('\1'))", condition
    )
    python = known.replace("||", " or ").replace("&&", " and ").replace("inputs.mode", "mode")
    python = python.replace("github.event_name", "event")
    return bool(eval(python, {"json": json, "__builtins__": {}}, {"mode": mode, "event": event}))


MODES = {
    ("auto", "pull_request"): {"plan"},
    ("auto", "merge_group"): {"plan"},
    ("auto", "push"): {"apply"},
    ("auto", "workflow_dispatch"): {"apply"},
    ("auto", "schedule"): {"drift"},
    ("plan", "push"): {"plan"},
    ("apply", "pull_request"): {"apply"},
    ("drift", "workflow_dispatch"): {"drift"},
    ("aply", "pull_request"): {"plan"},  # a mode it does not know: the plan job runs and fails (below)
    ("aply", "push"): {"plan"},
}


@pytest.mark.parametrize(("mode", "event"), list(MODES))
def test_the_mode_and_the_event_pick_exactly_one_job(mode: str, event: str) -> None:
    jobs = workflow_jobs("syncer.yml")
    assert {name for name, job in jobs.items() if _decides(job["if"], mode, event)} == MODES[mode, event]
    (check,) = [s for s in jobs["plan"]["steps"] if s.get("name") == "Check the mode"]
    if "plan" in MODES[mode, event]:
        assert _decides(check["if"], mode, event) == (mode not in ("auto", "plan", "apply", "drift"))
    assert "exit 1" in check["run"]
