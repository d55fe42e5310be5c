"""Reading a local state directory: its files read strictly, and a consistent snapshot of the whole state.

Readers take no lock: `read_state` reads `meta.json` before and after the other files (the shards, batches,
rejections, journal, then the log and its segments, replayed over them) and starts over when a compaction
happened in between. A torn last line of the log is left out, and how much of the log was whole is
returned, for a writer to cut the rest off. Shards may come from the read cache (syncer.state.readcache)
when it holds their very bytes decoded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from syncer.errors import StateDamaged, StateError
from syncer.perf import paused_gc
from syncer.state import format as files
from syncer.state import image
from syncer.state.readcache import ShardCache
from syncer.state.seal import SEALED


class Directory:
    """A state directory's files: raw bytes, text (UTF-8, universal newlines), which log segments and which
    state files are present."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def raw(self, name: str) -> bytes | None:
        """A state file's bytes; None when it does not exist."""
        path = self.path / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{path}: cannot be read: {exc.strerror or exc}") from None

    def text(self, name: str) -> str | None:
        """A state file's text; None when it does not exist."""
        raw = self.raw(name)
        return None if raw is None else self.decoded(name, raw)

    def decoded(self, name: str, raw: bytes) -> str:
        """A state file's bytes as text, line ends read as universal newlines (CRLF and a lone CR: LF)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateDamaged(str(self.path / name), f"not UTF-8 text (byte {exc.start})") from None
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def segment_names(self) -> list[str]:
        """The log segments present, in serial order (their names sort so)."""
        top = self.path / files.LOG_SEGMENTS
        if not top.is_dir():
            return []
        names = [p.relative_to(self.path).as_posix() for p in top.glob("*/*/*")]
        for name in names:
            if not files.is_segment(name):
                raise StateDamaged(str(self.path / name), "a file syncer never writes among the log segments")
        return sorted(names)

    def leftovers(self) -> list[str]:
        """State files other than meta.json that are present: with no meta.json they are a damaged state,
        never an empty directory to start afresh in."""
        names = [files.LOG, files.BATCHES, files.REJECTIONS, files.JOURNAL, files.PEOPLE]
        found = [n for n in names if (self.path / n).exists()] + self.segment_names()
        shards = self.path / files.SEMESTERS
        if shards.is_dir():
            found += [f"{files.SEMESTERS}/{p.name}" for p in sorted(shards.glob("*" + files.SHARD_SUFFIX))]
        return found


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A state as read: its data (the log replayed), how many log operations that took, and how many bytes of
    log.jsonl are whole lines (past them: a torn last line, for a writer to cut off)."""

    data: image.StateData
    log_ops: int
    log_bytes: int


def read_state(directory: Directory, *, cache: ShardCache | None) -> Snapshot | None:
    """The state in `directory` (None: none was created there); `cache`: decoded shards to use."""
    with paused_gc():  # millions of acyclic objects: the cyclic GC would only slow the load down
        return _read_consistent(directory, cache)


def _read_consistent(directory: Directory, cache: ShardCache | None) -> Snapshot | None:
    path = directory.path
    for _attempt in range(10):
        meta_text = directory.text(files.META)
        if meta_text is None:
            left = [n for n in directory.leftovers() if n != files.PEOPLE]
            if left:
                raise StateDamaged(
                    str(path / files.META),
                    f"missing, though the state's other files are there ({', '.join(left[:3])}"
                    f"{', ...' if len(left) > 3 else ''}); syncer will not start a new state over them",
                )
            return None
        meta = files.meta_from_json(meta_text, where=str(path / files.META))
        data = image.StateData(meta=meta)
        sealed = meta.format >= SEALED  # else files written before checksums: all rewritten at the next compaction
        found: set[str] = set()
        shards = path / files.SEMESTERS
        if shards.is_dir():
            for shard in sorted(shards.glob("*" + files.SHARD_SUFFIX)):
                name = f"{files.SEMESTERS}/{shard.name}"
                semester = files.shard_semester(shard.name)
                found.add(semester)
                if cache is not None and semester not in data.per_semester:
                    _read_shard(directory, data, semester, name, cache, sealed=sealed)
                else:
                    text = directory.text(name) or ""
                    files.decode_shard(data, semester, text, where=str(shard), sealed=sealed)
        for name, decode in (
            (files.BATCHES, files.decode_batches),
            (files.REJECTIONS, files.decode_rejections),
            (files.JOURNAL, files.decode_journal),
        ):
            found_text = directory.text(name)
            if found_text:
                decode(data, found_text, where=str(path / name), sealed=sealed)
            elif sealed and meta.generation > 0:  # every compaction writes it, with at least its end line
                raise StateDamaged(
                    str(path / name), "missing or empty, though every compaction writes it (deleted or emptied since?)"
                )
        log_text = directory.text(files.LOG) or ""
        ops, complete = files.parse_log(log_text, where=str(path / files.LOG), sealed=sealed, folded=meta.serial)
        for name in directory.segment_names():
            text = directory.text(name) or ""
            seg_ops, _ = files.parse_log(text, where=str(path / name), sealed=sealed, folded=meta.serial)
            ops += seg_ops
        if len(ops) > 1:
            ops.sort(key=lambda item: item[1].get("s", 0) if isinstance(item[1].get("s"), int) else 0)
        # With no log left to replay, the shards are what the last compaction wrote (a compaction cut
        # short leaves its log behind, and shards newer than meta.json's counts: not checked then).
        if not ops and meta.values is not None and dict(data.per_semester) != dict(meta.values):
            sem = min(s for s in set(meta.values) | set(data.per_semester)
                      if meta.values.get(s) != data.per_semester.get(s))  # fmt: skip
            try:
                where = str(path / files.shard_name(sem))
            except StateError:
                where = str(path / files.SEMESTERS)
            raise StateDamaged(
                where,
                f"it holds {data.per_semester.get(sem, 0)} values, where {files.META} says the last compaction "
                f"wrote {meta.values.get(sem, 0)} (emptied or cut short since?)",
            )
        compacted_serial = meta.serial
        data.dirty.clear()
        for n, op in ops:
            try:
                if image.int_field(op["s"], "the operation's serial") > compacted_serial:
                    data.apply(op)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise StateDamaged(f"{path / files.LOG}:{n}", f"a malformed operation ({files.why(exc)})") from None
        if directory.text(files.META) != meta_text:
            continue  # a compaction happened while we read: read again
        if not sealed:
            data.dirty |= found  # a writer's next compaction writes them anew, with checksums
        return Snapshot(data, len(ops), complete)
    raise StateError(f"{path}: the state kept changing while being read; try again")


def _read_shard(
    directory: Directory, data: image.StateData, semester: str, name: str, cache: ShardCache, *, sealed: bool
) -> None:
    """Add a shard's rows to `data` from the read cache when it holds these very bytes decoded; else decode
    them (as decode_shard does) and keep the result."""
    raw = directory.raw(name) or b""
    digest = hashlib.sha256(raw).hexdigest()
    found = cache.get(semester, digest)
    if found is None:
        text = directory.decoded(name, raw)
        del raw
        part = image.StateData(meta=data.meta)
        files.decode_shard(part, semester, text, where=str(directory.path / name), sealed=sealed)
        found = part.rows, part.per_semester.get(semester, 0)
        cache.put(semester, digest, *found)
    rows, count = found
    data.rows.update(rows)
    if count:
        data.per_semester[semester] = count
