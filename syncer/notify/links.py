"""Links a card carries, from the CI's environment: the run (GitHub Actions: GITHUB_SERVER_URL, GITHUB_REPOSITORY,
GITHUB_RUN_ID; GitLab CI: CI_JOB_URL) and the pull request or merge request (GitHub: the PR number in
GITHUB_REF `refs/pull/N/merge`; GitLab: CI_MERGE_REQUEST_PROJECT_URL and CI_MERGE_REQUEST_IID). Only https
and http URLs without spaces or controls are kept: anything else is left out, never shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

_URL = re.compile(r"https?://[!-~]+\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_PULL_REF = re.compile(r"refs/pull/([0-9]+)/(merge|head)\Z")


class Links(NamedTuple):
    run: str | None = None
    change: str | None = None  # the pull request or merge request


def _url(text: str | None) -> str | None:
    return text if text and _URL.match(text) else None


def ci_links(env: Mapping[str, str]) -> Links:
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if repo and run_id and _DIGITS.match(run_id):
        pull = _PULL_REF.match(env.get("GITHUB_REF", ""))
        return Links(
            run=_url(f"{server}/{repo}/actions/runs/{run_id}"),
            change=_url(f"{server}/{repo}/pull/{pull.group(1)}") if pull else None,
        )
    iid, project = env.get("CI_MERGE_REQUEST_IID", ""), env.get("CI_MERGE_REQUEST_PROJECT_URL", "")
    change = _url(f"{project.rstrip('/')}/-/merge_requests/{iid}") if iid and _DIGITS.match(iid) and project else None
    return Links(run=_url(env.get("CI_JOB_URL")), change=change)
