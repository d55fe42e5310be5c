"""The command line: parse options, call the core, render, return an exit code. Only this package imports
click. Expected failures (`SyncerError`) print one line and exit 1; anything else is a bug.

One module per group of commands; importing them registers their commands on the group."""

from __future__ import annotations

from syncer.cli import apply, doctor, emulator, files, fmt, live, plan, sheet, state  # noqa: F401 (registers the commands)
from syncer.cli.main import cli, main

__all__ = ["cli", "main"]
