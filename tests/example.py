"""The example metrics root (metrics/) as tests use it: copied, with the local state backend.

metrics/syncer.yaml says `backend: git` (its state lives on a branch in CI); a copy in a temporary
directory outside git uses the local backend instead."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "metrics"


def copy_example(dest: Path, *, backend: str = "local") -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".syncer"))
    settings = dest / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "backend: git" in text, "metrics/syncer.yaml should keep its state on a git branch"
    settings.write_text(text.replace("backend: git", f"backend: {backend}"), encoding="utf-8")
    return dest
