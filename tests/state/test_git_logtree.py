"""The log segments in a git branch (format 3): the newest ten under `log.d/open`, every other ten at a path of
its own under `log.d/closed`, so that what a write adds to the repository stays the same however long the run."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from syncer.state import format as files
from syncer.state.git.logtree import Entry, LogTrees, branch_serial, closed_dirs
from syncer.state.git.objects import tree_bytes


class Trees:
    """An object store of trees in memory: each tree's name, and the bytes of the loose objects first made."""

    def __init__(self) -> None:
        self.names: dict[bytes, str] = {}
        self.made = 0  # bytes of the new trees, zlib-deflated as loose objects are

    def tree(self, entries: list[Entry]) -> str:
        data = tree_bytes(entries)
        if data not in self.names:
            self.names[data] = hashlib.sha1(b"tree %d\0" % len(data) + data).hexdigest()
            self.made += len(zlib.compress(data, 1))
        return self.names[data]


def branch_path(serial: int, newest: int) -> str:
    """Where the segment `serial` is in a branch whose newest segment is `newest`."""
    if serial // 10 == newest // 10:
        return f"log.d/open/{serial:010d}.jsonl"
    return "/".join(("log.d/closed", *closed_dirs(serial), f"{serial:010d}.jsonl"))


def blob(serial: int) -> str:
    return hashlib.sha1(str(serial).encode()).hexdigest()


def ten_tree(trees: Trees, serials: range) -> str:
    return trees.tree([("100644", "blob", blob(s), f"{s:010d}.jsonl") for s in serials])


def test_the_newest_ten_is_open_and_every_other_ten_has_a_path_of_its_own() -> None:
    assert branch_path(1234, 1239) == "log.d/open/0000001234.jsonl"
    assert branch_path(1234, 1240) == "log.d/closed/000000/1/2/3/0000001234.jsonl"
    assert branch_path(123456, 999999) == "log.d/closed/000012/3/4/5/0000123456.jsonl"


@pytest.mark.parametrize("newest", [9, 10, 99, 100, 12345])
def test_a_segment_path_gives_back_its_serial(newest: int) -> None:
    for serial in range(newest + 1):
        assert branch_serial(branch_path(serial, newest)) == serial
    assert branch_serial(files.segment_name(newest)) == newest  # the layout before format 3


@pytest.mark.parametrize(
    "path",
    [
        "log.d/closed/000000/1/2/4/0000001234.jsonl",  # directories of another ten: one serial, one path
        "log.d/closed/000001/1/2/3/0000001234.jsonl",
        "log.d/00000/13/0000001234.jsonl",  # the layout before format 3, in another directory
        "log.d/open/1234.jsonl",
        "log.d/open/x/0000001234.jsonl",
        "log.d/0000001234.jsonl",
        "semesters/0000001234.jsonl",
    ],
)
def test_any_other_path_is_no_segment(path: str) -> None:
    assert branch_serial(path) is None


def test_a_ten_that_closes_keeps_the_tree_it_had_while_open() -> None:
    """So that a push finds its objects on the remote already, under the path `log.d` the remote's tip has."""
    trees = Trees()
    logs = LogTrees(trees.tree)
    ten = ten_tree(trees, range(1230, 1240))
    opened = logs.log_tree({122: ten_tree(trees, range(1220, 1230)), 123: ten})
    assert (ten, "open") in [(e[2], e[3]) for e in entries_of(trees, opened)]
    closed = logs.log_tree({122: ten_tree(trees, range(1220, 1230)), 123: ten, 124: ten_tree(trees, range(1240, 1241))})
    path = [e for e in entries_of(trees, closed) if e[3] == "closed"]
    for name in ("000000", "1", "2", "3"):
        path = [e for e in entries_of(trees, path[0][2]) if e[3] == name]
    assert path[0][2] == ten


def entries_of(trees: Trees, sha: str) -> list[tuple[str, str, str, str]]:
    data = next(d for d, s in trees.names.items() if s == sha)
    out, pos = [], 0
    while pos < len(data):
        space, nul = data.index(b" ", pos), data.index(b"\0", pos)
        out.append(("", "", data[nul + 1 : nul + 21].hex(), data[space + 1 : nul].decode()))
        pos = nul + 21
    return out


def test_the_trees_a_write_makes_do_not_grow_with_the_run() -> None:
    """A first apply of 2,000 batches (three operations each): the trees that each hundred batches make weigh
    what those of the first hundred made, within 15 % (they are about a fifth of what a write adds: the
    segment and the commit are the rest). Before format 3 the trees of the last hundred of 1,000 batches
    weighed twice those of the first: a middle tree rewritten at every write gained an entry every 100."""
    trees = Trees()
    logs = LogTrees(trees.tree)
    tens: dict[int, str] = {}
    per_hundred = []
    for serial in range(6000):
        tens[serial // 10] = ten_tree(trees, range(serial // 10 * 10, serial + 1))
        logs.log_tree(tens)
        if serial % 300 == 299:
            per_hundred.append(trees.made)
            trees.made = 0
    first = per_hundred[0]
    assert all(0.95 * first < later < 1.15 * first for later in per_hundred[1:]), (first, per_hundred)
