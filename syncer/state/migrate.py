"""Moving a state between backends, unchanged (same lineage, serial, journal): `syncer state migrate`.

One move for every pair: the source's `export`, the destination's `adopt` (syncer.state.protocols.Migratable),
each under its store's lock, so that no apply runs meanwhile. Nothing is deleted from the source."""

from __future__ import annotations

from syncer.errors import StateError
from syncer.state.model import State
from syncer.state.protocols import StateStore

#: What to do about a destination that holds a state, by backend (`to` of `state migrate`).
_OCCUPIED = {
    "git": ". Keep using it (state.backend: git), or move it away first",
    "local": "; choose another directory with --state PATH, or move it away first",
    "postgres": ". Choose another state.name, or keep using it",
}


def migrate(source: StateStore, dest: StateStore, *, to: str) -> State:
    """Copy the state of `source`, unchanged (lineage, serial, batches, journal, rejections, people cache),
    into `dest` (a store of backend `to`). Refused when `dest` holds a state. What only the source keeps (the
    postgres backend's history of values before their last change) stays there."""
    command = f"state migrate --to {to}"
    with source.locked(command=command):
        exported = source.export()
        if exported is None:
            raise StateError(f"no state at {source.location}: nothing to migrate")
        state, people = exported
        with dest.locked(command=command):
            existing = dest.load() if dest.exists() else None
            if existing is not None:
                raise StateError(
                    f"{dest.location} already holds a state (lineage {existing.meta.lineage}, serial "
                    f"{existing.meta.serial}): refusing to overwrite it{_OCCUPIED.get(to, '')}"
                )
            dest.adopt(state, people=people)
            moved = dest.load()
    assert moved is not None
    return moved
