"""What commands share: the state store of a root (opened once, so that validation's people cache and the
command read one view of it), settings and catalog for the `state` commands, and the paced live reader."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from syncer.text import plural

if TYPE_CHECKING:
    from syncer.apply.outcome import StopRequest
    from syncer.cli.progress import Printer
    from syncer.gitinfo import GitInfo
    from syncer.i18n import Language
    from syncer.live.reader import LiveReader
    from syncer.load.people import PeopleSource
    from syncer.load.settings import Settings
    from syncer.load.validate import ValidationResult
    from syncer.model import Catalog
    from syncer.state.protocols import StateStore


def load_config(
    root: Path, shown: str, *, redact: bool = False, catalog_required: bool = False
) -> tuple[Settings, Catalog]:
    """syncer.yaml and catalog.yaml of a root, for commands that need no data files: any error in them is
    printed (file:line:col) and refuses the command; nothing runs on defaults that hide a typo. A root
    without catalog.yaml is no error here: the state commands then show IDs without aliases."""
    from syncer.errors import RefusedError
    from syncer.load.catalog import load_catalog
    from syncer.load.settings import load_settings
    from syncer.report.problems import render_text

    settings, problems = load_settings(root, shown)
    errors = [p for p in problems if p.severity == "error"]
    catalog, cat_problems = load_catalog(root, shown, settings)
    if not errors:  # a catalog read with broken settings only repeats their errors
        errors = [
            p for p in cat_problems if p.severity == "error" and (catalog_required or p.code != "missing-catalog")
        ]
    if errors:
        click.echo(render_text(errors, redact=redact), err=True)
        which = "syncer.yaml" if any(p in problems for p in errors) else "catalog.yaml"
        raise RefusedError(f"{shown}/{which} is invalid ({plural(len(errors), 'error')}): fix it first")
    return settings, catalog


class StateOpener:
    """The state store of a root, opened at most once: `people` is validation's people-cache factory, and the
    command then works on the very store validation read (for the git backend, one clone's view)."""

    def __init__(self, root: Path, state_path: Path | None) -> None:
        self.root = root
        self.state_path = state_path
        self._store: StateStore | None = None

    def __call__(self, settings: Settings) -> StateStore:
        if self._store is None:
            from syncer.state import open_store

            self._store = open_store(self.root, settings, override=self.state_path)
        return self._store

    def people(self, settings: Settings) -> PeopleSource:
        return self(settings)

    def git_info(self, settings: Settings) -> GitInfo:
        """The commit of the root, and whether it has uncommitted changes (the state's own directory, when it
        lies in the working tree, does not count)."""
        from syncer.gitinfo import git_info
        from syncer.state import local_dir

        state_dir = local_dir(self.root, settings, override=self.state_path)
        return git_info(self.root, exclude=[state_dir] if state_dir is not None else [])


def live_reader(settings: Settings, base_url: str | None, printer: Printer, *, redact: bool = False) -> LiveReader:
    """A paced read client for the target: --base-url, FEISHU_BASE_URL, then target.base_url; credentials
    from FEISHU_APP_ID / FEISHU_APP_SECRET only. `redact`: Feishu's words never show an address asked
    (users/batch_get_id; the other reads send no values)."""
    from syncer.feishu.auth import credentials_from_env
    from syncer.live.reader import LiveReader
    from syncer.urls import resolve_base_url

    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    return LiveReader(base_url=url, credentials=credentials_from_env(), progress=printer.read_event, redact=redact)


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest, printer: Printer) -> Iterator[None]:
    """While the body runs, SIGINT and SIGTERM ask `stop` to stop between import requests (the request in
    flight is finished and recorded). When nothing is being sent, or on a second signal, they stop at once:
    SIGINT as KeyboardInterrupt (exit 130), SIGTERM as syncer.interrupt.Terminated (exit 143)."""
    from syncer.interrupt import stop_at_once

    names = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = names.get(signal.Signals(signum), "SIGINT")
        if stop.request(name):
            printer.line(
                f"{name}: stopping after the request in flight is recorded (again to stop at once; the next "
                "apply settles what is left open)"
            )
            return
        stop_at_once(signum, _frame)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous = {s: signal.signal(s, handler) for s in names}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def stdout_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def readers_language(settings: Settings) -> Language:
    """The language of what syncer writes for people (cards, workbooks, HTML pages): the `language:`
    setting, `auto` following this process's locale (docs/i18n.md)."""
    from syncer.i18n import language_from

    return language_from(settings.language, os.environ)


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("GITHUB_ACTIONS") == "true"


def load_root(opener: StateOpener, *, redact: bool, keep_parsed: bool = False) -> ValidationResult:
    """Validate the root (the people cache of its state included); print the problems; refuse when invalid.
    `keep_parsed`: validate_root's, for a command that reads the data files again."""
    from syncer.cli.options import problems_format, root_display
    from syncer.cli.output import emit
    from syncer.errors import RefusedError
    from syncer.load.validate import validate_root
    from syncer.report.problems import counts_line, render_problems

    shown = root_display(opener.root)
    result = validate_root(opener.root, root_display=shown, people=opener.people, keep_parsed=keep_parsed)
    if result.problems:
        emit(render_problems(result.problems, problems_format(), redact=redact), err=True)
    if not result.ok:
        raise RefusedError(f"{shown} is invalid ({counts_line(result.problems)}): fix it first")
    return result
