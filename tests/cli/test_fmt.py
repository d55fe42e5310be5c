"""`syncer fmt` on the command line: --check lists and exits 1, a run rewrites and a second check passes,
a file that does not load is located and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from tests.example import copy_example


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    sales = root / "teams" / "sales.yaml"
    sales.write_text(
        sales.read_text().replace("      weight: 60%\n      unit: CNY", "      unit:   CNY\n      weight: 60%", 1)
    )
    return root


def test_check_lists_the_files_and_exits_1_then_fmt_rewrites_them(root: Path) -> None:
    code, out, _ = run("fmt", "--check")
    assert code == 1
    assert out.splitlines()[0] == "would reformat metrics/teams/sales.yaml"
    assert "1 file would be reformatted, 4 already formatted" in out
    code, out, _ = run("fmt")
    assert (code, out.splitlines()[0]) == (0, "reformatted metrics/teams/sales.yaml")
    assert run("fmt", "--check") == (0, "5 files already formatted\n", "")
    code, out, _ = run("validate")
    assert code == 0, out


def test_a_file_that_does_not_load_is_located_and_nothing_is_written(root: Path) -> None:
    (root / "teams" / "broken.yaml").write_text("semester: 2026-H2\nreviewees:\n  bob: [\n")
    before = (root / "teams" / "sales.yaml").read_text()
    code, out, err = run("fmt")
    assert code == 1
    assert "metrics/teams/broken.yaml:4:1" in err
    assert "nothing was written" in err
    assert (root / "teams" / "sales.yaml").read_text() == before
    assert out == ""


def test_paths_outside_the_root_are_left_alone(root: Path) -> None:
    (root.parent / "ci.yaml").write_text("on:   push\n")
    code, out, err = run("fmt", "ci.yaml", "metrics/teams/sales.yaml")
    assert code == 0
    assert out.splitlines()[0] == "reformatted metrics/teams/sales.yaml"
    assert "ci.yaml: not the catalog or a data file of metrics: left alone" in err
    assert (root.parent / "ci.yaml").read_text() == "on:   push\n"


def test_fmt_has_help() -> None:
    code, out, _ = run("fmt", "--help")
    assert code == 0
    assert "--check" in out
