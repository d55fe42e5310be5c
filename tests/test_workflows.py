"""The CI workflows keep their promises: secrets only in jobs bound to an environment, `actions: write`
only in the job that dispatches and holds no secret, checkouts that keep no token, and a sticky comment
found by its author as well as its marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

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
