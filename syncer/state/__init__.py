"""The state store: what syncer last applied to one Feishu target (docs/state.md).

`model` is the vocabulary, `protocols` the interfaces callers use, `format` the text files every backend
keeps; the backends are `local` (a directory), `git` (a branch) and `postgres` (a database shared by many
roots); `migrate` moves a state between them.
`open_store` picks the backend of a metrics root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from syncer.errors import StateError
from syncer.load.settings import Settings
from syncer.model import Identity
from syncer.state.model import Clock, State, check_identity, utc_now
from syncer.state.protocols import SnapshotReader
from syncer.urls import host_of

if TYPE_CHECKING:
    from syncer.state.git.store import GitStateStore
    from syncer.state.local import LocalStateStore
    from syncer.state.postgres.store import PostgresStateStore


def state_path(root: Path, settings: Settings, *, override: Path | None = None) -> Path:
    """Where the local backend keeps the state: `--state PATH`, else `state.path` relative to the root."""
    if override is not None:
        return Path(override)
    return Path(root) / settings.state.path


def local_dir(root: Path, settings: Settings, *, override: Path | None = None) -> Path | None:
    """The directory the state of a root occupies inside the working tree (None for the git backend, whose
    files live inside the repository's git directory): what `git status` must not count as a change."""
    if override is None and settings.state.backend != "local":
        return None
    return state_path(root, settings, override=override)


def open_store(
    root: Path, settings: Settings, *, override: Path | None = None, clock: Clock = utc_now
) -> LocalStateStore | GitStateStore | PostgresStateStore:
    """The store for a metrics root: `state.backend` of syncer.yaml (`local`; `git`: the state branch of
    the repository holding the root; `postgres`: the state `state.name` of the database in $`state.dsn_env`).
    `--state PATH` (override) always means a local directory."""
    if override is None and settings.state.backend == "git":
        from syncer.state.git import open_git_store

        return open_git_store(root, settings, clock=clock)
    if override is None and settings.state.backend == "postgres":
        from syncer.state.postgres import open_postgres_store

        return open_postgres_store(settings, clock=clock)
    if override is None and settings.state.backend != "local":
        raise StateError(
            f"state backend {settings.state.backend!r} is not available in this syncer; "
            "use `state: {backend: local}` (or `git`, `postgres`) in syncer.yaml, or point at a directory with "
            "--state PATH"
        )
    from syncer.state.local import LocalStateStore

    path = state_path(root, settings, override=override)
    if override is None:  # under the root, the state follows the root's rule: no symbolic links
        here = Path(root)
        for part in Path(settings.state.path).parts:
            here = here / part
            if here.is_symlink():
                raise StateError(
                    f"{here} is a symbolic link (to {os.readlink(here)!r}): syncer follows no links under a root; "
                    "set state.path to the directory it points to, or use --state PATH"
                )
    return LocalStateStore(path, clock=clock)


def use_read_cache(store: object, base: Path) -> None:
    """Let a command that only reads the state (plan) keep its decoded shards under the cache directory
    `base` (syncer.state.readcache). The local and git backends use it; PostgreSQL has no shards."""
    from syncer.state.local import LocalStateStore
    from syncer.state.readcache import ShardCache

    try:  # a path that cannot be resolved (a symbolic link loop) is the store's to report, not the cache's
        if isinstance(store, LocalStateStore):
            store.read_cache = ShardCache.under(base, str(store.path.resolve()))
            return
        from syncer.state.git import GitStateStore

        if isinstance(store, GitStateStore):
            store.read_cache = ShardCache.under(base, f"{store.repo.resolve()}\0{store.location}")
    except (OSError, RuntimeError):
        return


def target_identity(settings: Settings, *, base_url: str | None = None, app_id: str | None = None) -> Identity:
    """The target of this run: `base_url` (the --base-url flag, else FEISHU_BASE_URL, as the CLI decides)
    over syncer.yaml's; `app_id` from FEISHU_APP_ID when set."""
    return Identity(
        host=host_of(base_url or settings.target.base_url),
        app_id=app_id or None,
        user_id_type=settings.target.user_id_type,
    )


def load_checked(store: SnapshotReader, *, target: Identity) -> tuple[State | None, tuple[str, ...]]:
    """Load the state and refuse it when it belongs to another target. Returns notes on what could not be
    compared (the app ID when FEISHU_APP_ID is not set, as for a fork's pull request)."""
    state = store.load()
    if state is None:
        return None, ()
    notes = check_identity(
        state.identity,
        host=target.host,
        user_id_type=target.user_id_type,
        app_id=target.app_id,
        location=store.location,
    )
    return state, notes
