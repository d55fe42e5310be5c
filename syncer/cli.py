"""The command line: parse options, call the core, render, return an exit code. Only this module imports
click. Expected failures (`SyncerError`) print one line and exit 1; anything else is a bug."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from syncer import __version__
from syncer.errors import SyncerError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class SyncerGroup(click.Group):
    """A group whose usage errors exit 1 (design.md remaps click's 2) and whose failures are one line."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("SYNCER_DEBUG") == "1"
        try:
            rv = super().main(args=argv, prog_name=prog_name or "syncer", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            _exit(1, standalone_mode)
        except click.UsageError as exc:
            exc.show()
            _exit(1, standalone_mode)
        except click.ClickException as exc:
            exc.show()
            _exit(1, standalone_mode)
        except click.exceptions.Exit as exc:
            _exit(exc.exit_code, standalone_mode)
        except SyncerError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            _exit(exc.exit_code, standalone_mode)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            _exit(130, standalone_mode)
        except Exception:
            if debug:
                traceback.print_exc()
            else:
                etype, value, _ = sys.exc_info()
                click.echo(
                    f"internal error: {etype.__name__ if etype else 'Exception'}: {value}\n"
                    "This is a bug in syncer. Run again with --debug for the traceback and report it.",
                    err=True,
                )
            _exit(1, standalone_mode)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


def _exit(code: int, standalone_mode: bool) -> NoReturn:
    if standalone_mode:
        sys.exit(code)
    raise SystemExit(code)


@click.group(cls=SyncerGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="syncer", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures (also SYNCER_DEBUG=1).")
def cli(debug: bool) -> None:
    """Feishu Performance key-metric values as code: validate, plan and apply from git.

    Run `syncer demo` for a tour against a local emulator, and `syncer COMMAND --help` for any command.
    """


# --- shared options -------------------------------------------------------------------------------------

def root_option(f: Any) -> Any:
    return click.option(
        "--root", "root", type=click.Path(file_okay=False, path_type=Path), default=Path("metrics"),
        show_default=True, help="The metrics root: the directory holding syncer.yaml and catalog.yaml.",
    )(f)


def redact_option(f: Any) -> Any:
    return click.option(
        "--redact-values", "redact", is_flag=True, envvar="SYNCER_REDACT",
        help="Hide every value in the output (also SYNCER_REDACT=1): values are personal data.",
    )(f)


def default_format(choices: Sequence[str], fallback: str = "text") -> str:
    """`github` under GitHub Actions when the command offers it, else `fallback`."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and "github" in choices:
        return "github"
    return fallback


def root_display(root: Path) -> str:
    return os.path.normpath(root.as_posix()).replace(os.sep, "/")


# --- validate, init, schema -------------------------------------------------------------------------------

@cli.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default=None,
              help="Output format. Default: github under GitHub Actions (GITHUB_ACTIONS=true), else text.")
@redact_option
def validate(root: Path, fmt: str | None, redact: bool) -> int:
    """Load and check the metrics root, offline.

    Checks the settings, the catalog and every data file against the schemas and the rules of Feishu
    (types, aliases, IDs, lengths, duplicates across files, weight sums). Every problem is listed with its
    file:line:col. Exits 0 when valid (warnings allowed), 1 otherwise.
    """
    from syncer.report.problems import counts_line, render_json, render_problems
    from syncer.validate import validate_root

    fmt = fmt or default_format(["text", "json", "github"])
    result = validate_root(root, root_display=root_display(root))
    summary = (f"{len(result.files)} data file{'s' if len(result.files) != 1 else ''}, "
               f"{result.value_count} value{'s' if result.value_count != 1 else ''}"
               + (f" ({result.closed_value_count} in closed semesters, left out of plans)"
                  if result.closed_value_count else ""))
    if fmt == "json":
        click.echo(render_json(result.problems, redact=redact, extra={
            "root": root_display(root), "files": list(result.files), "values": result.value_count,
            "closed_values": result.closed_value_count}))
    else:
        out = render_problems(result.problems, "github" if fmt == "github" else "text", redact=redact)
        if out:
            click.echo(out)
        verdict = "valid" if result.ok else "INVALID"
        click.echo(f"{root_display(root)}: {verdict}: {summary}; {counts_line(result.problems)}")
    return 0 if result.ok else 1


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("metrics"))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path, force: bool) -> int:
    """Scaffold a new metrics root in DIRECTORY (default: ./metrics).

    Writes syncer.yaml, a catalog.yaml skeleton, one data file under teams/, the JSON Schemas under
    .schemas/ (the files point at them for VS Code's YAML extension) and a .gitignore for local state.
    """
    from syncer.scaffold import init_root

    written = init_root(directory, force=force)
    for path in written:
        click.echo(f"wrote {path.as_posix()}")
    click.echo(f"\nNext: replace the example IDs in {directory.as_posix()}/catalog.yaml with your tenant's, "
               f"then run: syncer validate --root {directory.as_posix()}")
    return 0


@cli.group()
def schema() -> None:
    """The JSON Schemas of syncer's files (for editors and other tools)."""


@schema.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def schema_export(directory: Path) -> int:
    """Write the JSON Schemas (settings, catalog, data files, ...) into DIRECTORY."""
    from syncer.scaffold import export_schemas

    for path in export_schemas(directory):
        click.echo(f"wrote {path.as_posix()}")
    return 0


def main() -> None:
    cli.main()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep it on loopback: the emulator accepts well-known credentials.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the URL printed first says which).")
@click.option("--tenant", "tenant_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tenant file (schemas/emulator-tenant.schema.json); default: the tenant matching the "
                   "example metrics/ root.")
@click.option("--import-per-minute", type=click.IntRange(min=1), default=None,
              help="Rate limit of metric_details/import per minute (Feishu's is 10); overrides the "
                   "tenant file.")
def emulator(host: str, port: int, tenant_file: Path | None, import_per_minute: int | None) -> int:
    """Run a local Feishu emulator until Ctrl-C or SIGTERM.

    The first line printed is its URL (http://127.0.0.1:PORT): point FEISHU_BASE_URL (or --base-url)
    at it, with FEISHU_APP_ID=cli_emulator and FEISHU_APP_SECRET=emulator_secret unless the tenant file
    says otherwise. The official lark-oapi SDK works against it unchanged. Test helpers live under
    URL/_emulator/ (request log, stored values, fault injection); see docs/emulator.md.
    """
    from syncer.emulator import Emulator, EmulatorServer, is_loopback, load_tenant, run_until_stopped

    tenant = load_tenant(tenant_file)
    emu = Emulator(tenant, import_per_minute=import_per_minute)

    def ready(server: EmulatorServer) -> None:
        click.echo(server.url)
        if not is_loopback(host):
            click.secho(
                f"WARNING: the emulator listens on {host}, not on loopback: anyone who can reach this "
                f"address can use it with the app secret of the tenant file. Use --host 127.0.0.1 "
                f"unless you know why not.",
                err=True, fg="red", bold=True,
            )
        click.echo(
            f"Feishu emulator ready: app_id {tenant.app.app_id}, tenant "
            f"{tenant_file or 'default'}, import limit "
            f"{emu.tenant.rate_limits['metric_details.import'].per_minute or 'none'}/min. Ctrl-C stops it.",
            err=True,
        )

    run_until_stopped(emu, host=host, port=port, on_ready=ready)
    click.echo("Feishu emulator stopped.", err=True)
    return 0


# --- plan and state (issue 4) ---------------------------------------------------------------------------

def state_option(f: Any) -> Any:
    return click.option(
        "--state", "state_path", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Use this state directory (relative to the current directory) instead of state.path of "
             "syncer.yaml, e.g. to rehearse against another target.",
    )(f)


def _stdout_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


@cli.command()
@root_option
@state_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "github"]), default=None,
              help="Output format: text (terminal), markdown (PR comment), json (the plan data), github "
                   "(annotations and a summary). Default: github under GitHub Actions, else text.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the JSON plan to FILE (atomically), for `syncer apply --plan FILE` and CI "
                   "artifacts. Values are left out when redacting.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the plan has changes (forgets count), 0 when there is nothing to change.")
@redact_option
@click.option("--force", is_flag=True,
              help="Accept changes that pass a safety threshold (the plan still shows them); without it such "
                   "a plan exits 1, as apply would refuse it.")
@click.option("--refresh", is_flag=True,
              help="Also read the live values of the rows this plan touches (metric_details/query; needs "
                   "FEISHU_APP_ID and FEISHU_APP_SECRET) and show drift: values changed in Feishu outside "
                   "syncer, and fields admins own. With --detailed-exitcode, drift alone exits 2.")
@click.option("--refresh-all", is_flag=True,
              help="Like --refresh, for every row the state manages in open semesters (within "
                   "--refresh-budget).")
@click.option("--refresh-budget", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="At most N metric_details/query requests (50 reviewees each, 20 a minute) for --refresh; "
                   "rows beyond it are left unchecked, and the drift section says so.")
def plan(root: Path, state_path: Path | None, fmt: str | None, out: Path | None, detailed_exitcode: bool,
         redact: bool, force: bool, refresh: bool, refresh_all: bool, refresh_budget: int) -> int:
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
    """
    from typing import cast

    from syncer.errors import RefusedError
    from syncer.gitinfo import git_info
    from syncer.plan import how_to_proceed, make_plan
    from syncer.report.plan import PlanFormat, render_markdown_problems, render_plan
    from syncer.report.problems import counts_line, render_problems
    from syncer.state import load_checked, target_identity
    from syncer.state.fsio import atomic_write
    from syncer.validate import validate_root

    fmt = fmt or default_format(["text", "markdown", "json", "github"])
    shown_root = root_display(root)
    open_state = _store_opener(root, state_path)
    result = validate_root(root, root_display=shown_root, state_dir=state_path, open_state=open_state)
    if not result.ok or result.desired is None:
        if fmt == "markdown":
            click.echo(render_markdown_problems(result.problems, redact=redact), nl=False)
        else:
            click.echo(render_problems(result.problems, "json" if fmt == "json" else (
                "github" if fmt == "github" else "text"), redact=redact))
        click.echo(f"{shown_root}: INVALID: {counts_line(result.problems)}; no plan", err=True)
        return 1
    if result.problems:  # warnings only: annotations on stdout for GitHub, else on stderr
        if fmt == "github":
            click.echo(render_problems(result.problems, "github", redact=redact))
        else:
            click.echo(render_problems(result.problems, "text", redact=redact), err=True)
    store = open_state(result.settings)
    target = target_identity(result.settings, base_url=os.environ.get("FEISHU_BASE_URL") or None,
                             app_id=os.environ.get("FEISHU_APP_ID") or None)
    state, notes = load_checked(store, target=target)
    the_plan = make_plan(result.desired, state, safety=result.settings.safety,
                         git=git_info(root, exclude=[store.path]), target=target,
                         state_location=store.location, root=shown_root, notes=notes, force=force)
    if out is not None:
        from syncer.plan import plan_json

        atomic_write(out, plan_json(the_plan, redact=redact))
    drift = None
    if refresh or refresh_all:
        drift = _refresh(result, state, the_plan, scope="all" if refresh_all else "plan", budget=refresh_budget)
    if drift is not None and fmt == "json":
        click.echo(_plan_json_with_drift(the_plan, drift, redact=redact, detailed_exitcode=detailed_exitcode),
                   nl=False)
    else:
        click.echo(render_plan(the_plan, cast("PlanFormat", fmt), redact=redact,
                               color=fmt == "text" and _stdout_color()), nl=False)
        if drift is not None:
            click.echo(_render_drift(drift, result.catalog, fmt, redact=redact), nl=False)
    if the_plan.refused:
        raise RefusedError("this plan passes a safety threshold: " + how_to_proceed(the_plan))
    drifted = drift is not None and drift.detected
    return 2 if detailed_exitcode and (not the_plan.empty or drifted) else 0


def _refresh(result: Any, state: Any, the_plan: Any, *, scope: str, budget: int) -> Any:
    """Read the live values for drift (paced, progress on stderr) and compare them with the state."""
    from typing import cast

    from syncer.drift import Scope, compute_drift, fetch_remote, refresh_targets, requests_needed

    settings = result.settings
    targets = refresh_targets(the_plan, state, result.desired, scope=cast(Scope, scope))
    needed = requests_needed(targets)
    if needed:
        click.echo(f"Reading live values: {needed} metric_details/query request{'s' if needed != 1 else ''} "
                   f"needed, budget {budget}, 20 a minute ...", err=True)
    printer = _ReadProgressPrinter()
    with _live_reader(settings, None, printer) as reader:
        remote = fetch_remote(reader, targets, budget=budget, user_id_type=settings.target.user_id_type,
                              scope=cast(Scope, scope))
    printer.close()
    return compute_drift(plan=the_plan, state=state, desired=result.desired, remote=remote,
                         user_id_type=settings.target.user_id_type)


def _plan_json_with_drift(the_plan: Any, drift: Any, *, redact: bool, detailed_exitcode: bool) -> str:
    import json as _json

    from syncer.plan import plan_document
    from syncer.report.drift import drift_document

    doc = plan_document(the_plan, redact=redact)
    doc["drift"] = drift_document(drift, redact=redact, detailed_exitcode=detailed_exitcode)
    return _json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _render_drift(drift: Any, catalog: Any, fmt: str, *, redact: bool) -> str:
    from syncer.report import drift as report

    names = report.catalog_names(catalog)
    if fmt == "markdown":
        return report.render_markdown(drift, names, redact=redact)
    if fmt == "github":
        return report.render_github(drift, names, redact=redact)
    return report.render_text(drift, names, redact=redact)


def _store_opener(root: Path, state_path: Path | None) -> Any:
    """`open_store` for this root, called with the settings validation loads, at most once: validation reads the
    people cache through the very store the command then uses (for the git backend, one clone's view)."""
    opened: list[Any] = []

    def open_state(settings: Any) -> Any:
        from syncer.state import open_store

        if not opened:
            opened.append(open_store(root, settings, override=state_path))
        return opened[0]

    return open_state


@cli.group()
def state() -> None:
    """Inspect and repair the state: what syncer last applied, per target."""


def _state_context(root: Path, state_path: Path | None) -> tuple[Any, Any]:
    """The store and the catalog (for aliases) of a root; only settings and catalog are read."""
    from syncer.config import load_catalog, load_settings
    from syncer.state import open_store

    shown = root_display(root)
    settings, _ = load_settings(root, shown)
    catalog, _ = load_catalog(root, shown, settings)
    return open_store(root, settings, override=state_path), catalog


@state.command("show")
@root_option
@state_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
def state_show(root: Path, state_path: Path | None, fmt: str) -> int:
    """Show what is managed: counts per semester, identity, lineage, serial, last apply, rejected rows.

    Values themselves are never shown.
    """
    from syncer.report.state import render_state
    from syncer.state.inspect import summarize

    store, catalog = _state_context(root, state_path)
    holder = store.lock_holder()
    status = store.lock_status(holder) if holder is not None else None
    summary = summarize(store.load(), location=store.location, catalog=catalog, lock=holder,
                        lock_status=status)
    click.echo(render_state(summary, "json" if fmt == "json" else "text"), nl=False)
    return 0


@state.command("rm")
@root_option
@state_option
@click.option("--semester", "semesters", multiple=True, metavar="ALIAS|ID",
              help="Select values of this semester (repeatable).")
@click.option("--reviewee", "reviewees", multiple=True, metavar="ALIAS|ID",
              help="Select values of this reviewee (repeatable).")
@click.option("--metric", "metrics", multiple=True, metavar="ALIAS|ID",
              help="Select values of this metric (repeatable).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required without a terminal).")
def state_rm(root: Path, state_path: Path | None, semesters: tuple[str, ...], reviewees: tuple[str, ...],
             metrics: tuple[str, ...], yes: bool) -> int:
    """Stop managing the selected values, without touching Feishu.

    The values stay in Feishu as they are; syncer forgets it applied them (the next plan shows them as
    creates if the YAML still holds them). Selectors combine: --semester 2026-H2 --reviewee alice
    selects alice's values in 2026-H2.
    """
    from syncer.errors import RefusedError, StateError
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
        click.echo(f"{len(keys)} value{'s' if len(keys) != 1 else ''} in {len(rows)} row"
                   f"{'s' if len(rows) != 1 else ''} will no longer be managed (Feishu is not touched).")
        if not yes:
            if not sys.stdin.isatty():
                raise RefusedError("no terminal to confirm on: pass --yes")
            click.confirm("Stop managing them?", abort=True)
        removed = store.forget(keys, reason="rm")
        store.compact()
    click.echo(f"Done: {removed} value{'s' if removed != 1 else ''} no longer managed.")
    return 0


@state.command("unlock")
@root_option
@state_option
@click.option("--force", is_flag=True,
              help="Clear the lock even if its holder still runs on this host or runs on another host.")
def state_unlock(root: Path, state_path: Path | None, force: bool) -> int:
    """Clear the state's lock left by an apply that died.

    Refused while the holder still runs on this host (or when it cannot be checked from here) unless
    --force: two applies at once could send a batch twice.
    """
    store, _ = _state_context(root, state_path)
    held = store.unlock(force=force)
    if held is None:
        click.echo(f"The state at {store.location} is not locked.")
    else:
        click.echo(f"Cleared the lock of pid {held.pid} on {held.host} (since {held.time}).")
    return 0


# --- apply and demo (issue 5) ---------------------------------------------------------------------------

def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("GITHUB_ACTIONS") == "true"


class _ProgressPrinter:
    """Progress on a terminal (one line rewritten in place), plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._open = False

    def __call__(self, event: Any) -> None:
        from syncer.report.apply import render_progress

        line = render_progress(event)
        if self.tty and event.kind == "batch":
            click.echo(f"\r\033[K{line}", nl=False, err=True)
            self._open = True
            return
        self.close()
        click.echo(line, err=True)

    def close(self) -> None:
        if self._open:
            click.echo("", err=True)
            self._open = False


@cli.command()
@root_option
@state_option
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Apply this saved plan (from `syncer plan --out FILE`) only if it is still what an apply "
                   "would do now: same state (lineage, serial), same values; says why not otherwise.")
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking. Required when there is no terminal to ask on (CI).")
@click.option("--max-duration", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stop before a request that would end after this many seconds; exit 3 with the state "
                   "consistent (run apply again to continue).")
@click.option("--base-url", default=None, metavar="URL",
              help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url (https, or plain http "
                   "to loopback only).")
@click.option("--retry-rejected", is_flag=True,
              help="Send rows Feishu rejected before even though their values have not changed.")
@click.option("--preflight/--no-preflight", default=None,
              help="Before importing, check the plan's reviewees with reviewees/query and quarantine those "
                   "the semester does not hold (default: on in CI, off elsewhere).")
@redact_option
@click.option("--force", is_flag=True,
              help="Apply despite safety thresholds and the ancestor check of the last applied commit.")
def apply(root: Path, state_path: Path | None, plan_file: Path | None, auto_approve: bool,
          max_duration: float | None, base_url: str | None, retry_rejected: bool, preflight: bool | None,
          redact: bool, force: bool) -> int:
    """Plan, confirm, then push the changed values to Feishu and record them in the state.

    Credentials come from FEISHU_APP_ID and FEISHU_APP_SECRET only. Requests are paced evenly to
    target.import_per_minute (10 a minute on Feishu), each journaled before it is sent so a killed run
    loses nothing: the next apply settles it first. Exit 0: done; 1: error or refused; 3: stopped by
    --max-duration with work left; 4: done, but Feishu rejected some rows (listed with file:line, code and
    what to do; they are not sent again until they change).
    """
    import json as _json

    from syncer.errors import RefusedError, SyncerError
    from syncer.feishu import WriteClient, credentials_from_env, resolve_base_url
    from syncer.gitinfo import git_info, is_ancestor
    from syncer.report.plan import render_plan
    from syncer.report.problems import counts_line, render_problems
    from syncer.validate import validate_root

    shown_root = root_display(root)
    open_state = _store_opener(root, state_path)
    result = validate_root(root, root_display=shown_root, state_dir=state_path, open_state=open_state)
    if not result.ok or result.desired is None:
        click.echo(render_problems(result.problems, "github" if default_format(["github"]) == "github" else "text",
                                   redact=redact))
        raise RefusedError(f"{shown_root} is invalid ({counts_line(result.problems)}): nothing was applied")
    settings = result.settings
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    client = WriteClient(base_url=url, credentials=credentials_from_env())
    store = open_state(settings)
    saved = None
    if plan_file is not None:
        try:
            saved = _json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SyncerError(f"{plan_file}: not a plan file written by `syncer plan --out`: {exc}") from exc

    def ancestor(a: str, b: str) -> bool | None:
        try:
            return is_ancestor(a, b, cwd=root)
        except SyncerError:
            return None

    def confirm(the_plan: Any) -> bool:
        click.echo(render_plan(the_plan, "text", redact=redact, color=_stdout_color()), nl=False)
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise RefusedError("no terminal to confirm on: review the plan, then pass --auto-approve")
        return click.confirm("Apply these changes to Feishu?", default=False)

    printer = _ProgressPrinter()
    with client:
        run = _run_apply(store=store, client=client, settings=settings, desired=result.desired,
                         git=git_info(root, exclude=[store.path]), root=shown_root,
                         commit_is_ancestor=ancestor, confirm=confirm, saved_plan=saved,
                         max_duration=max_duration, retry_rejected=retry_rejected, force=force,
                         preflight=_is_ci() if preflight is None else preflight, progress=printer)
    printer.close()
    return _report_apply(run)


def _run_apply(**kwargs: Any) -> Any:
    from syncer.apply import run_apply

    return run_apply(**kwargs)


def _report_apply(run: Any) -> int:
    from syncer.plan import summary_line
    from syncer.report.apply import render_step_summary, render_summary

    if run.plan.empty and not run.report.settled and not run.report.rejected:
        click.echo(summary_line(run.plan))
        return 0
    click.echo(render_summary(run.report, run.plan.names), nl=False)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(render_step_summary(run.report, run.plan.names))
    return int(run.report.exit_code)


@cli.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Work in this directory (created) and keep it, instead of a temporary one.")
def demo(keep: Path | None) -> int:
    """The whole loop in a few seconds, against a built-in Feishu emulator: no credentials, no network.

    Copies the example metrics root to a temporary directory with its own state, then: validate, plan,
    apply, plan again (nothing to do), change a value, plan, apply. The emulator's import quota is scaled
    to 600 a minute so that it finishes in seconds; Feishu's real quota is 10 a minute.
    """
    from syncer.demo import run_demo

    return run_demo(keep=keep, echo=click.echo)


# --- state migrate (issue 7: the git backend) -------------------------------------------------------------

@state.command("migrate")
@root_option
@state_option
@click.option("--to", "to", type=click.Choice(["git", "local"]), required=True,
              help="git: push the local state (state.path, or --state PATH) as the first commit of state.branch "
                   "on state.remote; refused if the branch exists. local: copy the branch's state into "
                   "state.path (or --state PATH); refused if a state is there.")
def state_migrate(root: Path, state_path: Path | None, to: str) -> int:
    """Move the state between the local and the git backend, unchanged (same lineage, serial, journal).

    Takes both locks, so no apply runs meanwhile. Nothing is deleted: the source stays as it was. Then set
    `state: {backend: git}` (or `local`) in syncer.yaml and commit it.
    """
    from syncer.config import load_settings
    from syncer.state import LocalStateStore
    from syncer.state import state_path as local_state_path
    from syncer.state.git import migrate_to_git, migrate_to_local, open_git_store

    settings, _ = load_settings(root, root_display(root))
    local = LocalStateStore(local_state_path(root, settings, override=state_path))
    branch = open_git_store(root, settings)
    if to == "git":
        moved = migrate_to_git(local, branch)
        click.echo(f"Migrated the state (lineage {moved.meta.lineage}, serial {moved.meta.serial}) from "
                   f"{local.location} to {branch.location}.")
        click.echo("Next: set `state: {backend: git}` in syncer.yaml and commit it; once a plan reads the branch, "
                   f"the local directory {local.location} can be deleted.")
    else:
        moved = migrate_to_local(branch, local)
        click.echo(f"Migrated the state (lineage {moved.meta.lineage}, serial {moved.meta.serial}) from "
                   f"{branch.location} to {local.location}.")
        click.echo("Next: set `state: {backend: local}` in syncer.yaml and commit it; the branch "
                   f"{settings.state.branch} was left as it was.")
    return 0


# --- the live tenant: catalog pull, people resolve, import (issue 8) ------------------------------------------

class _ReadProgressPrinter:
    """Progress of paced reads on stderr: one line rewritten in place on a terminal; otherwise the first
    request of each endpoint, every 10th and the last."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._open = False

    def __call__(self, p: Any) -> None:
        line = (f"{p.endpoint}: {p.done}/{p.total} request{'s' if p.total != 1 else ''}"
                + (f", {p.requests_left} left, ETA {_eta(p.eta_seconds)}" if p.requests_left else ""))
        if self.tty:
            click.echo(f"\r\033[K{line}", nl=False, err=True)
            self._open = True
        elif p.done in (1, p.total) or p.done % 10 == 0:
            click.echo(line, err=True)

    def close(self) -> None:
        if self._open:
            click.echo("", err=True)
            self._open = False


def _eta(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {sec:02d} s"


def _live_reader(settings: Any, base_url: str | None, printer: _ReadProgressPrinter) -> Any:
    """A paced read client for the target: --base-url, FEISHU_BASE_URL, then target.base_url; credentials
    from FEISHU_APP_ID / FEISHU_APP_SECRET only."""
    from syncer.feishu import credentials_from_env, resolve_base_url
    from syncer.live import LiveReader

    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    return LiveReader(base_url=url, credentials=credentials_from_env(), progress=printer)


def _load_root(root: Path, state_path: Path | None, *, redact: bool) -> Any:
    """Validate the root (people cache of --state included); print the problems; refuse when invalid."""
    from syncer.errors import RefusedError
    from syncer.report.problems import counts_line, render_problems
    from syncer.validate import validate_root

    shown = root_display(root)
    result = validate_root(root, root_display=shown, state_dir=state_path)
    if result.problems:
        click.echo(render_problems(result.problems, "github" if default_format(["github"]) == "github" else "text",
                                   redact=redact), err=True)
    if not result.ok:
        raise RefusedError(f"{shown} is invalid ({counts_line(result.problems)}): fix it first")
    return result


@cli.group()
def catalog() -> None:
    """The catalog (catalog.yaml) and Feishu's metric library."""


@catalog.command("pull")
@root_option
@click.option("--base-url", default=None, metavar="URL",
              help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url (https, or plain http "
                   "to loopback only).")
@click.option("--write", is_flag=True,
              help="Write the merged catalog.yaml (atomically). Without it, only print the diff (a dry run).")
def catalog_pull(root: Path, base_url: str | None, write: bool) -> int:
    """Merge Feishu's semesters and metric library into catalog.yaml.

    Reads v1 semesters, metric_libs/query (every page) and metric_fields/query (each field's type), paced
    at their quotas (10 and 20 a minute); needs FEISHU_APP_ID and FEISHU_APP_SECRET. Entries already in the
    catalog (matched by ID) keep their alias, comments and text; new semesters, metrics and fields are
    added as new lines with readable aliases. Prints a unified diff; --write writes it. A second pull
    changes nothing. Differences it does not change (types, input_setting) are listed as notes.
    """
    from collections import Counter

    from syncer.catalog_pull import fetch_catalog, merge_into_root, write_catalog
    from syncer.config import load_settings
    from syncer.errors import RefusedError
    from syncer.report.problems import render_text

    shown = root_display(root)
    settings, problems = load_settings(root, shown)
    if any(p.severity == "error" for p in problems):
        click.echo(render_text(problems, redact=False), err=True)
        raise RefusedError(f"{shown}/syncer.yaml is invalid: fix it first")
    printer = _ReadProgressPrinter()
    click.echo("Reading Feishu's semesters and metric library (paced: semesters 10/min, the others 20/min) ...",
               err=True)
    with _live_reader(settings, base_url, printer) as reader:
        pulled = fetch_catalog(reader, user_id_type=settings.target.user_id_type)
        requests = reader.requests
    printer.close()
    result = merge_into_root(root, shown, settings, pulled)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    added = Counter(a.kind for a in result.additions)
    what = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(added.items())) or "nothing"
    if not result.changed:
        click.echo(f"{result.display} is up to date with Feishu ({len(pulled.semesters)} semesters, "
                   f"{len(pulled.metrics)} metrics in the library; {requests} requests).")
        return 0
    click.echo(result.diff(), nl=False)
    if result.new_problems:
        from syncer.report.problems import render_text as render_problems_text

        click.echo(render_problems_text(list(result.new_problems), redact=False), err=True)
        raise RefusedError(f"the merged {result.display} would be invalid (above): nothing was written")
    if not write:
        click.echo(f"Dry run: {result.display} would gain {what}. Run again with --write to write it.")
        return 0
    write_catalog(result)
    click.echo(f"Wrote {result.display}: added {what}.")
    return 0


@cli.group()
def people() -> None:
    """People of the catalog given by email: their user IDs, looked up in Feishu and cached."""


@people.command("resolve")
@root_option
@state_option
@click.option("--refresh", is_flag=True,
              help="Ask Feishu again for every email, not only for those the cache does not answer yet.")
@click.option("--base-url", default=None, metavar="URL",
              help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url.")
def people_resolve(root: Path, state_path: Path | None, refresh: bool, base_url: str | None) -> int:
    """Look up the user IDs of the catalog's people by email and cache them with the state.

    Uses contact users/batch_get_id (50 emails a request; 1000 requests a minute); needs FEISHU_APP_ID and
    FEISHU_APP_SECRET. The cache is people.json in the state, wherever it lives (state.path or --state PATH;
    with `state.backend: git`, the state branch): written under the state's lock (creating the state for
    this target if there is none yet), and read from there by validate, plan and apply for people given as
    `{email: ...}` without an id. Addresses not found are asked again with resigned users included, to tell a
    resigned user from an unknown address. Exit 0 when every address resolved, 1 when some did not (they are
    listed, and validation reports them).
    """
    from syncer.config import load_catalog, load_settings
    from syncer.errors import RefusedError, StateError
    from syncer.feishu import resolve_base_url
    from syncer.people import CACHE_FILE, read_cache, resolve_people, write_cache
    from syncer.state import load_checked, open_store, target_identity
    from syncer.state.gitcmd import GitError

    shown = root_display(root)
    settings, problems = load_settings(root, shown)
    cat, cat_problems = load_catalog(root, shown, settings)
    errors = [p for p in problems + cat_problems if p.severity == "error"]
    if errors:
        from syncer.report.problems import render_text

        click.echo(render_text(errors, redact=False), err=True)
        raise RefusedError(f"{shown} has an invalid syncer.yaml or catalog.yaml: fix it first")
    store = open_store(root, settings, override=state_path)
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    target = target_identity(settings, base_url=url, app_id=os.environ.get("FEISHU_APP_ID") or None)
    load_checked(store, target=target)  # another target's state is refused before any request
    try:
        cache = read_cache(store)
    except GitError:
        raise
    except StateError as exc:
        click.echo(f"note: {exc}; starting a new cache", err=True)
        cache = None
    printer = _ReadProgressPrinter()
    with _live_reader(settings, base_url, printer) as reader:
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
        click.echo(f"note: {note}", err=True)
    for r in report.resolved:
        shown_id = r.user_id or {"resigned": "(resigned)", "unknown": "(not found)"}.get(r.status, "")
        flag = f"  ! the catalog says {r.catalog_id}" if r.mismatch else ""
        click.echo(f"  {r.alias}  {r.email}  {shown_id}{flag}")
    found = len(report.by_status("active"))
    failed = len(report.by_status("resigned")) + len(report.by_status("unknown"))
    click.echo(f"Resolved {found}, not found {len(report.by_status('unknown'))}, resigned "
               f"{len(report.by_status('resigned'))} with {report.requests} request"
               f"{'s' if report.requests != 1 else ''}; {report.cached} answered from the cache"
               f"{' (--refresh asks again)' if report.cached else ''}. Cache: {store.location}/{CACHE_FILE}"
               f"{'' if changed else ' (unchanged)'}")
    if report.mismatches:
        click.echo(f"warning: {len(report.mismatches)} people have an id in catalog.yaml that differs from their "
                   "email's user ID (marked !)", err=True)
    if failed:
        raise RefusedError(f"{failed} address{'es' if failed != 1 else ''} could not be resolved (listed above): "
                           "fix them in catalog.yaml, then run `syncer people resolve --refresh`")
    return 0


@cli.command("import")
@click.option("--semester", required=True, metavar="ALIAS|ID",
              help="The semester to import: an alias of catalog.yaml or a semester ID.")
@click.option("--reviewees", "reviewees", multiple=True, metavar="ALIAS|ID",
              help="Import these reviewees (people aliases or raw IDs; repeatable, or comma-separated).")
@click.option("--all", "all_reviewees", is_flag=True,
              help="Import every reviewee of the semester (read with reviewees/query).")
@root_option
@state_option
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the data files (inside the root). Default: ROOT/imported.")
@click.option("--per-file", type=click.IntRange(min=1), default=100, show_default=True,
              help="Reviewees per data file.")
@click.option("--skip-existing", is_flag=True,
              help="Leave rows that data files already hold with other values alone (neither written nor "
                   "recorded) instead of refusing the import.")
@click.option("--base-url", default=None, metavar="URL",
              help="Feishu API base URL; overrides FEISHU_BASE_URL and target.base_url.")
@redact_option
def import_values(semester: str, reviewees: tuple[str, ...], all_reviewees: bool, root: Path,
                  state_path: Path | None, out_dir: Path | None, per_file: int, skip_existing: bool,
                  base_url: str | None, redact: bool) -> int:
    """Adopt the values Feishu already holds: write them as data files and record them as applied.

    Like `terraform import`: reads the reviewees (reviewees/query, paged) and their values
    (metric_details/query, 50 reviewees a request, 20 requests a minute), maps metrics, fields and people
    to catalog aliases (metrics and fields the catalog does not know are left out, and listed), writes one
    data file per --per-file reviewees, checks that each reads back exactly and that the root stays valid,
    then records the values in the state so that the next `syncer plan` shows nothing to do. Rows that
    data files already hold are adopted when their values are Feishu's and refused otherwise.
    """
    from syncer.errors import SyncerError
    from syncer.gitinfo import git_info
    from syncer.importer import ImportConflict, ImportInvalid, ImportOptions, run_import
    from syncer.report.problems import render_text
    from syncer.state import open_store, target_identity

    wanted = tuple(r.strip() for item in reviewees for r in item.split(",") if r.strip())
    if bool(wanted) == all_reviewees:
        raise click.UsageError("give either --reviewees ALIAS|ID ... or --all")
    result = _load_root(root, state_path, redact=redact)
    settings = result.settings
    store = open_store(root, settings, override=state_path)
    printer = _ReadProgressPrinter()
    reader = _live_reader(settings, base_url, printer)
    target = target_identity(settings, base_url=reader.client.base_url, app_id=reader.client.app_id)
    options = ImportOptions(semester=semester, reviewees=wanted, all_reviewees=all_reviewees, out_dir=out_dir,
                            per_file=per_file, skip_existing=skip_existing)
    names = {p.id: a for a, p in sorted(result.catalog.people.items(), reverse=True) if p.id}
    metrics = {m.id: a for a, m in result.catalog.metrics.items()}
    try:
        with reader:
            report = run_import(root=root, root_display=root_display(root), result=result, reader=reader,
                                store=store, target=target, options=options,
                                git=git_info(root, exclude=[store.path]),
                                state_dir=state_path)
    except ImportConflict as exc:
        printer.close()
        for c in exc.conflicts:
            diffs = ", ".join(f"{f}: {_shown_value(a, redact)} in the file, {_shown_value(b, redact)} in Feishu"
                              for f, a, b in c.differences)
            click.echo(f"{c.source}: {names.get(c.row.reviewee, c.row.reviewee)} / "
                       f"{metrics.get(c.row.metric, c.row.metric)}: {diffs}", err=True)
        raise
    except ImportInvalid as exc:
        printer.close()
        click.echo(render_text(list(exc.problems), redact=redact), err=True)
        raise
    except SyncerError:
        printer.close()
        raise
    printer.close()
    click.echo(f"Read {report.reviewees_asked} reviewee{'s' if report.reviewees_asked != 1 else ''} of "
               f"{report.semester_label} ({report.semester}) with {report.requests} request"
               f"{'s' if report.requests != 1 else ''}.")
    for f in report.files:
        click.echo(f"wrote {f}")
    if report.skipped:
        click.echo("Left out (not written, not recorded):")
        for why, n in report.skipped:
            click.echo(f"  {n} {why}")
    if report.rows_adopted:
        click.echo(f"{report.rows_adopted} row{'s' if report.rows_adopted != 1 else ''} already in data files with "
                   "Feishu's values: adopted as they are.")
    if report.rows_left_alone:
        click.echo(f"{report.rows_left_alone} row{'s' if report.rows_left_alone != 1 else ''} already in data files "
                   "with other values: left alone (--skip-existing); the plan shows them as changes.")
    if report.batch is None:
        click.echo("Nothing to import: Feishu holds no values of the catalog's metrics for these reviewees.")
        return 0
    click.echo(f"Imported {report.values_written} value{'s' if report.values_written != 1 else ''} in "
               f"{report.rows_written} row{'s' if report.rows_written != 1 else ''} of {report.reviewees_written} "
               f"reviewee{'s' if report.reviewees_written != 1 else ''}; recorded as applied in the state at "
               f"{store.location} (batch {report.batch.id}).")
    expect = (f"it shows the {report.rows_left_alone} row{'s' if report.rows_left_alone != 1 else ''} left alone "
              "as changes" if report.rows_left_alone else "it should show no changes")
    click.echo(f"Next: syncer plan --root {root_display(root)} ({expect}), then commit the files.")
    return 0


def _shown_value(value: str | None, redact: bool) -> str:
    if value is None:
        return "(none)"
    return "(redacted)" if redact else repr(value)
