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
def plan(root: Path, state_path: Path | None, fmt: str | None, out: Path | None, detailed_exitcode: bool,
         redact: bool, force: bool) -> int:
    """Validate, then show what an apply would change: desired values minus the state.

    Changes are per value: create, update (last applied -> new) and forget (gone from the YAML: the value
    stays in Feishu and syncer stops managing it). Requests are per row, 50 rows each. Needs no
    credentials and never writes to Feishu or to the state. Exit 0: done (with --detailed-exitcode: no
    changes); 1: invalid input, wrong target, newer state format or a safety threshold passed without
    --force; 2 (with --detailed-exitcode): there are changes.
    """
    from typing import cast

    from syncer.errors import RefusedError
    from syncer.gitinfo import git_info
    from syncer.plan import how_to_proceed, make_plan
    from syncer.report.plan import PlanFormat, render_markdown_problems, render_plan
    from syncer.report.problems import counts_line, render_problems
    from syncer.state import load_checked, open_store, target_identity
    from syncer.state.fsio import atomic_write
    from syncer.validate import validate_root

    fmt = fmt or default_format(["text", "markdown", "json", "github"])
    shown_root = root_display(root)
    result = validate_root(root, root_display=shown_root)
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
    store = open_store(root, result.settings, override=state_path)
    target = target_identity(result.settings, base_url=os.environ.get("FEISHU_BASE_URL") or None,
                             app_id=os.environ.get("FEISHU_APP_ID") or None)
    state, notes = load_checked(store, target=target)
    the_plan = make_plan(result.desired, state, safety=result.settings.safety,
                         git=git_info(root, exclude=[store.path]), target=target,
                         state_location=store.location, root=shown_root, notes=notes, force=force)
    if out is not None:
        from syncer.plan import plan_json

        atomic_write(out, plan_json(the_plan, redact=redact))
    click.echo(render_plan(the_plan, cast("PlanFormat", fmt), redact=redact,
                           color=fmt == "text" and _stdout_color()), nl=False)
    if the_plan.refused:
        raise RefusedError("this plan passes a safety threshold: " + how_to_proceed(the_plan))
    return 2 if detailed_exitcode and not the_plan.empty else 0


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
    from syncer.state import open_store
    from syncer.validate import validate_root

    shown_root = root_display(root)
    result = validate_root(root, root_display=shown_root)
    if not result.ok or result.desired is None:
        click.echo(render_problems(result.problems, "github" if default_format(["github"]) == "github" else "text",
                                   redact=redact))
        raise RefusedError(f"{shown_root} is invalid ({counts_line(result.problems)}): nothing was applied")
    settings = result.settings
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    client = WriteClient(base_url=url, credentials=credentials_from_env())
    store = open_store(root, settings, override=state_path)
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
