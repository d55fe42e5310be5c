"""The click group and its error handling: usage errors exit 1 (click's 2 is remapped), expected failures
(`SyncerError`) are one line, anything else is reported as a bug (`--debug` for the traceback)."""

from __future__ import annotations

import importlib
import io
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from syncer import __version__
from syncer.cli.commands import COMMANDS
from syncer.cli.output import guarded_output
from syncer.errors import SyncerError
from syncer.interrupt import exit_code, stopped_line
from syncer.text import inert_lines, safe

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class SyncerGroup(click.Group):
    """A group whose usage errors exit 1 and whose failures are one line, and whose commands are imported
    when asked for (see syncer.cli.commands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is not None and cmd_name not in self.commands:
            importlib.import_module(entry.module)  # its decorators add its commands to this group
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, each shortened as click does, from the table: no module imported."""
        rows = [(name, click.Command(name, help=entry.help)) for name, entry in sorted(COMMANDS.items())]
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        with guarded_output():
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)

    def _main(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        standalone_mode: bool,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("SYNCER_DEBUG") == "1"
        try:
            rv = super().main(
                args=argv, prog_name=prog_name or "syncer", complete_var=complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(
                cause, KeyboardInterrupt
            ):  # click turns Ctrl-C (and SIGTERM: interrupt.Terminated) into Abort
                click.echo(stopped_line(cause), err=True)
                _exit(exit_code(cause), standalone_mode)
            click.echo("Aborted.", err=True)
            _exit(1, standalone_mode)
        except click.ClickException as exc:
            shown = io.StringIO()  # click's messages quote what the user typed: escaped like any text
            exc.show(file=shown)
            click.echo(inert_lines(shown.getvalue().rstrip("\n").split("\n")), err=True, nl=False)
            _exit(1, standalone_mode)
        except click.exceptions.Exit as exc:
            _exit(exc.exit_code, standalone_mode)
        except SyncerError as exc:
            if debug:
                _traceback()
            # One line, escaped whole: a message quotes paths and server text, whose line breaks are theirs.
            # Only messages that are lists by design (a tenant file's problems) keep their lines.
            text = f"error: {exc}"
            click.echo(inert_lines(text.split("\n")) if exc.multiline else safe(text) + "\n", err=True, nl=False)
            _exit(exc.exit_code, standalone_mode)
        except KeyboardInterrupt as exc:
            click.echo(stopped_line(exc), err=True)
            _exit(exit_code(exc), standalone_mode)
        except Exception as exc:
            if debug:
                _traceback()
            else:
                click.echo(
                    f"internal error: {type(exc).__name__}: {safe(str(exc))}\n"
                    "This is a bug in syncer. Run again with --debug for the traceback and report it.",
                    err=True,
                )
            _exit(1, standalone_mode)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


def _traceback() -> None:
    """The traceback (--debug), each line escaped: exception texts quote paths and values."""
    import traceback  # only for --debug: not on every command's start-up

    click.echo(inert_lines(traceback.format_exc().rstrip("\n").split("\n")), err=True, nl=False)


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


def main() -> None:
    from syncer import perf

    perf.freeze_after_pause = True  # this process ends with its command (see syncer.perf)
    cli.main()
