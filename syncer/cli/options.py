"""The options several commands share, and small helpers of the command line."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def root_option(f: F) -> F:
    return click.option(
        "--root",
        "root",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("metrics"),
        show_default=True,
        help="The metrics root: the directory holding syncer.yaml and catalog.yaml.",
    )(f)


def state_option(f: F) -> F:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Use this state directory (relative to the current directory) instead of state.path of "
        "syncer.yaml, e.g. to rehearse against another target.",
    )(f)


def redact_option(f: F) -> F:
    return click.option(
        "--redact-values",
        "redact",
        is_flag=True,
        envvar="SYNCER_REDACT",
        help="Hide every value in the output (also SYNCER_REDACT=1): values are personal data.",
    )(f)


def cache_option(f: F) -> F:
    return click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        help="Check every data file again instead of reusing the check cache, and (plan) decode the state's "
        "files again (also SYNCER_CACHE=0). The cache lives outside the repository ($SYNCER_CACHE_DIR, else "
        "~/.cache/syncer) and is safe to delete.",
    )(f)


def check_cache_dir(no_cache: bool) -> Path | None:
    """Where validation keeps each data file's checked contents (and plan the state's decoded shards); None
    when turned off."""
    if no_cache:
        return None
    from syncer.load.cache import cache_base

    return cache_base(os.environ)


def base_url_option(f: F) -> F:
    return click.option(
        "--base-url",
        default=None,
        metavar="URL",
        help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url (https, or plain http "
        "to loopback only).",
    )(f)


def refresh_options(f: F) -> F:
    """--refresh, --refresh-all, --refresh-budget: read Feishu's live values first (plan and apply)."""
    f = click.option(
        "--refresh-budget",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        metavar="N",
        help="At most N metric_details/query requests (50 reviewees each, 20 a minute) for --refresh; "
        "rows beyond it are left unchecked, and the drift section says so.",
    )(f)
    f = click.option(
        "--refresh-all",
        is_flag=True,
        help="Like --refresh, for every row the state manages in open semesters (within --refresh-budget).",
    )(f)
    return click.option(
        "--refresh",
        is_flag=True,
        help="Also read the live values of the rows the plan touches (metric_details/query; needs FEISHU_APP_ID "
        "and FEISHU_APP_SECRET): values changed in Feishu outside syncer become repairs (the YAML's value is sent "
        "again), and a drift section lists them with the fields admins own.",
    )(f)


def targeting_options(f: F) -> F:
    """--semester, --path: plan (and apply) part of the root."""
    f = click.option(
        "--path",
        "target_paths",
        multiple=True,
        metavar="GLOB",
        help="Plan only the data files matching GLOB, relative to the root (repeatable; `**` spans "
        "directories). Values in other files are left as they are in the state; values in no file any more "
        "are not forgotten. Validation still checks the whole root.",
    )(f)
    return click.option(
        "--semester",
        "target_semesters",
        multiple=True,
        metavar="ALIAS|ID",
        help="Plan only this semester (repeatable). Other semesters are left as they are in the state.",
    )(f)


def default_format(choices: Sequence[str], fallback: str = "text") -> str:
    """`github` under GitHub Actions when the command offers it, else `fallback`."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and "github" in choices:
        return "github"
    return fallback


def problems_format() -> Literal["text", "github"]:
    """How commands that are not about problems list them: annotations under GitHub Actions, else text."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def root_display(root: Path) -> str:
    """The root as messages name it: as given, with POSIX separators."""
    return os.path.normpath(root.as_posix()).replace(os.sep, "/")
