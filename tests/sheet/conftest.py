from __future__ import annotations

from pathlib import Path

import pytest

from syncer.sheet import xlsxread
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


@pytest.fixture(autouse=True, params=["calamine", "openpyxl"])
def xlsx_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with both workbook readers: python-calamine where it reads the workbook (the
    sheet extra), and openpyxl alone (as where python-calamine is not installed)."""
    reader = str(request.param)
    if reader == "openpyxl":
        monkeypatch.setattr(xlsxread, "load_calamine", lambda: None)
    else:
        assert xlsxread.load_calamine() is not None, "python-calamine is not installed (the test extra has it)"
    return reader
