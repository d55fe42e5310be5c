"""The CI workflows keep their promises: secrets only in jobs bound to an environment, `actions: write`
only in the job that dispatches and holds no secret, checkouts that keep no token, a sticky comment found by
its author as well as its marker, and a plan job that reports on every pull request and plans only when the
metrics root changed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.gitenv import isolate_git
from tests.paths import REPO
from tests.workflowfiles import SHA, load, triggers, workflow_jobs

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_used_only_by_jobs_in_an_environment(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        if "secrets." in yaml.safe_dump(job):
            assert job.get("environment") in ("feishu", "feishu-read"), f"{path.name}: {name} reads secrets"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_a_job_without_secrets_may_write_actions(path: Path) -> None:
    doc = load(path)
    assert "actions" not in (doc.get("permissions") or {})
    for name, job in doc["jobs"].items():
        if (job.get("permissions") or {}).get("actions") == "write":
            text = yaml.safe_dump(job)
            assert "secrets." not in text and "environment" not in job and "syncer " not in text, name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


def test_the_sticky_comment_is_found_by_marker_and_by_the_bot_as_its_author() -> None:
    (step,) = [s for s in workflow_jobs("metrics-plan.yml")["plan"]["steps"] if s.get("name") == "Sticky PR comment"]
    script = step["run"]
    assert 'startswith("<!-- syncer:plan -->")' in script
    assert '.user.login == "github-actions[bot]"' in script


def test_the_drift_job_reads_without_waiting_for_approval_and_the_plan_job_has_no_secret() -> None:
    assert workflow_jobs("metrics-drift.yml")["drift"]["environment"] == "feishu-read"
    assert "secrets." not in yaml.safe_dump(workflow_jobs("metrics-plan.yml"))
    assert workflow_jobs("metrics-apply.yml")["apply"]["environment"] == "feishu"


# -- the plan job decides inside whether the metrics root changed -------------------------------------------


def _changes_script(workflow: str) -> str:
    (step,) = [s for s in workflow_jobs(workflow)["plan"]["steps"] if s.get("id") == "changes"]
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
        steps = {s.get("name", s.get("uses")): s for s in workflow_jobs(workflow)["plan"]["steps"]}
        for name in ("Install syncer", "Validate", "Plan", "Sticky PR comment"):
            assert str(steps[name]["if"]).startswith("steps.changes.outputs.changed == 'true'"), (workflow, name)
        fail = steps["Fail on invalid YAML or a plan apply would refuse"]["if"]
        assert fail.startswith("steps.changes.outputs.changed == 'true' && ("), workflow


def test_both_plan_workflows_upload_the_html_plan_and_link_it() -> None:
    for workflow in ("metrics-plan.yml", "syncer.yml"):
        steps = {s.get("name"): s for s in workflow_jobs(workflow)["plan"]["steps"]}
        assert "--format html --out plan.html" in steps["HTML plan"]["run"]
        upload = steps["Upload the HTML plan"]
        assert upload["with"]["path"] == "plan.html" and upload["id"] == "html"
        link = "${{ steps.html.outputs.artifact-url }}"
        assert steps["Link the HTML plan from the step summary"]["env"]["HTML_URL"] == link
        comment = steps["Sticky PR comment"]
        assert comment["env"]["HTML_URL"] == link and '"$HTML_URL" >> comment.md' in comment["run"]
    install = {s.get("name"): s for s in workflow_jobs("syncer.yml")["plan"]["steps"]}["Install syncer"]
    assert install["with"]["extras"] == "html"  # the page needs the html extra


def test_the_apply_and_drift_steps_get_the_webhook_secrets_for_the_cards() -> None:
    """The README's `notify: {webhook_env: SYNCER_FEISHU_WEBHOOK, ...}` works with the shipped workflows: the
    steps that post cards get the variables from secrets; the plan job, which must hold no secret, does not."""
    wanted = {
        "SYNCER_FEISHU_WEBHOOK": "${{ secrets.SYNCER_FEISHU_WEBHOOK }}",
        "SYNCER_FEISHU_WEBHOOK_SECRET": "${{ secrets.SYNCER_FEISHU_WEBHOOK_SECRET }}",
    }
    for workflow, job, step in (
        ("syncer.yml", "apply", "Apply"),
        ("syncer.yml", "drift", "Drift report"),
        ("metrics-apply.yml", "apply", "Apply"),
        ("metrics-drift.yml", "drift", "Drift report"),
    ):
        jobs = workflow_jobs(workflow)
        steps = {s.get("name"): s for s in jobs[job]["steps"]}
        env = steps[step]["env"]
        assert {k: env.get(k) for k in wanted} == wanted, (workflow, job)
    declared = triggers(load(REPO / ".github" / "workflows" / "syncer.yml"))["workflow_call"]["secrets"]
    assert all(declared[k]["required"] is False for k in wanted)
    assert "SYNCER_FEISHU_WEBHOOK" not in yaml.safe_dump(workflow_jobs("syncer.yml")["plan"])


def test_the_release_builds_without_a_token_and_publishes_with_trusted_publishing() -> None:
    doc = load(REPO / ".github" / "workflows" / "release.yml")
    assert triggers(doc)["push"]["tags"] == ["v*"]
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
