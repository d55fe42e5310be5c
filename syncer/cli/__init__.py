"""The command line: parse options, call the core, render, return an exit code. Only this package imports
click. Expected failures (`SyncerError`) print one line and exit 1; anything else is a bug.

One module per group of commands; importing one registers its commands on the group, which imports it
when one of them is asked for (`commands.COMMANDS` says which module holds which command)."""

from __future__ import annotations

from syncer.cli.main import cli, main

__all__ = ["cli", "main"]
