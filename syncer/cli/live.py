"""The live tenant: `syncer catalog pull`, `syncer people resolve`, `syncer import`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from syncer.cli.context import StateOpener, live_reader, load_config, load_root
from syncer.cli.main import cli
from syncer.cli.options import (
    base_url_option,
    redact_option,
    root_display,
    root_option,
    state_option,
)
from syncer.cli.output import say
from syncer.cli.progress import Printer
from syncer.problems import REDACTED
from syncer.text import inert_lines, plural


@cli.group()
def catalog() -> None:
    """The catalog (catalog.yaml) and Feishu's metric library."""


@catalog.command("pull")
@root_option
@base_url_option
@click.option(
    "--write",
    is_flag=True,
    help="Write the merged catalog.yaml (atomically). Without it, only print the diff (a dry run).",
)
def catalog_pull(root: Path, base_url: str | None, write: bool) -> int:
    """Merge Feishu's semesters and metric library into catalog.yaml.

    Reads v1 semesters, metric_libs/query (every page) and metric_fields/query (each field's type), paced
    at their quotas (10 and 20 a minute); needs FEISHU_APP_ID and FEISHU_APP_SECRET. Entries already in the
    catalog (matched by ID) keep their alias, comments and text; new semesters, metrics and fields are
    added as new lines with readable aliases. Prints a unified diff; --write writes it. A second pull
    changes nothing. Differences it does not change (types, input_setting) are listed as notes.
    """
    from collections import Counter

    from syncer.errors import RefusedError
    from syncer.live.pull import fetch_catalog, merge_into_root, write_catalog
    from syncer.load.settings import load_settings
    from syncer.report.problems import render_text

    shown = root_display(root)
    settings, problems = load_settings(root, shown)
    if any(p.severity == "error" for p in problems):  # the catalog may be missing or broken: pull mends it
        click.echo(render_text(problems, redact=False), err=True)
        raise RefusedError(f"{shown}/syncer.yaml is invalid: fix it first")
    printer = Printer()
    click.echo(
        "Reading Feishu's semesters and metric library (paced: semesters 10/min, the others 20/min) ...", err=True
    )
    with live_reader(settings, base_url, printer) as reader:
        pulled = fetch_catalog(reader, user_id_type=settings.target.user_id_type)
        requests = reader.requests
    printer.close()
    result = merge_into_root(root, shown, settings, pulled)
    for note in result.notes:
        say(f"note: {note}", err=True)
    added = Counter(a.kind for a in result.additions)
    what = ", ".join(plural(n, k) for k, n in sorted(added.items())) or "nothing"
    if not result.changed:
        say(
            f"{result.display} is up to date with Feishu ({len(pulled.semesters)} semesters, "
            f"{len(pulled.metrics)} metrics in the library; {requests} requests)."
        )
        return 0
    click.echo(inert_lines(result.diff().rstrip("\n").split("\n")), nl=False)
    if result.new_problems:
        from syncer.report.problems import render_text as render_problems_text

        click.echo(render_problems_text(list(result.new_problems), redact=False), err=True)
        raise RefusedError(f"the merged {result.display} would be invalid (above): nothing was written")
    if not write:
        say(f"Dry run: {result.display} would gain {what}. Run again with --write to write it.")
        return 0
    write_catalog(result)
    say(f"Wrote {result.display}: added {what}.")
    return 0


@cli.group()
def people() -> None:
    """People of the catalog given by email: their user IDs, looked up in Feishu and cached."""


@people.command("resolve")
@root_option
@state_option
@click.option(
    "--refresh",
    is_flag=True,
    help="Ask Feishu again for every email, not only for those the cache does not answer yet.",
)
@base_url_option
@redact_option
def people_resolve(root: Path, state_path: Path | None, refresh: bool, base_url: str | None, redact: bool) -> int:
    """Look up the user IDs of the catalog's people by email and cache them with the state.

    Uses contact users/batch_get_id (50 emails a request; 1000 requests a minute); needs FEISHU_APP_ID and
    FEISHU_APP_SECRET. The cache is people.json in the state, wherever it lives (state.path or --state PATH;
    with `state.backend: git`, the state branch): written under the state's lock (creating the state for
    this target if there is none yet), and read from there by validate, plan and apply for people given as
    `{email: ...}` without an id. Addresses not found are asked again with resigned users included, to tell a
    resigned user from an unknown address. Exit 0 when every address resolved, 1 when some did not (they are
    listed, and validation reports them).
    """
    from syncer.errors import RefusedError, StateError, StateUnavailable
    from syncer.live.people import resolve_people, write_cache
    from syncer.load.people import CACHE_FILE, read_cache
    from syncer.state import load_checked, open_store, target_identity
    from syncer.urls import resolve_base_url

    settings, cat = load_config(root, root_display(root), redact=redact, catalog_required=True)
    store = open_store(root, settings, override=state_path)
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    target = target_identity(settings, base_url=url, app_id=os.environ.get("FEISHU_APP_ID") or None)
    load_checked(store, target=target)  # another target's state is refused before any request
    try:
        cache = read_cache(store)
    except StateUnavailable:
        raise
    except StateError as exc:
        say(f"note: {exc}; starting a new cache", err=True)
        cache = None
    printer = Printer()
    with live_reader(settings, base_url, printer, redact=redact) as reader:
        report = resolve_people(cat, reader, identity=target, cache=cache, refresh=refresh)
    printer.close()
    with store.locked(command="people resolve"):  # the answers are written under the lock, like any write
        state, _ = load_checked(store, target=target)
        created = state is None
        if created:
            store.create(target)
        changed = write_cache(store, report.cache)
        if created or changed:
            store.compact()  # the git backend: one commit for this run
    for note in report.notes:
        say(f"note: {note}", err=True)
    for r in report.resolved:
        shown_id = r.user_id or {"resigned": "(resigned)", "unknown": "(not found)"}.get(r.status, "")
        flag = f"  ! the catalog says {r.catalog_id}" if r.mismatch else ""
        say(f"  {r.alias}  {REDACTED if redact else r.email}  {shown_id}{flag}")
    found = len(report.by_status("active"))
    failed = len(report.by_status("resigned")) + len(report.by_status("unknown"))
    say(
        f"Resolved {found}, not found {len(report.by_status('unknown'))}, resigned "
        f"{len(report.by_status('resigned'))} with {plural(report.requests, 'request')}; {report.cached} answered "
        "from the cache"
        f"{' (--refresh asks again)' if report.cached else ''}. Cache: {store.location}/{CACHE_FILE}"
        f"{'' if changed else ' (unchanged)'}"
    )
    if report.mismatches:
        say(
            f"warning: {len(report.mismatches)} people have an id in catalog.yaml that differs from their "
            "email's user ID (marked !)",
            err=True,
        )
    if failed:
        raise RefusedError(
            f"{plural(failed, 'address', 'addresses')} could not be resolved (listed above): "
            "fix them in catalog.yaml, then run `syncer people resolve --refresh`"
        )
    return 0


@cli.command("import")
@click.option(
    "--semester",
    required=True,
    metavar="ALIAS|ID",
    help="The semester to import: an alias of catalog.yaml or a semester ID.",
)
@click.option(
    "--reviewees",
    "reviewees",
    multiple=True,
    metavar="ALIAS|ID",
    help="Import these reviewees (people aliases or raw IDs; repeatable, or comma-separated).",
)
@click.option(
    "--all", "all_reviewees", is_flag=True, help="Import every reviewee of the semester (read with reviewees/query)."
)
@root_option
@state_option
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the data files (inside the root). Default: ROOT/imported.",
)
@click.option("--per-file", type=click.IntRange(min=1), default=100, show_default=True, help="Reviewees per data file.")
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Leave rows that data files already hold with other values alone (neither written nor "
    "recorded) instead of refusing the import.",
)
@base_url_option
@redact_option
def import_values(
    semester: str,
    reviewees: tuple[str, ...],
    all_reviewees: bool,
    root: Path,
    state_path: Path | None,
    out_dir: Path | None,
    per_file: int,
    skip_existing: bool,
    base_url: str | None,
    redact: bool,
) -> int:
    """Adopt the values Feishu already holds: write them as data files and record them as applied.

    Like `terraform import`: reads the reviewees (reviewees/query, paged) and their values
    (metric_details/query, 50 reviewees a request, 20 requests a minute), maps metrics, fields and people
    to catalog aliases (metrics and fields the catalog does not know are left out, and listed), writes one
    data file per --per-file reviewees, checks that each reads back exactly and that the root stays valid,
    then records the values in the state so that the next `syncer plan` shows nothing to do. Rows that
    data files already hold are adopted when their values are Feishu's and refused otherwise.
    """
    from syncer.errors import SyncerError
    from syncer.live.importer import ImportConflict, ImportInvalid, ImportOptions, run_import
    from syncer.report.problems import render_text
    from syncer.state import target_identity

    wanted = tuple(r.strip() for item in reviewees for r in item.split(",") if r.strip())
    if bool(wanted) == all_reviewees:
        raise click.UsageError("give either --reviewees ALIAS|ID ... or --all")
    opener = StateOpener(root, state_path)
    result = load_root(opener, redact=redact)
    settings = result.settings
    store = opener(settings)
    printer = Printer()
    reader = live_reader(settings, base_url, printer)
    target = target_identity(settings, base_url=reader.client.base_url, app_id=reader.client.app_id)
    options = ImportOptions(
        semester=semester,
        reviewees=wanted,
        all_reviewees=all_reviewees,
        out_dir=out_dir,
        per_file=per_file,
        skip_existing=skip_existing,
    )
    names = {p.id: a for a, p in sorted(result.catalog.people.items(), reverse=True) if p.id}
    metrics = {m.id: a for a, m in result.catalog.metrics.items()}
    try:
        with reader:
            report = run_import(
                root=root,
                root_display=root_display(root),
                result=result,
                reader=reader,
                store=store,
                target=target,
                options=options,
                git=opener.git_info(settings),
                people=opener.people,
            )
    except ImportConflict as exc:
        printer.close()
        for c in exc.conflicts:
            diffs = ", ".join(
                f"{f}: {_shown_value(a, redact)} in the file, {_shown_value(b, redact)} in Feishu"
                for f, a, b in c.differences
            )
            say(
                f"{c.source}: {names.get(c.row.reviewee, c.row.reviewee)} / "
                f"{metrics.get(c.row.metric, c.row.metric)}: {diffs}",
                err=True,
            )
        raise
    except ImportInvalid as exc:
        printer.close()
        click.echo(render_text(list(exc.problems), redact=redact), err=True)
        raise
    except SyncerError:
        printer.close()
        raise
    printer.close()
    say(
        f"Read {plural(report.reviewees_asked, 'reviewee')} of "
        f"{report.semester_label} ({report.semester}) with {plural(report.requests, 'request')}."
    )
    for f in report.files:
        say(f"wrote {f}")
    if report.skipped:
        click.echo("Left out (not written, not recorded):")
        for why, n in report.skipped:
            say(f"  {n} {why}")
    if report.rows_adopted:
        say(f"{plural(report.rows_adopted, 'row')} already in data files with Feishu's values: adopted as they are.")
    if report.rows_left_alone:
        say(
            f"{plural(report.rows_left_alone, 'row')} already in data files "
            "with other values: left alone (--skip-existing); the plan shows them as changes."
        )
    if report.batch is None:
        click.echo("Nothing to import: Feishu holds no values of the catalog's metrics for these reviewees.")
        return 0
    say(
        f"Imported {plural(report.values_written, 'value')} in "
        f"{plural(report.rows_written, 'row')} of {plural(report.reviewees_written, 'reviewee')}; recorded as "
        "applied in the state at "
        f"{store.location} (batch {report.batch.id})."
    )
    expect = (
        f"it shows the {plural(report.rows_left_alone, 'row')} left alone as changes"
        if report.rows_left_alone
        else "it should show no changes"
    )
    say(f"Next: syncer plan --root {root_display(root)} ({expect}), then commit the files.")
    return 0


def _shown_value(value: str | None, redact: bool) -> str:
    if value is None:
        return "(none)"
    return REDACTED if redact else repr(value)
