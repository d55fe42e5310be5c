"""Symbolic links under a root: one rule for files and directories. None is followed (a link could read
files outside the root, or count a file twice), and none is skipped silently: each is an error at its own
path, unless `exclude:` names it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncer.load.validate import validate_root
from tests.example import copy_example


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "metrics")


def _symlink_problems(root: Path) -> list[str]:
    result = validate_root(root, root_display="m")
    assert not result.ok and result.desired is None  # a link makes the root invalid: nothing is planned
    return [f"{p.file} {p.text(redact=False)}" for p in result.problems if p.code == "symlink"]


def test_a_linked_file_outside_the_root_is_an_error_at_the_link(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text((root / "teams" / "sales.yaml").read_text())
    (root / "teams" / "sales.yaml").unlink()
    os.symlink(outside, root / "teams" / "sales.yaml")
    (problem,) = _symlink_problems(root)
    assert problem.startswith("m/teams/sales.yaml this file is a symbolic link") and str(outside) in problem


def test_a_linked_file_inside_the_root_and_a_dangling_link_are_errors_too(root: Path) -> None:
    os.symlink("sales.yaml", root / "teams" / "sales-again.yaml")
    os.symlink("nowhere.yaml", root / "teams" / "gone.yaml")
    problems = _symlink_problems(root)
    assert [p.split()[0] for p in problems] == ["m/teams/gone.yaml", "m/teams/sales-again.yaml"]


def test_a_linked_directory_is_an_error_not_skipped(root: Path, tmp_path: Path) -> None:
    (tmp_path / "more").mkdir()
    os.symlink(tmp_path / "more", root / "more")
    (problem,) = _symlink_problems(root)
    assert problem.startswith("m/more this directory is a symbolic link")


def test_an_excluded_link_is_left_alone(root: Path, tmp_path: Path) -> None:
    (tmp_path / "more").mkdir()
    os.symlink(tmp_path / "more", root / "vendor")
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("exclude: []", 'exclude: ["vendor"]'))
    assert validate_root(root).ok


@pytest.mark.parametrize("name", ["catalog.yaml", "syncer.yaml"])
def test_a_linked_catalog_or_settings_file_is_an_error(root: Path, tmp_path: Path, name: str) -> None:
    (root / name).rename(tmp_path / name)
    os.symlink(tmp_path / name, root / name)
    problems = _symlink_problems(root)
    assert problems and problems[0].startswith(f"m/{name} this file is a symbolic link")
