"""The local backend's log: appending one operation durably, and compaction, which folds the log into the
state's files and empties it.

An operation is one JSON line, appended to `log.jsonl` and fsynced (a torn last line, left by a writer killed
mid-append, is cut off first), or, for the git backend, which commits after every write, written whole as a
segment file of its own (syncer.state.format.segment_name). Compaction rewrites only what changed, each file
atomically, `meta.json` last and then the log: interrupted anywhere, the next load replays the log again
(docs/state.md, "Writing: an append-only log, then compaction")."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

from syncer.fsio import Faults, atomic_write, durable_append, fsync_dir, remove_durably, truncate_torn
from syncer.state import format as files
from syncer.state import image
from syncer.state.local.read import Directory
from syncer.state.model import STATE_FORMAT


def append(path: Path, op: dict[str, Any], *, segments: bool, log_bytes: int, faults: Faults, chunk: int) -> int:
    """Write the operation `op` durably into the state directory `path`, as a segment or appended to the log
    (of which `log_bytes` are whole lines); the bytes it took."""
    line = files.encode_op(op)
    if segments:
        segment = path / files.segment_name(op["s"])
        if not segment.parent.is_dir():
            segment.parent.mkdir(parents=True)
            for made in (segment.parent.parent, segment.parent.parent.parent, path):
                fsync_dir(made)
        atomic_write(segment, line, faults=faults, chunk=chunk)
    else:
        log = path / files.LOG
        truncate_torn(log, log_bytes)
        durable_append(log, line, faults=faults, chunk=chunk)
    return len(line.encode("utf-8"))


def fold(directory: Directory, data: image.StateData, *, faults: Faults, chunk: int) -> None:
    """Compaction: the shards of the semesters that changed (`data.dirty`), batches, rejections, journal, then
    meta.json (generation + 1, and a plan key if the state had none), then an empty log and no segments.
    Updates `data.meta` to what meta.json now says."""
    path = directory.path
    shards = files.encode_shards(data, only=set(data.dirty))
    if shards:
        (path / files.SEMESTERS).mkdir(exist_ok=True)
    for sem, text in sorted(shards.items()):
        atomic_write(path / files.shard_name(sem), text, faults=faults, chunk=chunk)
    for sem in sorted(data.dirty - shards.keys()):
        remove_durably(path / files.shard_name(sem), faults=faults)
    atomic_write(path / files.BATCHES, files.encode_batches(data), faults=faults, chunk=chunk)
    atomic_write(path / files.REJECTIONS, files.encode_rejections(data), faults=faults, chunk=chunk)
    atomic_write(path / files.JOURNAL, files.encode_journal(data), faults=faults, chunk=chunk)
    meta = data.meta
    if meta.plan_key is None:  # a state made before plan keys: keyed now (a new serial: plans change)
        meta = dataclasses.replace(meta, plan_key=files.new_plan_key(), serial=meta.serial + 1)
    data.meta = dataclasses.replace(
        meta, format=STATE_FORMAT, generation=meta.generation + 1, values=dict(data.per_semester)
    )
    atomic_write(path / files.META, files.meta_to_json(data.meta), faults=faults, chunk=chunk)
    atomic_write(path / files.LOG, "", faults=faults, chunk=chunk)
    for name in directory.segment_names():  # folded into the files above
        remove_durably(path / name, faults=faults)
    top = path / files.LOG_SEGMENTS
    if top.is_dir():
        for leaf in sorted(top.glob("*/*"), reverse=True) + sorted(top.glob("*")) + [top]:
            with contextlib.suppress(OSError):
                leaf.rmdir()
    data.dirty.clear()
