"""The run and the pull/merge request a card links to (syncer.notify.links), from GitHub Actions' and GitLab CI's
variables; anything that is not a plain http(s) URL is left out."""

from __future__ import annotations

from syncer.notify.links import Links, ci_links


def test_github_run_and_pull_request() -> None:
    env = {"GITHUB_REPOSITORY": "hr/metrics", "GITHUB_RUN_ID": "99", "GITHUB_REF": "refs/pull/7/merge"}
    assert ci_links(env) == Links(
        "https://github.com/hr/metrics/actions/runs/99", "https://github.com/hr/metrics/pull/7"
    )
    env |= {"GITHUB_SERVER_URL": "https://ghe.example/", "GITHUB_REF": "refs/heads/main"}
    assert ci_links(env) == Links("https://ghe.example/hr/metrics/actions/runs/99", None)


def test_gitlab_job_and_merge_request() -> None:
    env = {
        "CI_JOB_URL": "https://gitlab.example/hr/metrics/-/jobs/5",
        "CI_MERGE_REQUEST_IID": "12",
        "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example/hr/metrics",
    }
    assert ci_links(env) == Links(
        "https://gitlab.example/hr/metrics/-/jobs/5", "https://gitlab.example/hr/metrics/-/merge_requests/12"
    )


def test_no_ci_and_odd_values_give_no_links() -> None:
    assert ci_links({}) == Links(None, None)
    assert ci_links({"CI_JOB_URL": "javascript:alert(1)"}) == Links(None, None)
    assert ci_links({"CI_JOB_URL": "https://x.example/a b"}) == Links(None, None)
    assert ci_links({"GITHUB_REPOSITORY": "hr/metrics", "GITHUB_RUN_ID": "9; rm"}) == Links(None, None)
