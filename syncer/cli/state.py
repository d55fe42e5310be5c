"""`syncer state show|rm|unlock|settle|migrate|history`: inspect and repair the state."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.context import load_config
from syncer.cli.main import cli
from syncer.cli.options import redact_option, root_display, root_option, state_option
from syncer.cli.output import say
from syncer.report.formats import STATE_FORMATS, state_format
from syncer.text import plural

if TYPE_CHECKING:
    from syncer.load.settings import Settings
    from syncer.model import Catalog
    from syncer.state.protocols import StateStore


@cli.group()
def state() -> None:
    """Inspect and repair the state: what syncer last applied, per target."""


def _state_context(root: Path, state_path: Path | None) -> tuple[StateStore, Catalog]:
    """The store and the catalog (for aliases) of a root; only settings and catalog are read."""
    from syncer.state import open_store

    settings, catalog = load_config(root, root_display(root))
    return open_store(root, settings, override=state_path), catalog


def _confirm(question: str, *, yes: bool) -> None:
    """Ask on a terminal (abort on no); without one, only --yes goes on."""
    from syncer.errors import RefusedError

    if yes:
        return
    if not sys.stdin.isatty():
        raise RefusedError("no terminal to confirm on: pass --yes")
    click.confirm(question, abort=True)


@state.command("show")
@root_option
@state_option
@click.option(
    "--format", "fmt", type=click.Choice(STATE_FORMATS), default="text", show_default=True, help="Output format."
)
def state_show(root: Path, state_path: Path | None, fmt: str) -> int:
    """Show what is managed: counts per semester, identity, lineage, serial, last apply, rejected rows, the
    people cache (how many people, when resolved, where stored).

    Values themselves are never shown (`syncer state list` lists them).
    """
    from syncer.load.people import CACHE_FILE, read_cache
    from syncer.report.state import render_state
    from syncer.state.inspect import summarize, summarize_people

    store, catalog = _state_context(root, state_path)
    cache = read_cache(store)
    people = None if cache is None else summarize_people(cache, location=f"{store.location}/{CACHE_FILE}")
    summary = summarize(store.load(), location=store.location, catalog=catalog, lock=store.lock_holder(), people=people)
    click.echo(render_state(summary, state_format(fmt)), nl=False)
    return 0


@state.command("list")
@root_option
@state_option
@click.option(
    "--semester", "semesters", multiple=True, metavar="ALIAS|ID", help="List values of this semester (repeatable)."
)
@click.option(
    "--reviewee", "reviewees", multiple=True, metavar="ALIAS|ID", help="List values of this reviewee (repeatable)."
)
@click.option("--metric", "metrics", multiple=True, metavar="ALIAS|ID", help="List values of this metric (repeatable).")
@click.option(
    "--format", "fmt", type=click.Choice(STATE_FORMATS), default="text", show_default=True, help="Output format."
)
@redact_option
def state_list(
    root: Path,
    state_path: Path | None,
    semesters: tuple[str, ...],
    reviewees: tuple[str, ...],
    metrics: tuple[str, ...],
    fmt: str,
    redact: bool,
) -> int:
    """List the managed values: semester, reviewee, metric and field (catalog aliases where it has them),
    the value as last applied, and the batch that applied it (time, commit, import record).

    Selectors combine like `state rm`'s: --semester 2026-H2 --reviewee alice lists alice's values in
    2026-H2. Values are personal data: --redact-values (or SYNCER_REDACT=1) hides them.
    """
    from syncer.report.state_list import render_list
    from syncer.state.listing import ListNames, Selection, managed_values

    store, catalog = _state_context(root, state_path)
    loaded = store.load()
    if loaded is None and fmt != "json":
        say(f"No state at {store.location} yet: nothing is managed.")
        return 0
    chosen = Selection.of(semesters=semesters, reviewees=reviewees, metrics=metrics, catalog=catalog)
    pieces = render_list(
        managed_values(loaded, chosen) if loaded is not None else iter(()),
        ListNames.of(catalog),
        state_format(fmt),
        location=store.location,
        redact=redact,
    )
    for piece in pieces:
        click.echo(piece, nl=False)
    return 0


@state.command("rm")
@root_option
@state_option
@click.option(
    "--semester", "semesters", multiple=True, metavar="ALIAS|ID", help="Select values of this semester (repeatable)."
)
@click.option(
    "--reviewee", "reviewees", multiple=True, metavar="ALIAS|ID", help="Select values of this reviewee (repeatable)."
)
@click.option(
    "--metric", "metrics", multiple=True, metavar="ALIAS|ID", help="Select values of this metric (repeatable)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required without a terminal).")
def state_rm(
    root: Path,
    state_path: Path | None,
    semesters: tuple[str, ...],
    reviewees: tuple[str, ...],
    metrics: tuple[str, ...],
    yes: bool,
) -> int:
    """Stop managing the selected values, without touching Feishu.

    The values stay in Feishu as they are; syncer forgets it applied them (the next plan shows them as
    creates if the YAML still holds them). Selectors combine: --semester 2026-H2 --reviewee alice
    selects alice's values in 2026-H2.
    """
    from syncer.errors import StateError
    from syncer.state.inspect import select_keys

    store, catalog = _state_context(root, state_path)
    with store.locked(command="state rm"):
        loaded = store.load()
        if loaded is None:
            raise StateError(f"no state at {store.location}: nothing is managed")
        keys = select_keys(loaded, semesters=semesters, reviewees=reviewees, metrics=metrics, catalog=catalog)
        if not keys:
            click.echo("Nothing selected: no managed value matches.")
            return 0
        rows = {k.row for k in keys}
        say(
            f"{plural(len(keys), 'value')} in {plural(len(rows), 'row')} will no longer be managed "
            "(Feishu is not touched)."
        )
        _confirm("Stop managing them?", yes=yes)
        removed = store.forget(keys, reason="rm")
        store.compact()
    say(f"Done: {plural(removed, 'value')} no longer managed.")
    return 0


@state.command("unlock")
@root_option
@state_option
@click.option(
    "--force", is_flag=True, help="Clear the lock even if its holder still runs on this host or runs on another host."
)
def state_unlock(root: Path, state_path: Path | None, force: bool) -> int:
    """Clear the state's lock left by an apply that died.

    Refused while the holder still runs on this host (or when it cannot be checked from here) unless
    --force: two applies at once could send a batch twice.
    """
    store, _ = _state_context(root, state_path)
    held = store.break_lock(force=force)
    if held is None:
        say(f"The state at {store.location} is not locked.")
    else:
        say(f"Cleared the lock of pid {held.pid} on {held.host} (since {held.time}).")
    return 0


@state.command("settle")
@root_option
@state_option
@click.argument("token")
@click.option(
    "--not-landed", "not_landed", is_flag=True, required=True, help="Required: the batch's values are not in Feishu."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required without a terminal).")
def state_settle(root: Path, state_path: Path | None, token: str, not_landed: bool, yes: bool) -> int:
    """Close an open journal entry by hand: its rows go out again under a new token.

    For an entry no apply can settle: Feishu knows its client_token (1580110) and its rows cannot be read
    back (no read permission, or answers that do not name reviewees by the user_id_type). Look in Feishu
    first: close it only when the batch's values are not there, or a second import of the same values is
    acceptable. TOKEN is the client_token, or a prefix of it, as `syncer state show` lists it.
    """
    from syncer.errors import RefusedError, StateError

    del not_landed  # required: the one judgement this command records
    store, _ = _state_context(root, state_path)
    with store.locked(command="state settle"):
        loaded = store.load()
        if loaded is None:
            raise StateError(f"no state at {store.location}: no journal entry is open")
        found = sorted(t for t in loaded.journal if t.startswith(token)) if token else []
        if len(found) != 1:
            what = "no open journal entry" if not found else f"{len(found)} open journal entries"
            raise RefusedError(f"{what} with a client_token starting {token!r}: `syncer state show` lists them")
        entry = loaded.journal[found[0]]
        say(
            f"The journal entry {found[0]} ({plural(len(entry.rows()), 'row')} of semester {entry.semester}) will "
            "be closed as not landed: the next apply sends its rows again under a new token."
        )
        _confirm("Close it?", yes=yes)
        store.settle_journal(found[0], outcome="not-landed (settled by hand)")
    say("Closed.")
    return 0


# --- state migrate: between the local, git and postgres backends -----------------------------------------


@state.command("migrate")
@root_option
@state_option
@click.option(
    "--to",
    "to",
    type=click.Choice(["git", "local", "postgres"]),
    required=True,
    help="git: push the local state (state.path, or --state PATH) as the first commit of state.branch "
    "on state.remote; refused if the branch exists. local: copy the branch's state into "
    "state.path (or --state PATH); refused if a state is there. postgres: copy the state of "
    "state.backend (local or git) into the database of $state.dsn_env as state.name; refused if "
    "that name holds a state. With state.backend postgres, --to local|git copy the database's state "
    "out.",
)
def state_migrate(root: Path, state_path: Path | None, to: str) -> int:
    """Move the state between the local, git and postgres backends, unchanged (same lineage, serial,
    journal, batches, rejections, people cache).

    Takes both locks, so no apply runs meanwhile. Nothing is deleted: the source stays as it was. Then set
    `state: {backend: ...}` in syncer.yaml and commit it.
    """
    from syncer.state import state_path as local_state_path
    from syncer.state.git import open_git_store
    from syncer.state.local.store import LocalStateStore
    from syncer.state.migrate import migrate

    settings, _ = load_config(root, root_display(root))
    if to == "postgres" or settings.state.backend == "postgres":
        return _migrate_postgres(root, settings, state_path, to)
    local = LocalStateStore(local_state_path(root, settings, override=state_path))
    branch = open_git_store(root, settings)
    if to == "git":
        moved = migrate(local, branch, to="git")
        say(
            f"Migrated the state (lineage {moved.meta.lineage}, serial {moved.meta.serial}) from "
            f"{local.location} to {branch.location}."
        )
        say(
            "Next: set `state: {backend: git}` in syncer.yaml and commit it; once a plan reads the branch, "
            f"the local directory {local.location} can be deleted."
        )
    else:
        moved = migrate(branch, local, to="local")
        say(
            f"Migrated the state (lineage {moved.meta.lineage}, serial {moved.meta.serial}) from "
            f"{branch.location} to {local.location}."
        )
        say(
            "Next: set `state: {backend: local}` in syncer.yaml and commit it; the branch "
            f"{settings.state.branch} was left as it was."
        )
    return 0


def _migrate_postgres(root: Path, settings: Settings, state_path: Path | None, to: str) -> int:
    """`state migrate` into the postgres backend (from state.backend), or out of it (state.backend postgres)."""
    from syncer.errors import StateError
    from syncer.state import state_path as local_state_path
    from syncer.state.git import open_git_store
    from syncer.state.local.store import LocalStateStore
    from syncer.state.migrate import migrate
    from syncer.state.postgres import open_postgres_store

    database = open_postgres_store(settings)
    files: StateStore
    # The store on the other side: the state branch when moving to git (or from git, when state.backend is git
    # and no --state PATH names a directory); else the local directory.
    if state_path is None and (to == "git" or (settings.state.backend == "git" and to == "postgres")):
        files = open_git_store(root, settings)
    else:
        files = LocalStateStore(local_state_path(root, settings, override=state_path))
    if to == "postgres":
        if settings.state.backend == "postgres" and state_path is None:
            raise StateError(
                "state.backend is postgres already: to copy a local state in, point at it with --state PATH "
                "(or set state.backend to where the state is now)"
            )
        moved = migrate(files, database, to="postgres")
        source, dest, backend = files.location, database.location, "postgres"
    else:
        moved = migrate(database, files, to=to)
        source, dest, backend = database.location, files.location, to
    say(f"Migrated the state (lineage {moved.meta.lineage}, serial {moved.meta.serial}) from {source} to {dest}.")
    say(
        f"Next: set `state: {{backend: {backend}}}` in syncer.yaml and commit it; {source} was left as it was "
        "(delete it once a plan reads the new one)."
    )
    return 0


# --- state history: which batch, commit and import record set a value -------------------------------------


@state.command("history")
@root_option
@state_option
@click.option("--semester", "semesters", multiple=True, metavar="ALIAS|ID", help="Only this semester (repeatable).")
@click.option("--reviewee", "reviewees", multiple=True, metavar="ALIAS|ID", help="Only this reviewee (repeatable).")
@click.option("--metric", "metrics", multiple=True, metavar="ALIAS|ID", help="Only this metric (repeatable).")
@click.option("--field", "fields", multiple=True, metavar="ALIAS|ID", help="Only this field, e.g. target (repeatable).")
@click.option(
    "--format", "fmt", type=click.Choice(STATE_FORMATS), default="text", show_default=True, help="Output format."
)
@redact_option
def state_history(
    root: Path,
    state_path: Path | None,
    semesters: tuple[str, ...],
    reviewees: tuple[str, ...],
    metrics: tuple[str, ...],
    fields: tuple[str, ...],
    fmt: str,
    redact: bool,
) -> int:
    """Show how managed values changed: each change with its time, batch, commit and import record.

    The postgres backend keeps every change (each value set, each key forgotten); the local and git
    backends keep each managed value's last change only, and say so. Selectors combine (--reviewee alice
    --field target: alice's targets). --redact-values leaves the values out.
    """
    from syncer.report.history import render_history
    from syncer.state.inspect import history_selection

    store, catalog = _state_context(root, state_path)
    selection = history_selection(catalog, semesters=semesters, reviewees=reviewees, metrics=metrics, fields=fields)
    history = store.history(selection)
    click.echo(render_history(history, catalog=catalog, fmt=state_format(fmt), redact=redact), nl=False)
    return 0
