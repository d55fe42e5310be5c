from __future__ import annotations

from pathlib import Path

from syncer.load.files import walk_files


def test_walk_files_skips_dot_directories_excluded_and_top_files(tmp_path: Path) -> None:
    for rel in [
        "syncer.yaml",
        "catalog.yaml",
        "a.yaml",
        "b/c.yml",
        ".syncer/state.yaml",
        "b/.hidden/x.yaml",
        "drafts/d.yaml",
        "drafts/deep/e.yaml",
        "notes.txt",
        "x.tmpl.yaml",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n")
    found, linked = walk_files(
        tmp_path, exclude=("drafts/**", "*.tmpl.yaml"), skip=frozenset({"syncer.yaml", "catalog.yaml"})
    )
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.yaml", "b/c.yml"] and linked == []
