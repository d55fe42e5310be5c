"""The command table: every command is in it, with the module that defines it and its own short help, so
that the group lists them all without importing one, and imports a command's module only for that
command."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest

from syncer.cli import cli
from syncer.cli.commands import COMMANDS
from tests.example import copy_example

COMMAND_MODULES = sorted({entry.module for entry in COMMANDS.values()})
LIBRARIES = ("jsonschema", "yaml", "httpx", "json")  # what --version need not pay for
STAGES = ("syncer.load", "syncer.plan", "syncer.state", "syncer.apply", "syncer.feishu")


def _loaded() -> dict[str, click.Command]:
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return dict(cli.commands)


def test_the_table_names_every_command_and_its_module() -> None:
    commands = _loaded()
    assert sorted(commands) == sorted(COMMANDS)
    for name, command in commands.items():
        assert command.callback is not None
        assert command.callback.__module__ == COMMANDS[name].module, name


@pytest.mark.parametrize("limit", [20, 45, 80, 500])
def test_the_tables_short_help_is_each_commands_own(limit: int) -> None:
    for name, command in _loaded().items():
        assert command.get_short_help_str(limit) == click.Command(name, help=COMMANDS[name].help).get_short_help_str(
            limit
        ), name
    assert COMMANDS["validate"].help == "Load and check the metrics root, offline."


def test_help_lists_the_commands_as_click_would_with_them_imported() -> None:
    _loaded()
    ctx = click.Context(cli, max_content_width=100)
    ours, clicks = ctx.make_formatter(), ctx.make_formatter()
    cli.format_commands(ctx, ours)
    click.Group.format_commands(cli, ctx, clicks)
    assert ours.getvalue() == clicks.getvalue()
    assert "  plan      Validate, then show what an apply would change" in ours.getvalue()


def _modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after `code`: syncer's and the LIBRARIES'."""
    probe = f"import sys\n{code}\nprint('--modules--', *sorted(sys.modules))"  # json would count itself
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    names = done.stdout.rsplit("--modules--", 1)[1].split()
    return [n for n in names if n.startswith("syncer.") or n.split(".")[0] in LIBRARIES]


def _run(*args: str) -> str:
    call = f"cli.main({list(args)!r}, standalone_mode=False)"
    return f"from syncer.cli import cli\ntry:\n    {call}\nexcept SystemExit:\n    pass"


@pytest.mark.parametrize("args", [[], ["--version"], ["--help"]])
def test_start_up_imports_no_command_module(args: list[str]) -> None:
    """`import syncer.cli`, `syncer --version` and `syncer --help` import the group alone: no command module,
    no stage, no YAML or JSON Schema library."""
    loaded = _modules_after(_run(*args) if args else "import syncer.cli")
    assert [m for m in loaded if m in COMMAND_MODULES or m.split(".")[0] in LIBRARIES] == []
    assert [m for m in loaded if m.startswith(STAGES) or m == "syncer.model"] == []
    assert "syncer.cli.main" in loaded


def test_a_command_imports_its_own_module_only() -> None:
    loaded = _modules_after(_run("fmt", "--help"))
    assert [m for m in loaded if m in COMMAND_MODULES] == ["syncer.cli.fmt"]


def test_validate_of_a_valid_root_imports_no_json_schema_library(tmp_path: Path) -> None:
    """The settings and the catalog are checked without jsonschema when they are valid (see
    syncer.load.schemavalid); only an invalid one imports it, for its messages."""
    root = tmp_path / "metrics"
    copy_example(root)
    loaded = _modules_after(_run("validate", "--root", str(root)))
    assert "syncer.load.validate" in loaded
    assert [m for m in loaded if m.split(".")[0] == "jsonschema"] == []
    (root / "syncer.yaml").write_text((root / "syncer.yaml").read_text() + "unknown_key: 1\n")
    assert "jsonschema" in _modules_after(_run("validate", "--root", str(root)))
