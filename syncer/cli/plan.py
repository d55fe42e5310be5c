"""`syncer plan`: validate, then diff against the state (and, with --refresh, against Feishu)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from syncer.cli.context import StateOpener, live_reader, readers_language, stdout_color
from syncer.cli.main import cli
from syncer.cli.options import (
    cache_option,
    check_cache_dir,
    default_format,
    redact_option,
    refresh_options,
    root_display,
    root_option,
    state_option,
    targeting_options,
)
from syncer.cli.output import emit, say
from syncer.cli.progress import Printer
from syncer.report.formats import format_names, renderer_for
from syncer.text import plural

if TYPE_CHECKING:
    from syncer.live.drift import Drift, RemoteSnapshot
    from syncer.load.validate import ValidationResult
    from syncer.plan.model import LiveView, Plan
    from syncer.report.renderer import Renderer
    from syncer.state.model import State


@cli.command()
@root_option
@state_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(format_names("plan")),
    default=None,
    help="Output format: text (terminal), markdown (PR comment), json (the plan data), github "
    "(annotations and a summary), html (a page with charts, written to --out FILE: the html extra), "
    "gitlab (a Code Quality report of what blocks the apply). "
    "Default: github under GitHub Actions, else text.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the JSON plan to FILE (atomically), for `syncer apply --plan FILE` and CI "
    "artifacts. Values are left out when redacting. With --format json, stdout then gets one summary line "
    "instead of the same document again (see --print). With --format html, FILE gets the page instead "
    "(required), and stdout the summary line.",
)
@click.option(
    "--print",
    "print_too",
    is_flag=True,
    help="With --out and --format json: print the JSON plan on stdout as well as writing it.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes (forgets count), 0 when there is nothing to change.",
)
@redact_option
@click.option(
    "--force",
    is_flag=True,
    help="Accept changes that pass a safety threshold (the plan still shows them); without it such "
    "a plan exits 1, as apply would refuse it.",
)
@refresh_options
@cache_option
@targeting_options
def plan(
    root: Path,
    state_path: Path | None,
    fmt: str | None,
    out: Path | None,
    print_too: bool,
    detailed_exitcode: bool,
    redact: bool,
    force: bool,
    refresh: bool,
    refresh_all: bool,
    refresh_budget: int,
    no_cache: bool,
    target_semesters: tuple[str, ...],
    target_paths: tuple[str, ...],
) -> int:
    """Validate, then show what an apply would change: desired values minus the state.

    Changes are per value: create, update (last applied -> new) and forget (gone from the YAML: the value
    stays in Feishu and syncer stops managing it). Requests are per row, 50 rows each. Needs no
    credentials (except with --refresh) and never writes to Feishu or to the state. Exit 0: done (with
    --detailed-exitcode: no changes); 1: invalid input, wrong target, newer state format or a safety
    threshold passed without --force; 2 (with --detailed-exitcode): there are changes (or, with --refresh,
    drift).

    --refresh reads Feishu (never writes) and appends a drift section: values changed in Feishu since
    syncer applied them, values the plan would create over ones entered outside syncer, and fields admins
    own (input_setting: admin) that the plan would send.

    --semester and --path target part of the root: the plan says what it left out, which stays in the
    state as it is; the safety thresholds judge the targeted part; a saved targeted plan applies only as
    targeted.
    """
    from syncer.errors import RefusedError, SyncerError
    from syncer.fsio import os_error_text, write_output
    from syncer.load.validate import validate_root
    from syncer.plan.diff import make_plan
    from syncer.plan.model import PlanOptions
    from syncer.plan.safety import how_to_comply, how_to_proceed
    from syncer.plan.targeting import resolve as resolve_targeting
    from syncer.report.problems import counts_line, render_problems
    from syncer.rules.check import with_rules
    from syncer.state import load_checked, target_identity, use_read_cache
    from syncer.urls import resolve_base_url

    shown_format = fmt or default_format(format_names("plan"))
    if shown_format == "html" and (out is None or print_too):
        raise click.UsageError(
            "--format html writes a page to a file: add --out FILE (e.g. --out plan.html), without --print"
        )
    if shown_format == "html":
        from syncer.html import require

        require()
    if (refresh or refresh_all) and shown_format not in format_names("drift"):
        raise click.UsageError(
            f"--format {shown_format} has no drift section: with --refresh or --refresh-all use one of "
            + ", ".join(format_names("drift"))
        )
    renderer = (
        renderer_for(shown_format, "plan", "drift") if refresh or refresh_all else renderer_for(shown_format, "plan")
    )
    shown_root = root_display(root)
    opener = StateOpener(root, state_path)
    cache_dir = check_cache_dir(no_cache)
    result = validate_root(root, root_display=shown_root, people=opener.people, cache_dir=cache_dir)
    result, rules = with_rules(result, root_display=shown_root, judge_values=False)  # judged on the changes
    if result.cache_trouble:  # the result is whole: the cache only saves time
        say(f"warning: {result.cache_trouble}", err=True)
    if not result.ok or result.desired is None:
        emit(renderer.no_plan(result.problems, redact=redact), nl=False)
        say(f"{shown_root}: INVALID: {counts_line(result.problems)}; no plan", err=True)
        return 1
    if result.problems:  # warnings only: annotations on stdout for GitHub, else on stderr
        if shown_format == "github":
            emit(render_problems(result.problems, "github", redact=redact))
        else:
            click.echo(render_problems(result.problems, "text", redact=redact), err=True)
    targeting = resolve_targeting(result.desired, semesters=target_semesters, paths=target_paths, root=shown_root)
    store = opener(result.settings)
    shards = use_read_cache(store, cache_dir) if cache_dir is not None else None
    target = target_identity(
        result.settings,
        base_url=resolve_base_url(flag=None, settings_base_url=result.settings.target.base_url),
        app_id=os.environ.get("FEISHU_APP_ID") or None,
    )
    state, notes = load_checked(store, target=target)
    if shards is not None and shards.trouble and not result.cache_trouble:  # one warning for the same disk
        say(f"warning: {shards.trouble}", err=True)
    git = opener.git_info(result.settings)
    desired = result.desired

    def planned(live: LiveView | None = None) -> Plan:
        return make_plan(
            desired,
            state,
            PlanOptions(
                safety=result.settings.safety,
                git=git,
                target=target,
                state_location=store.location,
                root=shown_root,
                notes=notes,
                force=force,
                live=live,
                percentage_format=result.settings.target.percentage_format,
                targeting=targeting,
                rules=rules,
            ),
        )

    the_plan = planned()
    drift = None
    if refresh or refresh_all:
        from syncer.live.drift import compute_drift

        remote, live = refresh_live(
            result, state, the_plan, scope="all" if refresh_all else "plan", budget=refresh_budget
        )
        the_plan = planned(live)  # the values Feishu holds otherwise become repairs
        drift = compute_drift(
            plan=the_plan, state=state, desired=desired, remote=remote, user_id_type=result.settings.target.user_id_type
        )
    if shown_format == "html":
        assert out is not None
        _write_html(
            renderer, the_plan, out, redact=redact, drift=drift, result=result, detailed_exitcode=detailed_exitcode
        )
    repeated = shown_format == "json" and drift is None  # stdout's document is the file's
    streamed = repeated and (out is None or print_too)  # a million values are never one string
    if shown_format != "html" and (out is not None or streamed):
        from syncer.report.plan_json import plan_chunks

        pieces = plan_chunks(the_plan, redact=redact)
        if streamed:  # made once, for stdout and the file alike
            pieces = _echoed(pieces)
        if out is not None:
            try:
                write_output(out, pieces)
            except OSError as exc:
                raise SyncerError(
                    f"could not write --out {out}: {os_error_text(exc)}, then run the plan again"
                ) from None
        else:
            for _ in pieces:
                pass
    if repeated and not streamed and out is not None:
        from syncer.plan.summary import summary_line

        say(f"wrote {out.as_posix()}: {summary_line(the_plan)}")
    if not repeated and shown_format != "html":
        refreshed = None
        if drift is not None:
            from syncer.report.drift import catalog_names
            from syncer.report.renderer import Refreshed

            refreshed = Refreshed(drift, catalog_names(result.catalog), detailed_exitcode=detailed_exitcode)
        for piece in renderer.plan(the_plan, redact=redact, color=stdout_color(), refreshed=refreshed):
            emit(piece, nl=False)
        if shown_format == "text":
            from syncer.cli.hints import after_plan

            say(after_plan(the_plan, root=shown_root, state=state_path, out=out))
    if drift is not None:
        from syncer.cli.notify import notify_drift
        from syncer.report.drift import catalog_names

        settings = result.settings
        url = resolve_base_url(flag=None, settings_base_url=settings.target.base_url)
        notify_drift(drift, catalog_names(result.catalog), settings, the_plan.git.short, url, redact=redact)
    if the_plan.denied:
        raise RefusedError("this plan breaks a rule: " + how_to_comply(the_plan))
    if the_plan.refused:
        raise RefusedError("this plan passes a safety threshold: " + how_to_proceed(the_plan))
    drifted = drift is not None and drift.detected
    return 2 if detailed_exitcode and (not the_plan.empty or drifted) else 0


def _write_html(
    renderer: Renderer,
    the_plan: Plan,
    out: Path,
    *,
    redact: bool,
    drift: Drift | None,
    result: ValidationResult,
    detailed_exitcode: bool,
) -> None:
    """The plan as a page in `out` (atomically), and its summary line on stdout."""
    from syncer.errors import SyncerError
    from syncer.fsio import os_error_text, write_output
    from syncer.plan.summary import summary_line
    from syncer.report.drift import catalog_names
    from syncer.report.renderer import Refreshed

    refreshed = None
    if drift is not None:
        refreshed = Refreshed(drift, catalog_names(result.catalog), detailed_exitcode=detailed_exitcode)
    language = readers_language(result.settings)
    pieces = (str(p) for p in renderer.plan(the_plan, redact=redact, refreshed=refreshed, language=language))
    try:
        write_output(out, pieces)
    except OSError as exc:
        raise SyncerError(f"could not write --out {out}: {os_error_text(exc)}, then run the plan again") from None
    say(f"wrote {out.as_posix()}: {summary_line(the_plan)}")


def _echoed(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces, each printed on stdout as it passes."""
    for piece in pieces:
        click.echo(piece, nl=False)
        yield piece


def refresh_live(
    result: ValidationResult, state: State | None, the_plan: Plan, *, scope: Literal["plan", "all"], budget: int
) -> tuple[RemoteSnapshot, LiveView]:
    """Read the live values (paced, progress on stderr): the snapshot and its view for the plan."""
    from syncer.live.drift import refresh, refresh_targets, requests_needed

    assert result.desired is not None
    settings = result.settings
    needed = requests_needed(refresh_targets(the_plan, state, result.desired, scope=scope))
    if needed:
        say(
            f"Reading live values: {plural(needed, 'metric_details/query request')} needed, budget {budget}, "
            "20 a minute ...",
            err=True,
        )
    printer = Printer()
    with live_reader(settings, None, printer) as reader:
        found = refresh(
            reader,
            the_plan,
            state,
            result.desired,
            scope=scope,
            budget=budget,
            user_id_type=settings.target.user_id_type,
        )
    printer.close()
    return found
