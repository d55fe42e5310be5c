"""Progress on stderr, one printer for every command: on a terminal a status line rewritten in place,
elsewhere (CI logs) plain lines."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from syncer.text import duration, plural

if TYPE_CHECKING:
    from syncer.apply.outcome import Progress
    from syncer.live.reader import ReadProgress


class Printer:
    def __init__(self, *, tty: bool | None = None) -> None:
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._open = False

    def status(self, text: str, *, log: bool = True) -> None:
        """A line the next one replaces on a terminal; elsewhere printed when `log`."""
        if self.tty:
            click.echo(f"\r\033[K{text}", nl=False, err=True)
            self._open = True
        elif log:
            click.echo(text, err=True)

    def line(self, text: str) -> None:
        """A line that stays."""
        self.close()
        click.echo(text, err=True)

    def close(self) -> None:
        if self._open:
            click.echo("", err=True)
            self._open = False

    # --- the events of apply and of paced reads -----------------------------------------------------------

    def apply_event(self, event: Progress) -> None:
        from syncer.report.apply import render_progress

        text = render_progress(event)
        if event.kind == "batch":
            self.status(text)
        else:
            self.line(text)

    def read_event(self, p: ReadProgress) -> None:
        """Reads: on a terminal every answer; elsewhere the first of each endpoint, every 10th and the last."""
        text = f"{p.endpoint}: {p.done}/{plural(p.total, 'request')}" + (
            f", {p.requests_left} left, ETA {duration(p.eta_seconds)}" if p.requests_left else ""
        )
        self.status(text, log=p.done in (1, p.total) or p.done % 10 == 0)
