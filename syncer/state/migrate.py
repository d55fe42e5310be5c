"""Moving a state between backends, unchanged (same lineage, serial, journal): `syncer state migrate`."""

from __future__ import annotations

from syncer.errors import StateError
from syncer.fsio import atomic_write
from syncer.state.format import META
from syncer.state.git.store import GitStateStore
from syncer.state.local import LocalStateStore
from syncer.state.model import State


def migrate_to_git(source: LocalStateStore, dest: GitStateStore) -> State:
    """Push a local state, unchanged (lineage, serial, journal), as the first commit of the state branch.
    Refused when the branch exists."""
    with source.locked(command="state migrate --to git"):
        if source.load() is None:
            raise StateError(f"no state at {source.location}: nothing to migrate")
        with dest.locked(command="state migrate --to git"):
            if dest.tip is not None:
                existing = dest.load()
                raise StateError(
                    f"{dest.location} already holds a state"
                    + (f" (lineage {existing.meta.lineage}, serial {existing.meta.serial})" if existing else "")
                    + ": refusing to overwrite it. Keep using it (state.backend: git), or move it away first"
                )
            dest.adopt(source.path)
            dest.compact()
            state = dest.load()
    assert state is not None
    return state


def migrate_to_local(source: GitStateStore, dest: LocalStateStore) -> State:
    """Copy the state branch's state, unchanged, into a local state directory. Refused when one exists."""
    with dest.locked(command="state migrate --to local"):
        if dest.exists():
            raise StateError(
                f"{dest.location} already holds a state: refusing to overwrite it; choose another "
                "directory with --state PATH, or move it away first"
            )
        with source.locked(command="state migrate --to local"):
            if source.tip is None:
                raise StateError(f"no state on {source.location}: nothing to migrate")
            blobs = source.tree_files(source.tip)
        for path in sorted(blobs, key=lambda p: p == META):  # meta.json last: then the state exists
            target = dest.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, blobs[path].decode("utf-8"))
        state = dest.load()
    assert state is not None
    return state
