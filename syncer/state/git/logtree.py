"""The log segments as the git backend lays them out in a branch (format 3), so that every commit of a long run
adds about the same bytes: the segment it wrote and a few small trees, however many segments came before.

The working directory keeps each segment where the local store writes it (syncer.state.format.segment_name);
a branch splits them by tens of serials (serial // 10):

    log.d/open/<serial>.jsonl                                   the newest segment's ten
    log.d/closed/<serial // 10000>/<d3>/<d2>/<d1>/<serial>.jsonl  every other ten (d3, d2, d1: the thousands,
                                                                hundreds and tens digits of the serial)

A write rewrites `log.d/open` (at most ten entries) and `log.d` (two); a ten that closes moves whole (the
same tree) to its place under `closed`, whose trees on its path (at most ten entries each, but the top one,
a new entry every 10,000 serials) are rewritten then, once every ten writes. So every tree a write touches
keeps about the same size however long the run, and what a run adds per write stays flat. The layout before
format 3 (log.d/<serial // 10000>/<serial // 100 % 100>/<serial>.jsonl, committed as it is in the working
directory) rewrote at every write a tree that gained an entry every hundred writes.

A closed ten never moves again and keeps the tree it had when it was open: git's walk at a push (which
looks for what the remote lacks by comparing trees at the same paths) finds every older object under a path
the remote's tip has too, and sends only the new ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from syncer.state import format as files

Entry = tuple[str, str, str, str]  # (mode, type, sha, name)
TREE = "040000"
OPEN, CLOSED = "open", "closed"
_PATH = re.compile(
    r"\A"
    + re.escape(files.LOG_SEGMENTS)
    + r"/(?:"
    + OPEN
    + r"|"
    + CLOSED
    + r"/(?P<high>\d{6})/(?P<d3>\d)/(?P<d2>\d)/(?P<d1>\d))/(?P<serial>\d{10})\.jsonl\Z"
)


def closed_dirs(serial: int) -> tuple[str, str, str, str]:
    """The directories under `closed` of the ten that holds `serial`."""
    return f"{serial // 10000:06d}", str(serial // 1000 % 10), str(serial // 100 % 10), str(serial // 10 % 10)


def branch_serial(path: str) -> int | None:
    """The serial of a segment's path in a branch (this layout, or the one before it), None for any other
    path: the directories must be the serial's own, so that one serial has one path."""
    if files.is_segment(path):
        serial = int(path.rsplit("/", 1)[1].split(".", 1)[0])
        return serial if files.segment_name(serial) == path else None
    found = _PATH.match(path)
    if found is None:
        return None
    serial = int(found["serial"])
    if found["high"] is not None and (found["high"], found["d3"], found["d2"], found["d1"]) != closed_dirs(serial):
        return None
    return serial


class LogTrees:
    """Builds `log.d` from the tree of each ten of segments, keeping the tree of the closed tens between
    writes (it changes once every ten)."""

    def __init__(self, tree: Callable[[list[Entry]], str]) -> None:
        self._tree = tree  # stores a tree, returns its name
        self._closed: tuple[tuple[tuple[int, str], ...], str | None] = ((), None)

    def log_tree(self, tens: Mapping[int, str]) -> str:
        """The tree `log.d`, given the tree of each ten (serial // 10) that holds a segment (a tree of
        `<serial>.jsonl` blobs)."""
        head = max(tens)
        root: list[Entry] = [(TREE, "tree", tens[head], OPEN)]
        closed = tuple(sorted((ten, sha) for ten, sha in tens.items() if ten != head))
        if closed != self._closed[0]:
            self._closed = closed, self._closed_tree(closed) if closed else None
        if self._closed[1] is not None:
            root.append((TREE, "tree", self._closed[1], CLOSED))
        return self._tree(root)

    def _closed_tree(self, closed: tuple[tuple[int, str], ...]) -> str:
        """The tree `closed`: each ten under its directories (closed_dirs), built from the bottom up."""
        level: dict[tuple[str, ...], str] = {closed_dirs(ten * 10): sha for ten, sha in closed}
        for _ in range(4):
            parents: dict[tuple[str, ...], list[Entry]] = {}
            for path, sha in level.items():
                parents.setdefault(path[:-1], []).append((TREE, "tree", sha, path[-1]))
            level = {path: self._tree(entries) for path, entries in parents.items()}
        return level[()]
