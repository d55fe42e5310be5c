"""write_changes: every changed file written, the root validated again, and every file put back as it was
(new directories too) when anything fails; refused before any write when a file changed since it was read."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from syncer.errors import RefusedError
from syncer.sheet.change import FileChange
from syncer.sheet.write import ImportInvalid, write_changes
from tests.sheet.helpers import snapshot

SALES = "teams/sales.yaml"


def _change(root: Path, rel: str, new: str, *, old: str | None = None, bom: bool = False) -> FileChange:
    return FileChange(root / rel, rel, f"metrics/{rel}", old, new, bom, updated=1, added=0, rows_added=0)


def _sales(root: Path) -> str:
    return (root / SALES).read_text(encoding="utf-8")


def test_the_changes_are_written_and_the_root_stays_valid(root: Path) -> None:
    old = _sales(root)
    new = old.replace("actual: 1055000", "actual: 1100000", 1)
    write_changes([_change(root, SALES, new, old=old)], root=root, root_display="metrics", people=None)
    assert _sales(root) == new


def test_a_file_with_a_byte_order_mark_keeps_it(root: Path) -> None:
    old = _sales(root)
    (root / SALES).write_bytes(codecs.BOM_UTF8 + old.encode("utf-8"))
    new = old.replace("actual: 1055000", "actual: 1100000", 1)
    write_changes([_change(root, SALES, new, old=old, bom=True)], root=root, root_display="metrics", people=None)
    assert (root / SALES).read_bytes() == codecs.BOM_UTF8 + new.encode("utf-8")


def test_a_file_changed_since_it_was_read_refuses_before_any_write(root: Path) -> None:
    before = snapshot(root)
    stale = _change(root, SALES, "anything", old=_sales(root) + "# edited meanwhile\n")
    with pytest.raises(RefusedError, match="changed while importing"):
        write_changes([stale], root=root, root_display="metrics", people=None)
    assert snapshot(root) == before


def test_a_new_file_that_appeared_meanwhile_refuses_before_any_write(root: Path) -> None:
    (root / "teams" / "new.yaml").write_text("semester: 2026-H2\n", encoding="utf-8")
    before = snapshot(root)
    with pytest.raises(RefusedError, match="appeared while importing"):
        write_changes([_change(root, "teams/new.yaml", "x")], root=root, root_display="metrics", people=None)
    assert snapshot(root) == before


def test_an_invalid_root_puts_every_file_back_and_removes_the_directories_made(root: Path) -> None:
    before = snapshot(root)
    old = _sales(root)
    changes = [
        _change(root, SALES, old.replace("actual: 1055000", "actual: 1100000", 1), old=old),
        _change(
            root, "new/deep/file.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    revenue:\n      actual: lots\n"
        ),
    ]
    with pytest.raises(ImportInvalid) as info:
        write_changes(changes, root=root, root_display="metrics", people=None)
    assert info.value.problems
    assert snapshot(root) == before
    assert not (root / "new").exists()
