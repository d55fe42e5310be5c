from __future__ import annotations

from pathlib import Path

import pytest

from tests.example import copy_example
from tests.sheet.helpers import Loaded, load


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example as the root, the working directory above it (sheets name files from there)."""
    monkeypatch.chdir(tmp_path)
    return copy_example(tmp_path / "metrics")


@pytest.fixture
def loaded(root: Path) -> Loaded:
    """The example root as an import sees it."""
    return load(root)
