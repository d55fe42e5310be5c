"""The git state backend: the state on a branch of the metrics repository (`store`), with its lock ref
(`lock`), the working copy a lock session writes and publishes (`working`), the remote it talks to
(`remote`), tree plumbing (`tree`) and the git runner (`cmd`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from syncer.errors import StateError, StateUnavailable
from syncer.load.settings import Settings
from syncer.state.git.cmd import MIN_GIT, Git, GitError
from syncer.state.git.store import GitStateStore
from syncer.state.model import Clock, utc_now

__all__ = ["GitStateStore", "open_git_store"]


def open_git_store(
    root: Path,
    settings: Settings,
    *,
    clock: Clock = utc_now,
    git_exe: str = "git",
    environ: Mapping[str, str] | None = None,
) -> GitStateStore:
    """The git store of a metrics root: `state.branch` of `state.remote` in the repository holding `root`.
    Raises StateUnavailable when there is no repository (or git) to keep it in."""
    root = Path(root)
    env = dict(os.environ) if environ is None else dict(environ)
    probe = Git(root if root.is_dir() else Path.cwd(), exe=git_exe, environ=env)
    try:
        version = probe.version()
    except GitError as exc:
        raise StateUnavailable(f"state.backend git: {exc}") from None
    if version < MIN_GIT:
        raise StateError(
            f"state.backend git needs git {MIN_GIT[0]}.{MIN_GIT[1]} or newer (this is "
            f"{version[0]}.{version[1]}): it passes credentials to git through the environment"
        )
    p = probe.run("rev-parse", "--show-toplevel", check=False)
    if p.returncode != 0 or not root.is_dir():
        raise StateUnavailable(
            f"state.backend git keeps the state on a branch of the repository holding the metrics "
            f"root, but {root} is not inside a git work tree; clone the repository, or use a local "
            "state directory with --state PATH"
        )
    top = Path(p.stdout.decode("utf-8", "replace").strip())
    repo = Git(top, exe=git_exe, environ=env)
    common = Path(repo.text("rev-parse", "--path-format=absolute", "--git-common-dir"))
    branch, remote = settings.state.branch, settings.state.remote
    if not branch or repo.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
        raise StateError(f"state.branch {branch!r} is not a valid branch name")
    if not remote or remote.startswith("-"):
        raise StateError(f"state.remote {remote!r} is not a remote name or URL")
    current = repo.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if current.returncode == 0 and current.stdout.decode().strip() == branch:
        raise StateError(
            f"state.branch {branch!r} is the branch checked out here: the state needs a branch of its "
            "own that nobody edits (the default is syncer-state)"
        )
    private = common / "syncer" / quote(remote, safe="") / quote(branch, safe="")
    return GitStateStore(
        repo=top,
        private=private,
        branch=branch,
        remote=remote,
        clock=clock,
        git=repo,
        lease=settings.state.lock_lease,
    )
