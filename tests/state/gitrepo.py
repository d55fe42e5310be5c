"""A bare git remote with clones, for the tests of the git state backend (test_git, test_conformance)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git config, a fixed identity, and no tokens or GitHub Actions variables."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")
    for var in (
        "GITHUB_TOKEN",
        "SYNCER_GIT_TOKEN",
        "GITHUB_SERVER_URL",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ID",
        "GIT_CONFIG_COUNT",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)


class Repo:
    """A bare remote with a `main` branch holding metrics/, and clones of it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bare = tmp / "remote.git"
        git("init", "-q", "--bare", "-b", "main", str(self.bare))
        seed = tmp / "seed"
        git("clone", "-q", str(self.bare), str(seed))
        (seed / "metrics").mkdir()
        (seed / "metrics" / "syncer.yaml").write_text("state:\n  backend: git\n")
        git("add", "-A", cwd=seed)
        git("commit", "-q", "-m", "metrics", cwd=seed)
        git("push", "-q", "origin", "main", cwd=seed)

    def clone(self, name: str, *, shallow: bool = False) -> Path:
        dest = self.tmp / name
        if shallow:
            git("clone", "-q", "--depth", "1", f"file://{self.bare}", str(dest))
            git("checkout", "-q", "--detach", cwd=dest)
        else:
            git("clone", "-q", str(self.bare), str(dest))
        return dest / "metrics"

    def branch_commits(self, branch: str = "syncer-state") -> list[str]:
        out = git("rev-list", branch, cwd=self.bare)
        return out.split() if out else []

    def ref(self, ref: str) -> str | None:
        p = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", ref], cwd=self.bare, capture_output=True, text=True, check=False
        )
        return p.stdout.strip() or None
