"""Moving a state between backends, unchanged (same lineage, serial, journal): `syncer state migrate`."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer.errors import StateError
from syncer.fsio import atomic_write
from syncer.state import format as files
from syncer.state.format import META
from syncer.state.git.store import GitStateStore
from syncer.state.image import StateData
from syncer.state.local import LocalStateStore
from syncer.state.model import State

if TYPE_CHECKING:  # the postgres backend imports psycopg, an optional extra: only when it is used
    from syncer.state.postgres.store import PostgresStateStore


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


def write_state_files(path: Path, state: State, people: Mapping[str, Any] | None) -> None:
    """Write a whole state as the local backend's files (compacted: no log), meta.json last."""
    data = StateData(
        meta=state.meta,
        rows=dict(state.rows),
        batches=dict(state.batches),
        rejections=dict(state.rejections),
        journal=dict(state.journal),
        per_semester=dict(state.per_semester),
    )
    texts = {files.shard_name(sem): text for sem, text in files.encode_shards(data).items()}
    texts[files.BATCHES] = files.encode_batches(data)
    texts[files.REJECTIONS] = files.encode_rejections(data)
    texts[files.JOURNAL] = files.encode_journal(data)
    if people is not None:
        texts[files.PEOPLE] = files.encode_people(people)
    for name, text in sorted(texts.items()):
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)
    meta = dataclasses.replace(state.meta, values=dict(state.per_semester))
    atomic_write(path / META, files.meta_to_json(meta))


def migrate_to_postgres(source: LocalStateStore | GitStateStore, dest: PostgresStateStore) -> State:
    """Copy a local or git state, unchanged (lineage, serial, batches, journal, rejections, people cache),
    into the database as `state.name`. Refused when that name holds a state."""
    command = "state migrate --to postgres"
    with source.locked(command=command):
        state = source.load()
        if state is None:
            raise StateError(f"no state at {source.location}: nothing to migrate")
        people = source.read_people()
        with dest.locked(command=command):
            existing = dest.load()
            if existing is not None:
                raise StateError(
                    f"{dest.location} already holds a state (lineage {existing.meta.lineage}, serial "
                    f"{existing.meta.serial}): refusing to overwrite it. Choose another state.name, or keep using it"
                )
            dest.adopt(state, people=people)
            moved = dest.load()
    assert moved is not None
    return moved


def migrate_from_postgres(source: PostgresStateStore, dest: LocalStateStore | GitStateStore) -> State:
    """Copy the database's state, unchanged, into a local directory or onto the state branch. Refused where
    a state exists. What only the database keeps (the history of values before their last change) stays
    there."""
    command = f"state migrate --to {'git' if isinstance(dest, GitStateStore) else 'local'}"
    with source.locked(command=command):
        state = source.load()
        if state is None:
            raise StateError(f"no state at {source.location}: nothing to migrate")
        people = source.read_people()
        with dest.locked(command=command):
            if isinstance(dest, GitStateStore):
                if dest.tip is not None:
                    raise StateError(
                        f"{dest.location} already holds a state: refusing to overwrite it; move it away first"
                    )
                with tempfile.TemporaryDirectory(prefix="syncer-migrate-") as tmp:
                    write_state_files(Path(tmp), state, people)
                    dest.adopt(Path(tmp))
                dest.compact()
            else:
                if dest.exists():
                    raise StateError(
                        f"{dest.location} already holds a state: refusing to overwrite it; choose another "
                        "directory with --state PATH, or move it away first"
                    )
                write_state_files(dest.path, state, people)
            moved = dest.load()
    assert moved is not None
    return moved
