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


def base_url_option(f: F) -> F:
    return click.option(
        "--base-url",
        default=None,
        metavar="URL",
        help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url (https, or plain http "
        "to loopback only).",
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
