"""The state store: what syncer last applied to one Feishu target (docs/state.md).

`model` is the vocabulary, `protocols` the interfaces callers use, `format` the text files every backend
keeps; the backends are `local` (a directory), `git` (a branch) and `postgres` (a database shared by many
roots); `migrate` moves a state between them.
`open_store` picks the backend of a metrics root."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from syncer.errors import StateError
from syncer.load.settings import Settings
from syncer.model import Identity
from syncer.state.model import Clock, State, check_identity, utc_now
from syncer.state.protocols import SnapshotReader, StateStore
from syncer.state.readcache import ShardCache
from syncer.urls import host_of


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


def _open_local(root: Path, settings: Settings, clock: Clock) -> StateStore:
    from syncer.state.local.store import LocalStateStore

    here = Path(root)  # under the root, the state follows the root's rule: no symbolic links
    for part in Path(settings.state.path).parts:
        here = here / part
        if here.is_symlink():
            raise StateError(
                f"{here} is a symbolic link (to {os.readlink(here)!r}): syncer follows no links under a root; "
                "set state.path to the directory it points to, or use --state PATH"
            )
    return LocalStateStore(state_path(root, settings), clock=clock)


def _open_git(root: Path, settings: Settings, clock: Clock) -> StateStore:
    from syncer.state.git import open_git_store

    return open_git_store(root, settings, clock=clock)


def _open_postgres(root: Path, settings: Settings, clock: Clock) -> StateStore:
    from syncer.state.postgres import open_postgres_store

    return open_postgres_store(settings, clock=clock)


#: The backends, by their name in `state.backend`: each opens the store of a metrics root.
BACKENDS: dict[str, Callable[[Path, Settings, Clock], StateStore]] = {
    "local": _open_local,
    "git": _open_git,
    "postgres": _open_postgres,
}


def open_store(root: Path, settings: Settings, *, override: Path | None = None, clock: Clock = utc_now) -> StateStore:
    """The store for a metrics root: `state.backend` of syncer.yaml (`local`; `git`: the state branch of
    the repository holding the root; `postgres`: the state `state.name` of the database in $`state.dsn_env`).
    `--state PATH` (override) always means a local directory."""
    if override is not None:
        from syncer.state.local.store import LocalStateStore

        return LocalStateStore(Path(override), clock=clock)
    opener = BACKENDS.get(settings.state.backend)
    if opener is None:
        raise StateError(
            f"state backend {settings.state.backend!r} is not available in this syncer; "
            "use `state: {backend: local}` (or `git`, `postgres`) in syncer.yaml, or point at a directory with "
            "--state PATH"
        )
    return opener(root, settings, clock)


def use_read_cache(store: StateStore, base: Path) -> ShardCache | None:
    """Let a command that only reads the state (plan) keep its decoded shards under the cache directory
    `base` (syncer.state.readcache), where the backend has shards (local and git): that cache, if any."""
    return store.keep_read_cache(base)


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
