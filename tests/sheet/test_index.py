"""The sheet commands' index of a root: each data file's text and tree, the tree validation parsed reused
when validation kept it for the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.load.validate import validate_root
from syncer.load.yamlnodes import MapNode
from syncer.sheet.index import index_root
from tests.example import copy_example


def test_the_tree_validation_kept_is_the_one_indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each data file is parsed once (an export spent a third of its own time parsing every file again)."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    result = validate_root(root, root_display="metrics", keep_parsed=True)
    assert result.ok and result.parsed
    index = index_root(root, "metrics", result)
    assert len(index.files) == len(result.parsed)
    for info in index.files.values():
        assert info.tree is result.parsed[info.path][1]
    assert not validate_root(root, root_display="metrics").parsed  # kept only when asked


def test_a_file_changed_since_validation_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index reads the file's bytes again and takes the kept tree only for the same bytes: a file written
    in between is indexed as it now is, never with positions from the text validation saw."""
    monkeypatch.chdir(tmp_path)
    root = copy_example(tmp_path / "metrics")
    result = validate_root(root, root_display="metrics", keep_parsed=True)
    path = next(iter(result.parsed))
    path.write_bytes(b"# a line more\n" + path.read_bytes())
    info = next(i for i in index_root(root, "metrics", result).files.values() if i.path == path)
    assert info.tree is not result.parsed[path][1]
    kept = result.parsed[path][1]
    assert isinstance(kept, MapNode)
    before = kept.get("reviewees")
    assert isinstance(before, MapNode)
    assert info.reviewees.items[0][0].line == before.items[0][0].line + 1
