"""`syncer gitlab note`: the plan as one sticky merge-request note (syncer.gitlab)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from syncer.cli.main import cli
from syncer.cli.output import say

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cli.group()
def gitlab() -> None:
    """GitLab CI: the plan as one sticky merge-request note."""


def _needed(value: str | None, what: str, flag: str, variable: str) -> str:
    from syncer.errors import ConfigError

    if value is None or not value.strip():
        raise ConfigError(f"no {what}: run this in a merge request pipeline (which sets {variable}) or give {flag}")
    return value.strip()


@gitlab.command()
@click.argument("body_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--api-url", help="GitLab's REST API, …/api/v4. Default: $CI_API_V4_URL.")
@click.option("--project", help="The project's ID or path. Default: $CI_PROJECT_ID.")
@click.option("--merge-request", "mr", type=int, help="The merge request's IID. Default: $CI_MERGE_REQUEST_IID.")
@click.option(
    "--token-env",
    default="GITLAB_TOKEN",
    show_default=True,
    help="The environment variable holding the API token (a project access token with the api scope).",
)
def note(body_file: Path, api_url: str | None, project: str | None, mr: int | None, token_env: str) -> int:
    """Post FILE (`syncer plan --format markdown`) as the merge request's syncer note, updated in place.

    The note to update is the one the token's user wrote that starts with syncer's hidden marker; a note
    anyone else wrote is never edited; without one, a note is created. A body over GitLab's 1,000,000
    characters is cut with a note of what was cut. The token is read from the variable --token-env names,
    never from a flag or a file, and never printed. Values are as the plan wrote them: SYNCER_REDACT=1 (or
    --redact-values) when it ran hides them.
    """
    from syncer.errors import ConfigError
    from syncer.fsio import os_error_text
    from syncer.gitlab.api import TOKEN_ADVICE, Gitlab
    from syncer.gitlab.note import describe, post_sticky
    from syncer.report.plan_markdown import MARKER

    if not _ENV_NAME.fullmatch(token_env):
        raise ConfigError(f"--token-env {token_env!r} is not a variable name like GITLAB_TOKEN")
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise ConfigError(f"the variable {token_env} is not set: store {TOKEN_ADVICE} in it (a masked CI/CD variable)")
    url = _needed(api_url or os.environ.get("CI_API_V4_URL"), "GitLab API URL", "--api-url", "CI_API_V4_URL")
    where = _needed(project or os.environ.get("CI_PROJECT_ID"), "project", "--project", "CI_PROJECT_ID")
    iid_text = str(mr) if mr is not None else os.environ.get("CI_MERGE_REQUEST_IID")
    iid_text = _needed(iid_text, "merge request", "--merge-request", "CI_MERGE_REQUEST_IID")
    if not iid_text.isdigit():
        raise ConfigError(f"CI_MERGE_REQUEST_IID {iid_text[:20]!r} is not a merge request number")
    iid = int(iid_text)
    try:
        body = body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = os_error_text(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"could not read {body_file.as_posix()}: {why}") from None
    if not body.startswith(MARKER):
        raise ConfigError(
            f"{body_file.as_posix()} is not a syncer plan (it does not start with syncer's marker): "
            "write it with `syncer plan --format markdown > FILE`"
        )
    with Gitlab(url, token, token_name=token_env) as api:
        posted = post_sticky(api, project=where, mr=iid, body=body)
    say(describe(posted, iid))
    return 0
