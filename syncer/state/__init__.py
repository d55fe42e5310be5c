"""The state store: what syncer last applied to one Feishu target. See docs/state.md for the format."""

from __future__ import annotations

from pathlib import Path

from syncer.errors import StateError
from syncer.settings import Settings
from syncer.state.base import (
    STATE_FORMAT,
    Applied,
    BatchInfo,
    BatchRecord,
    Clock,
    Identity,
    JournalEntry,
    LastApply,
    LockInfo,
    Rejection,
    State,
    StateMeta,
    StateStore,
    VKey,
    check_identity,
    format_time,
    host_of,
    row_digest,
    utc_now,
)
from syncer.state.git import GitStateStore, open_git_store
from syncer.state.local import LocalStateStore

__all__ = [
    "STATE_FORMAT",
    "Applied",
    "BatchInfo",
    "BatchRecord",
    "Clock",
    "GitStateStore",
    "Identity",
    "JournalEntry",
    "LastApply",
    "LocalStateStore",
    "LockInfo",
    "Rejection",
    "State",
    "StateMeta",
    "StateStore",
    "VKey",
    "check_identity",
    "format_time",
    "host_of",
    "load_checked",
    "open_store",
    "row_digest",
    "state_path",
    "target_identity",
    "utc_now",
]


def state_path(root: Path, settings: Settings, *, override: Path | None = None) -> Path:
    """Where the local backend keeps the state: `--state PATH`, else `state.path` relative to the root."""
    if override is not None:
        return Path(override)
    return Path(root) / settings.state.path


def open_store(
    root: Path, settings: Settings, *, override: Path | None = None, clock: Clock = utc_now
) -> LocalStateStore | GitStateStore:
    """The store for a metrics root: `state.backend` of syncer.yaml (`local`, or `git`: the state branch of
    the repository holding the root). `--state PATH` (override) always means a local directory."""
    if override is None and settings.state.backend == "git":
        return open_git_store(root, settings, clock=clock)
    if override is None and settings.state.backend != "local":
        raise StateError(
            f"state backend {settings.state.backend!r} is not available in this syncer; "
            "use `state: {backend: local}` (or `git`) in syncer.yaml, or point at a directory with --state PATH"
        )
    return LocalStateStore(state_path(root, settings, override=override), clock=clock)


def target_identity(settings: Settings, *, base_url: str | None = None, app_id: str | None = None) -> Identity:
    """The target of this run: `base_url` (the --base-url flag, else FEISHU_BASE_URL, as the CLI decides)
    over syncer.yaml's; `app_id` from FEISHU_APP_ID when set."""
    return Identity(
        host=host_of(base_url or settings.target.base_url),
        app_id=app_id or None,
        user_id_type=settings.target.user_id_type,
    )


def load_checked(store: StateStore, *, target: Identity) -> tuple[State | None, tuple[str, ...]]:
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
