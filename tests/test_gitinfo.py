"""gitinfo: commit, dirty flag and ancestry from local git commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from syncer.errors import SyncerError
from syncer.gitinfo import NO_GIT, git_info, is_ancestor


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    root = tmp_path / "metrics"
    root.mkdir()
    (root / "catalog.yaml").write_text("semesters: {}\n")
    (tmp_path / ".gitignore").write_text("")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_outside_git(tmp_path: Path) -> None:
    assert git_info(tmp_path) == NO_GIT
    assert git_info(tmp_path / "missing") == NO_GIT
    assert NO_GIT.describe() == "not in git" and not NO_GIT.in_git


def test_commit_and_dirty(repo: Path) -> None:
    root = repo / "metrics"
    info = git_info(root)
    assert info.commit == git(repo, "rev-parse", "HEAD") and info.short == git(repo, "rev-parse", "--short", "HEAD")
    assert not info.dirty and info.describe() == info.short
    (repo / "elsewhere.txt").write_text("x")  # outside the root: not the YAML's business
    assert not git_info(root).dirty
    (root / ".syncer" / "state").mkdir(parents=True)
    (root / ".syncer" / "state" / "meta.json").write_text("{}")
    assert git_info(root).dirty
    assert not git_info(root, exclude=[root / ".syncer" / "state"]).dirty  # the state dir does not count
    (root / "catalog.yaml").write_text("semesters: {a: '1'}\n")
    assert git_info(root, exclude=[root / ".syncer" / "state"]).dirty


def test_is_ancestor(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "metrics" / "x.yaml").write_text("a: 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two")
    second = git(repo, "rev-parse", "HEAD")
    assert is_ancestor(first, second, cwd=repo)
    assert is_ancestor(second, second, cwd=repo)
    assert not is_ancestor(second, first, cwd=repo)
    with pytest.raises(SyncerError, match="fetch-depth: 0"):
        is_ancestor("f" * 40, second, cwd=repo)


def test_commit_authors_names_the_author_of_each_commit_the_repository_holds(repo: Path) -> None:
    from syncer.gitinfo import NOGIT, commit_authors

    head = git(repo, "rev-parse", "HEAD")
    missing = "f" * 40
    assert commit_authors([head, missing, NOGIT, "-not-a-sha"], cwd=repo / "metrics") == {head: "t"}
    assert commit_authors([head], cwd=repo / "nowhere") == {}


def test_commit_authors_passes_git_nothing_but_commit_ids(repo: Path) -> None:
    """A commit recorded in a state is text from a file: one that is not a hexadecimal ID never reaches git
    (where `--output=...` would be an option)."""
    from syncer.gitinfo import commit_authors

    calls: list[list[str]] = []

    def spy(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")

    assert commit_authors(["--output=/tmp/x", "ABC", "abc123"], cwd=repo, runner=spy) == {}
    assert [a for call in calls for a in call if "output" in a or a == "ABC"] == []
    assert len(calls) == 1 and "abc123" in calls[0]
