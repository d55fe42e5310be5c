"""The git backend's plumbing: a state as the tree of a commit, and back. Reading refuses anything syncer
never writes; writing hashes only the files that changed since the last tree, in this process
(syncer.state.git.objects)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from syncer.errors import StateError
from syncer.state import format as files
from syncer.state.git.cmd import Git, GitError
from syncer.state.git.logtree import Entry, LogTrees, branch_serial
from syncer.state.git.objects import ObjectStore, tree_bytes

#: The state files a branch may hold (and a migration copies), besides semesters/<semester>.jsonl. The people
#: cache is optional: states written before it existed, or never resolved, have none.
STATE_FILES = (files.META, files.BATCHES, files.REJECTIONS, files.JOURNAL, files.LOG, files.PEOPLE)


def parse_ls_tree(out: bytes) -> list[tuple[str, str, str, str]]:
    """(mode, type, sha, path) entries of `git ls-tree -r -z` output."""
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        head, _, path = record.partition(b"\t")
        mode, kind, sha = head.decode("ascii").split(" ")
        entries.append((mode, kind, sha, path.decode("utf-8", "surrogateescape")))
    return entries


def parse_cat_file_batch(out: bytes, shas: Sequence[str]) -> dict[str, bytes]:
    """Contents by sha of `git cat-file --batch` output for `shas` (asked in that order)."""
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("ascii").split(" ")
        if len(header) != 3 or header[1] == "missing":
            raise GitError(f"git object {sha} is missing from the repository")
        size = int(header[2])
        start = end + 1
        blobs[header[0]] = out[start : start + size]
        pos = start + size + 1
    return blobs


def state_entries(git: Git, commit: str, *, location: str) -> list[tuple[str, str]]:
    """(path, blob) of the state files of a commit, a log segment under the path the working directory gives
    it (files.segment_name, whatever its path in the branch: syncer.state.git.logtree); refuses entries
    syncer never writes, and a serial found twice."""
    entries = parse_ls_tree(git.run("ls-tree", "-r", "-z", "--full-tree", commit).stdout)
    wanted: list[tuple[str, str]] = []
    serials: set[int] = set()
    for mode, kind, sha, path in entries:
        parts = path.split("/")
        serial = branch_serial(path) if parts[0] == files.LOG_SEGMENTS else None
        safe = all(p and not p.startswith(".") for p in parts) and (
            (len(parts) == 1 and path in STATE_FILES)
            or (len(parts) == 2 and parts[0] == files.SEMESTERS and parts[1].endswith(files.SHARD_SUFFIX))
            or serial is not None
        )
        if kind != "blob" or mode not in ("100644", "100755") or not safe:
            raise StateError(
                f"{location} ({commit[:12]}) holds {path!r}, which syncer never writes there: the "
                "branch was edited by hand (or by a newer syncer: upgrade syncer). Restore a commit written "
                "by syncer (git log of the branch)"
            )
        if serial is not None:
            if serial in serials:
                raise StateError(
                    f"{location} ({commit[:12]}) holds the log segment {serial} twice (again at {path!r}): the "
                    "branch was edited by hand. Restore a commit written by syncer (git log of the branch)"
                )
            serials.add(serial)
            path = files.segment_name(serial)
        wanted.append((path, sha))
    return wanted


def state_files(git: Git, commit: str, *, location: str) -> dict[str, bytes]:
    """The state files of a commit, by path; refuses entries syncer never writes."""
    wanted = state_entries(git, commit, location=location)
    shas = sorted({sha for _, sha in wanted})
    out = git.run("cat-file", "--batch", input="".join(s + "\n" for s in shas).encode()).stdout
    blobs = parse_cat_file_batch(out, shas)
    return {path: blobs[sha] for path, sha in wanted}


def write_files(directory: Path, blobs: Mapping[str, bytes]) -> None:
    """Write a commit's state files (from `state_files`) into `directory`."""
    for path, data in sorted(blobs.items()):
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class TreeWriter:
    """The tree of a working directory of state files: blobs hashed only when a file changed, and trees
    made only when their entries changed."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects
        self._hashes: dict[str, tuple[tuple[int, int, int, int], str]] = {}
        self._trees: dict[bytes, str] = {}
        self._leaves: dict[str, tuple[tuple[str, ...], dict[int, str]]] = {}
        self._logs = LogTrees(self._tree)

    def _segments(self, top: Path) -> str | None:
        """The tree of log.d, laid out as in a branch (syncer.state.git.logtree) from the working directory's
        segments (files.segment_name: a hundred to a directory). A directory whose file names did not change
        keeps the trees of its tens without a look at its files (segments are never rewritten: each has its
        own serial)."""
        tens: dict[int, str] = {}
        for mid in sorted(os.listdir(top)):
            for leaf in sorted(os.listdir(top / mid)):
                path = top / mid / leaf
                prefix = f"{files.LOG_SEGMENTS}/{mid}/{leaf}/"
                names = tuple(sorted(n for n in os.listdir(path) if files.is_segment(prefix + n)))
                cached = self._leaves.get(str(path))
                if cached is None or cached[0] != names:
                    grouped: dict[int, list[Entry]] = {}
                    for sha, n in zip(self._blobs([path / n for n in names]), names, strict=True):
                        grouped.setdefault(int(n.split(".", 1)[0]) // 10, []).append(("100644", "blob", sha, n))
                    cached = self._leaves[str(path)] = (names, {ten: self._tree(e) for ten, e in grouped.items()})
                tens.update(cached[1])
        return self._logs.log_tree(tens) if tens else None

    def _blobs(self, paths: list[Path]) -> list[str]:
        """The blob of each file (hashed into the object store when new or changed)."""
        todo: list[Path] = []
        keys: dict[str, tuple[int, int, int, int]] = {}
        for p in paths:
            st = p.stat()
            keys[str(p)] = key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            cached = self._hashes.get(str(p))
            if cached is None or cached[0] != key:
                todo.append(p)
        for p in todo:
            self._hashes[str(p)] = (keys[str(p)], self.objects.blob(p.read_bytes()))
        return [self._hashes[str(p)][1] for p in paths]

    def _tree(self, entries: list[Entry]) -> str:
        data = tree_bytes(entries)
        sha = self._trees.get(data)
        if sha is None:
            sha = self._trees[data] = self.objects.tree(entries)
        return sha

    def clear(self) -> None:
        """Forget what was hashed (the working directory was rewritten)."""
        self._hashes.clear()
        self._leaves.clear()

    def write(self, work: Path) -> str:
        top: list[Entry] = []
        shards: list[Path] = []
        singles: list[Path] = []
        segments: str | None = None
        for entry in sorted(work.iterdir()) if work.exists() else []:
            if entry.name.startswith("."):
                continue
            if entry.is_file() and entry.name in STATE_FILES:  # only what state_entries accepts
                singles.append(entry)
            elif entry.is_dir() and entry.name == files.SEMESTERS:
                shards = [
                    p
                    for p in sorted(entry.iterdir())
                    if p.is_file() and not p.name.startswith(".") and p.name.endswith(files.SHARD_SUFFIX)
                ]
            elif entry.is_dir() and entry.name == files.LOG_SEGMENTS:
                segments = self._segments(entry)
        blobs = self._blobs(singles + shards)
        top = [("100644", "blob", sha, p.name) for sha, p in zip(blobs, singles, strict=False)]
        if shards:
            entries = [("100644", "blob", sha, p.name) for sha, p in zip(blobs[len(singles) :], shards, strict=True)]
            top.append(("040000", "tree", self._tree(entries), files.SEMESTERS))
        if segments is not None:
            top.append(("040000", "tree", segments, files.LOG_SEGMENTS))
        top.sort(key=lambda e: e[3])
        return self.objects.tree(top)
