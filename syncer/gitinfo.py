"""What git says about the metrics root: its commit, whether it has uncommitted changes, and ancestry.

Local `git` subcommands only (no fetch, no network, no prompts). Outside a git repository, or without git,
the commit is "nogit".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from syncer.errors import SyncerError

NOGIT = "nogit"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True, slots=True)
class GitInfo:
    commit: str  # full sha, or "nogit"
    short: str  # short sha, or "nogit"
    dirty: bool  # the root holds changes not committed (untracked files count; the state dir does not)

    @property
    def in_git(self) -> bool:
        return self.commit != NOGIT

    def describe(self) -> str:
        if not self.in_git:
            return "not in git"
        return f"{self.short} (with uncommitted changes)" if self.dirty else self.short


NO_GIT = GitInfo(NOGIT, NOGIT, False)


def _git(args: Sequence[str], *, cwd: Path, runner: Runner) -> subprocess.CompletedProcess[str] | None:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    try:
        return runner(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_info(root: Path, *, exclude: Sequence[Path] = (), runner: Runner = subprocess.run) -> GitInfo:
    """The commit of the repository holding `root` and whether `root` has uncommitted changes.

    `exclude` names paths (such as the state directory) whose changes do not make the root dirty."""
    root = Path(root)
    if not root.is_dir():
        return NO_GIT
    head = _git(["rev-parse", "--verify", "--quiet", "HEAD"], cwd=root, runner=runner)
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return NO_GIT
    commit = head.stdout.strip()
    short_p = _git(["rev-parse", "--short", commit], cwd=root, runner=runner)
    short = short_p.stdout.strip() if short_p is not None and short_p.returncode == 0 else commit[:7]
    pathspec = ["."]
    root_abs = root.resolve()
    for path in exclude:
        try:
            rel = Path(path).resolve().relative_to(root_abs)
        except ValueError:
            continue
        pathspec.append(f":(exclude){rel.as_posix()}")
    status = _git(["status", "--porcelain", "--untracked-files=normal", "--", *pathspec], cwd=root, runner=runner)
    dirty = status is None or status.returncode != 0 or bool(status.stdout.strip())
    return GitInfo(commit, short, dirty)


def is_ancestor(ancestor: str, descendant: str, *, cwd: Path, runner: Runner = subprocess.run) -> bool:
    """Whether `ancestor` is an ancestor of (or equal to) `descendant`. Raises SyncerError when git cannot
    tell (a commit missing from a shallow clone, no repository)."""
    p = _git(["merge-base", "--is-ancestor", ancestor, descendant], cwd=Path(cwd), runner=runner)
    if p is None:
        raise SyncerError("git is not available: cannot check that the last applied commit is an ancestor")
    if p.returncode == 0:
        return True
    if p.returncode == 1:
        return False
    detail = (p.stderr or p.stdout).strip().splitlines()
    raise SyncerError(
        f"git cannot tell whether {ancestor[:12]} is an ancestor of {descendant[:12]}"
        f"{': ' + detail[0] if detail else ''}; fetch the full history (actions/checkout with fetch-depth: 0)"
    )


def commit_authors(commits: Sequence[str], *, cwd: Path, runner: Runner = subprocess.run) -> dict[str, str]:
    """The author's name of each of `commits` that the repository at `cwd` holds (one `git log` each);
    commits it does not hold (a shallow clone, "nogit", another repository) are left out."""
    wanted = sorted({c for c in commits if c and c != NOGIT and all(ch in "0123456789abcdef" for ch in c)})
    if not wanted or not Path(cwd).is_dir():
        return {}
    found: dict[str, str] = {}
    for commit in wanted:  # one unknown commit fails a whole `git log`: ask for each (a page lists few)
        p = _git(["log", "-1", "--no-walk", "--format=%H%x00%an", commit, "--"], cwd=Path(cwd), runner=runner)
        if p is None or p.returncode != 0:
            continue
        sha, _, name = p.stdout.strip().partition("\0")
        if sha == commit and name:
            found[commit] = name
    return found
