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
