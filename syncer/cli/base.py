"""The click group, its error handling, and the options the commands share."""

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

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("SYNCER_DEBUG") == "1"
        try:
            rv = super().main(
                args=argv, prog_name=prog_name or "syncer", complete_var=complete_var, standalone_mode=False, **extra
            )
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
        "--root",
        "root",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("metrics"),
        show_default=True,
        help="The metrics root: the directory holding syncer.yaml and catalog.yaml.",
    )(f)


def redact_option(f: Any) -> Any:
    return click.option(
        "--redact-values",
        "redact",
        is_flag=True,
        envvar="SYNCER_REDACT",
        help="Hide every value in the output (also SYNCER_REDACT=1): values are personal data.",
    )(f)


def default_format(choices: Sequence[str], fallback: str = "text") -> str:
    """`github` under GitHub Actions when the command offers it, else `fallback`."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and "github" in choices:
        return "github"
    return fallback


def root_display(root: Path) -> str:
    return os.path.normpath(root.as_posix()).replace(os.sep, "/")


def state_option(f: Any) -> Any:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Use this state directory (relative to the current directory) instead of state.path of "
        "syncer.yaml, e.g. to rehearse against another target.",
    )(f)


def _stdout_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("GITHUB_ACTIONS") == "true"


def main() -> None:
    cli.main()


# --- shared by several commands ---------------------------------------------------------------------


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


class _ReadProgressPrinter:
    """Progress of paced reads on stderr: one line rewritten in place on a terminal; otherwise the first
    request of each endpoint, every 10th and the last."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._open = False

    def __call__(self, p: Any) -> None:
        line = f"{p.endpoint}: {p.done}/{p.total} request{'s' if p.total != 1 else ''}" + (
            f", {p.requests_left} left, ETA {_eta(p.eta_seconds)}" if p.requests_left else ""
        )
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
