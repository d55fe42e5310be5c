"""`syncer report --html`: the state as a dashboard page (syncer.html.state_page)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.context import StateOpener, readers_language
from syncer.cli.main import cli
from syncer.cli.options import redact_option, refresh_options, root_display, root_option, state_option
from syncer.cli.output import say

if TYPE_CHECKING:
    from syncer.plan.model import LiveView, Plan


@cli.command()
@root_option
@state_option
@click.option("--html", "html", is_flag=True, help="Write the report as an HTML page (the one format today).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write the page to (atomically).",
)
@redact_option
@refresh_options
def report(
    root: Path,
    state_path: Path | None,
    html: bool,
    out: Path,
    redact: bool,
    refresh: bool,
    refresh_all: bool,
    refresh_budget: int,
) -> int:
    """The state as a dashboard: completion of targets per team and metric, weights, held-back rows, applies.

    A team is a data file. The page shows, per team and metric, the completion of actuals against targets
    as the YAML holds them, the reviewees whose weights do not sum to 100%, the rows held back (rejected)
    and set aside, the last applies and the author of each one's commit, and with --refresh or
    --refresh-all the drift: values changed in Feishu outside syncer (reading Feishu, never writing).
    Self-contained: it fetches nothing when opened. Needs the html extra. Exit 0: written; 1: invalid input,
    wrong target or a file that cannot be written.
    """
    from syncer.errors import SyncerError
    from syncer.fsio import os_error_text, write_output
    from syncer.gitinfo import commit_authors
    from syncer.html import require
    from syncer.load.validate import validate_root
    from syncer.plan.diff import make_plan
    from syncer.plan.model import PlanOptions
    from syncer.report.problems import counts_line, render_problems
    from syncer.state import load_checked, target_identity
    from syncer.urls import resolve_base_url

    if not html:
        raise click.UsageError("syncer report writes an HTML page: add --html (with --out FILE)")
    require()
    shown_root = root_display(root)
    opener = StateOpener(root, state_path)
    result = validate_root(root, root_display=shown_root, people=opener.people)
    if not result.ok or result.desired is None:
        click.echo(render_problems(result.problems, "text", redact=redact), err=True)
        say(f"{shown_root}: INVALID: {counts_line(result.problems)}; no report", err=True)
        return 1
    store = opener(result.settings)
    target = target_identity(
        result.settings,
        base_url=resolve_base_url(flag=None, settings_base_url=result.settings.target.base_url),
        app_id=os.environ.get("FEISHU_APP_ID") or None,
    )
    state, notes = load_checked(store, target=target)
    desired = result.desired

    def planned(live: LiveView | None = None) -> Plan:
        return make_plan(
            desired,
            state,
            PlanOptions(
                safety=result.settings.safety,
                git=opener.git_info(result.settings),
                target=target,
                state_location=store.location,
                root=shown_root,
                notes=notes,
                force=True,  # a report refuses nothing: the thresholds are apply's
                live=live,
                percentage_format=result.settings.target.percentage_format,
            ),
        )

    the_plan = planned()
    drift = None
    if refresh or refresh_all:
        from syncer.cli.plan import refresh_live
        from syncer.live.drift import compute_drift

        remote, live = refresh_live(
            result, state, the_plan, scope="all" if refresh_all else "plan", budget=refresh_budget
        )
        the_plan = planned(live)
        drift = compute_drift(
            plan=the_plan, state=state, desired=desired, remote=remote, user_id_type=result.settings.target.user_id_type
        )
    from syncer.html.state_page import LAST_APPLIES, Dashboard, render_state_html
    from syncer.report.drift import catalog_names

    newest = sorted(state.batches.values(), key=lambda b: (b.time, b.id))[-LAST_APPLIES:] if state else []
    board = Dashboard(
        desired=desired,
        state=state,
        plan=the_plan,
        names=catalog_names(result.catalog),
        drift=drift,
        authors=commit_authors([b.commit for b in newest], cwd=root),
    )
    try:
        write_output(out, render_state_html(board, redact=redact, language=readers_language(result.settings)))
    except OSError as exc:
        raise SyncerError(f"could not write --out {out}: {os_error_text(exc)}, then run the report again") from None
    say(f"wrote {out.as_posix()}: the state report of {shown_root}")
    return 0
