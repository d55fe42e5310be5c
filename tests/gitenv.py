"""git for tests: a configuration of its own (no user or system config), a fixed author, and helpers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def isolate_git(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """git commands see no user or system configuration and commit as a fixed author."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")


def state_commits(bare: Path, branch: str = "syncer-state") -> list[str]:
    """The commits of the state branch in a bare remote, newest first (none when it does not exist)."""
    p = subprocess.run(["git", "rev-list", branch, "--"], cwd=bare, capture_output=True, text=True, check=False)
    return p.stdout.split()
