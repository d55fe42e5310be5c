from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from syncer import __version__
from syncer.cli import cli
from tests.example import copy_example
from tests.paths import REPO


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "metrics"
    copy_example(root)
    sales = root / "teams" / "sales.yaml"
    sales.write_text(
        sales.read_text().replace("target: 1200000", "target: 12,000", 1) + "  nobody:\n    nps: {target: 1}\n"
    )
    monkeypatch.chdir(tmp_path)
    return root


def test_version() -> None:
    assert run("--version") == (0, f"syncer {__version__}\n")


def test_help_on_every_command() -> None:
    from syncer.cli import cli as group

    ctx = click.Context(group)

    def walk(cmd: click.Command, path: list[str]) -> list[list[str]]:
        out = [path]
        if isinstance(cmd, click.Group):  # the top group's commands are imported as they are asked for
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, name
                out += walk(sub, [*path, name])
        return out

    paths = walk(group, [])
    assert ["plan"] in paths and ["state", "show"] in paths
    for path in paths:
        code, out = run(*path, "--help")
        assert code == 0 and "Usage:" in out, path
        cmd: click.Command | None = group
        for name in path:
            assert isinstance(cmd, click.Group)
            cmd = cmd.get_command(ctx, name)
        assert cmd is not None
        assert cmd.help, f"no help text for {' '.join(path)}"
        for param in cmd.params:
            if param.param_type_name == "option":
                assert isinstance(param, click.Option) and param.help, f"option {param.name} of {' '.join(path)}"


def test_usage_errors_exit_1_not_2() -> None:
    code, out = run("validate", "--format", "xml")
    assert code == 1 and "Invalid value" in out
    assert run("no-such-command")[0] == 1


def test_validate_example_ok() -> None:
    code, out = run("validate", "--root", str(REPO / "metrics"))
    assert code == 0
    verdict, hint = out.strip().splitlines()[-2:]
    assert verdict.endswith("0 errors, 0 warnings")
    assert hint == f"Next: `syncer plan --root {REPO / 'metrics'}` shows what an apply would change."


def test_validate_reports_each_problem_with_location(broken: Path) -> None:
    code, out = run("validate")
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("metrics/teams/sales.yaml:") and "'12,000' is not a number" in line for line in lines)
    assert any("unknown reviewee 'nobody'" in line for line in lines)
    assert lines[-2].startswith("metrics: INVALID") and "2 errors" in lines[-2]
    assert lines[-1] == "Next: fix the problems above, then run `syncer validate` again."


def test_validate_redacts_values(broken: Path) -> None:
    code, out = run("validate", "--redact-values")
    assert code == 1 and "12,000" not in out and "(redacted) is not a number" in out
    code, out = run("validate", env={"SYNCER_REDACT": "1"})
    assert "12,000" not in out


def test_validate_json(broken: Path) -> None:
    code, out = run("validate", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["valid"] is False and data["errors"] == 2
    assert {p["code"] for p in data["problems"]} == {"bad-number", "unknown-person"}
    assert all(p["file"] == "metrics/teams/sales.yaml" and p["line"] > 0 for p in data["problems"])


def test_validate_github_is_default_under_actions(broken: Path) -> None:
    code, out = run("validate", env={"GITHUB_ACTIONS": "true"})
    assert code == 1
    ann = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(ann) == 2
    assert ann[0].startswith("::error file=metrics/teams/sales.yaml,line=")
    assert "title=bad-number::" in ann[0]
    assert "metrics/teams/sales.yaml:" in out.split(ann[-1])[1]  # the plain list follows
    assert "2 errors" in out.splitlines()[-1]


def test_github_escaping() -> None:
    from syncer.problems import Problem
    from syncer.report.problems import render_github

    # A message is one line: a line break in it can only come from a file, and is shown as `\n`.
    p = Problem("a,b:c\n.yaml", 1, 2, "error", "x", "50% of {value}\nnext", "v")
    first = str(render_github([p], redact=False)).splitlines()[0]
    assert first == "::error file=a%2Cb%3Ac%0A.yaml,line=1,col=2,title=x::50%25 of 'v'\\nnext"


def test_missing_root_is_one_clear_line_no_traceback(tmp_path: Path) -> None:
    code, out = run("validate", "--root", str(tmp_path / "absent"))
    assert code == 1 and "Traceback" not in out and "metrics root not found" in out


def test_unexpected_exception_says_bug_and_debug_shows_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import syncer.load.validate

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(syncer.load.validate, "validate_root", boom)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1 and "This is a bug in syncer" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--debug", "validate"])
    assert result.exit_code == 1 and "Traceback" in result.output


def test_init_then_validate(tmp_path: Path) -> None:
    dest = tmp_path / "new"
    code, out = run("init", str(dest))
    assert code == 0 and "wrote" in out
    assert (dest / ".schemas" / "data.schema.json").is_file()
    first = (dest / "teams" / "example.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../.schemas/data.schema.json"
    assert (dest / first.split("=", 1)[1].replace("..", "teams/..")).resolve().is_file()
    assert run("validate", "--root", str(dest))[0] == 0
    code, out = run("init", str(dest))
    assert code == 1 and "already exist" in out and "--force" in out
    assert run("init", str(dest), "--force")[0] == 0


def test_schema_export(tmp_path: Path) -> None:
    code, _ = run("schema", "export", str(tmp_path / "s"))
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert code == 0 and {"catalog.schema.json", "data.schema.json", "syncer.schema.json"} <= set(names)


def test_python_dash_m() -> None:
    out = subprocess.run([sys.executable, "-m", "syncer", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"syncer {__version__}"


def test_demo_keep_never_overwrites_a_root_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "mine.yaml").write_text("precious\n")
    code, out = run("demo", "--keep", str(tmp_path))
    assert code == 1 and "was not made by `syncer demo`" in out
    assert (tmp_path / "metrics" / "mine.yaml").read_text() == "precious\n"


def test_paths_that_cannot_be_written_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    code, out = run("init", str(tmp_path / "afile" / "x"))
    assert code == 1 and "cannot write" in out and "bug" not in out
    code, out = run("schema", "export", str(tmp_path / "afile" / "y"))
    assert code == 1 and "cannot write" in out


def test_ctrl_c_at_a_prompt_exits_130_not_aborted() -> None:
    """click turns Ctrl-C at a prompt into `Abort() from None`: the KeyboardInterrupt is its context."""
    from syncer.cli.main import SyncerGroup

    group = SyncerGroup()

    @group.command()
    def ask() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.Abort() from None

    @group.command()
    def eof() -> None:
        raise click.Abort()

    result = CliRunner().invoke(group, ["ask"])
    assert result.exit_code == 130 and "Interrupted." in result.output
    result = CliRunner().invoke(group, ["eof"])
    assert result.exit_code == 1 and "Aborted." in result.output
