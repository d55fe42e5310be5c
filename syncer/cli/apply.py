"""`syncer apply` and `syncer demo`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from syncer.cli.context import StateOpener, is_ci, live_reader, stdout_color, stop_on_signals
from syncer.cli.main import cli
from syncer.cli.notify import notify_apply, notify_failure
from syncer.cli.options import (
    base_url_option,
    problems_format,
    redact_option,
    refresh_options,
    root_display,
    root_option,
    state_option,
    targeting_options,
)
from syncer.cli.output import emit, say
from syncer.cli.progress import Printer
from syncer.text import inert_lines, plural

if TYPE_CHECKING:
    from syncer.apply.run import ApplyRun, Refresher
    from syncer.load.settings import Settings
    from syncer.model import DesiredState
    from syncer.plan.model import LiveView, Plan
    from syncer.state.model import State


@cli.command()
@root_option
@state_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Apply this saved plan (from `syncer plan --out FILE`) only if it is still what an apply "
    "would do now: same state (lineage, serial), same values; says why not otherwise.",
)
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking. Required when there is no terminal to ask on (CI)."
)
@click.option(
    "--max-duration",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="Stop before a request that would end after this many seconds; exit 3 with the state "
    "consistent (run apply again to continue).",
)
@base_url_option
@click.option(
    "--retry-rejected", is_flag=True, help="Send rows Feishu rejected before even though their values have not changed."
)
@click.option(
    "--preflight/--no-preflight",
    default=None,
    help="Before importing, check the plan's reviewees with reviewees/query (and their projects with "
    "activity/query) and hold back for this run, unrecorded, the rows of those an import would be refused "
    "for (default: on in CI, off elsewhere).",
)
@refresh_options
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write the apply report as JSON to FILE (every batch and import record, every rejected row; "
    "no values), e.g. as a CI artifact.",
)
@redact_option
@click.option(
    "--force", is_flag=True, help="Apply despite safety thresholds and the ancestor check of the last applied commit."
)
@targeting_options
def apply(
    root: Path,
    state_path: Path | None,
    plan_file: Path | None,
    auto_approve: bool,
    max_duration: float | None,
    base_url: str | None,
    retry_rejected: bool,
    preflight: bool | None,
    refresh: bool,
    refresh_all: bool,
    refresh_budget: int,
    report_file: Path | None,
    redact: bool,
    force: bool,
    target_semesters: tuple[str, ...],
    target_paths: tuple[str, ...],
) -> int:
    """Plan, confirm, then push the changed values to Feishu and record them in the state.

    Credentials come from FEISHU_APP_ID and FEISHU_APP_SECRET only. Requests are paced evenly to
    target.import_per_minute (10 a minute on Feishu), each journaled before it is sent so a killed run
    loses nothing: the next apply settles it first. Exit 0: done; 1: error or refused; 3: stopped by
    --max-duration with work left; 4: done, but Feishu rejected some rows (listed with file:line, code and
    what to do; they are not sent again until they change); 130/143: stopped by SIGINT/SIGTERM after the
    request in flight was recorded.

    --semester and --path apply part of the root (see `syncer plan --help`); with --plan FILE the saved
    plan's own targeting is used, and other targeting flags are refused.
    """
    from syncer.apply.client import write_client
    from syncer.apply.outcome import StopRequest
    from syncer.apply.run import RunOptions, applied_targeting, read_saved_plan, run_apply
    from syncer.errors import RefusedError, SyncerError
    from syncer.feishu.auth import credentials_from_env
    from syncer.gitinfo import is_ancestor
    from syncer.load.validate import validate_root
    from syncer.plan.targeting import resolve as resolve_targeting
    from syncer.report.plan import render_plan
    from syncer.report.problems import counts_line, render_problems
    from syncer.rules.check import with_rules
    from syncer.urls import resolve_base_url

    shown_root = root_display(root)
    opener = StateOpener(root, state_path)
    result = validate_root(root, root_display=shown_root, people=opener.people)
    result, rules = with_rules(result, root_display=shown_root, judge_values=False)  # judged on the changes
    if not result.ok or result.desired is None:
        emit(render_problems(result.problems, problems_format(), redact=redact))
        raise RefusedError(f"{shown_root} is invalid ({counts_line(result.problems)}): nothing was applied")
    saved = None
    if plan_file is not None:  # checked before anything else: offline, and a wrong file is the likely mistake
        try:
            text = plan_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SyncerError(f"--plan {plan_file}: cannot be read ({exc})") from None
        saved = read_saved_plan(text, display=f"--plan {plan_file}")
    asked = resolve_targeting(result.desired, semesters=target_semesters, paths=target_paths, root=shown_root)
    semester_names = {s.id: alias for alias, s in result.desired.catalog.semesters.items()}
    targeting = applied_targeting(saved, asked, semester_names=semester_names)
    if report_file is not None and not (report_file.parent.is_dir() and os.access(report_file.parent, os.W_OK)):
        raise SyncerError(f"--report {report_file}: its directory does not exist or cannot be written")
    settings = result.settings
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    client = write_client(base_url=url, credentials=credentials_from_env(), redact=redact)
    store = opener(settings)

    def ancestor(a: str, b: str) -> bool | None:
        try:
            return is_ancestor(a, b, cwd=root)
        except SyncerError:
            return None

    def confirm(the_plan: Plan) -> bool:
        click.echo(render_plan(the_plan, "text", redact=redact, color=stdout_color()), nl=False)
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise RefusedError("no terminal to confirm on: review the plan, then pass --auto-approve")
        return click.confirm("Apply these changes to Feishu?", default=False)

    printer = Printer()
    refresher = None
    if refresh or refresh_all:
        scope: Literal["plan", "all"] = "all" if refresh_all else "plan"
        refresher = _refresher(settings, url, result.desired, scope, refresh_budget, printer)
    stop = StopRequest()
    options = RunOptions(
        max_duration=max_duration,
        retry_rejected=retry_rejected,
        force=force,
        preflight=is_ci() if preflight is None else preflight,
        saved_plan=saved,
        targeting=targeting,
        rules=rules,
    )
    with client, stop_on_signals(stop, printer), notify_failure(settings, opener, url, redact=redact):
        run = run_apply(
            store=store,
            client=client,
            settings=settings,
            desired=result.desired,
            git=opener.git_info(settings),
            root=shown_root,
            commit_is_ancestor=ancestor,
            confirm=confirm,
            options=options,
            refresh=refresher,
            stop=stop,
            progress=printer.apply_event,
        )
    printer.close()
    code = _report_apply(run)
    notify_apply(run, settings, opener, url, redact=redact)
    from syncer.cli.hints import after_apply

    hint = after_apply(run, root=shown_root, state=state_path)
    if hint is not None:
        say(hint)
    if report_file is not None:
        from syncer.fsio import os_error_text, write_output
        from syncer.report.apply import apply_json

        try:
            write_output(
                report_file, apply_json(run.report, run.plan.counts, checksum=run.plan.checksum, redact=redact)
            )
        except OSError as exc:  # what was applied is recorded: only the report is missing
            say(
                f"error: could not write --report {report_file}: {os_error_text(exc)}; what was applied is "
                "recorded in the state (`syncer state show`)",
                err=True,
            )
            code = code or 1
    return code


def _refresher(
    settings: Settings,
    base_url: str,
    desired: DesiredState,
    scope: Literal["plan", "all"],
    budget: int,
    printer: Printer,
) -> Refresher:
    """Reads Feishu for the plan the run makes under the lock: paced, with a client of its own, on the
    host the apply writes to (--base-url included)."""

    def read(the_plan: Plan, state: State | None) -> LiveView:
        from syncer.live.drift import refresh

        with live_reader(settings, base_url, printer) as reader:
            _, live = refresh(
                reader,
                the_plan,
                state,
                desired,
                scope=scope,
                budget=budget,
                user_id_type=settings.target.user_id_type,
            )
        printer.close()
        return live

    return read


def _report_apply(run: ApplyRun) -> int:
    from syncer.plan.summary import summary_line
    from syncer.report.apply import render_step_summary, render_summary

    if run.plan.empty and not run.report.settled and not run.report.rejected and run.report.exit_code == 0:
        for note in run.plan.notes:  # a lock taken over from a dead run, say: no plan was shown to say it
            say(f"Note: {note}")
        click.echo(summary_line(run.plan))
        return 0
    click.echo(render_summary(run.report, run.plan.names, run.plan.counts), nl=False)
    if run.report.aborted:
        say(f"error: {run.report.aborted}", err=True)
    elif run.report.unrecorded:
        from syncer.report.apply import row_label

        aside = run.report.unrecorded
        more = f" (and {len(aside) - 1} more listed above)" if len(aside) > 1 else ""
        say(
            f"error: {plural(len(aside), 'row')} set aside, the rest applied: {row_label(aside[0], run.plan.names)}: "
            f"{aside[0].message}{more}; change the value to one the state can hold",
            err=True,
        )
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(render_step_summary(run.report, run.plan.names, run.plan.counts))
        except OSError as exc:  # what was applied is recorded: only the step's summary is missing
            from syncer.fsio import os_error_text

            say(
                f"error: could not write the step summary GITHUB_STEP_SUMMARY={summary_file}: {os_error_text(exc)}; "
                "what was applied is recorded in the state (`syncer state show`)",
                err=True,
            )
            return int(run.report.exit_code) or 1
    return int(run.report.exit_code)


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work in this directory (created) and keep it, instead of a temporary one.",
)
def demo(keep: Path | None) -> int:
    """The whole loop in a few seconds, against a built-in Feishu emulator: no credentials, no network.

    Copies the example metrics root to a temporary directory with its own state, then: validate, plan,
    apply, plan again (nothing to do), change a value, plan, apply. The emulator's import quota is scaled
    to 600 a minute so that it finishes in seconds; Feishu's real quota is 10 a minute.
    """
    from syncer.demo import run_demo

    def echo(text: str = "") -> None:  # the demo's lines quote paths (--keep): each escaped
        click.echo(inert_lines(str(text).split("\n")), nl=False)

    return run_demo(keep=keep, echo=echo)
