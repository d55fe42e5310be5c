"""A semester whose project is not started, through the real CLI against the emulator on loopback: the
pre-flight names the project before any import is spent, and without it the diagnosis of the shared 1580306
names it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, parse_tenant
from syncer.emulator.loader import default_tenant_path
from tests.emulated import served_example

H2 = "7293040702907514899"
PROJECT = "7500000000000000001"
SAYS = f"the project 'H2 review' ('{PROJECT}') is not started (Feishu: initiating): a Performance admin starts it"


@pytest.fixture(params=[None])
def scopes(request: pytest.FixtureRequest) -> list[str] | None:
    """The app's granted scopes (None: every scope)."""
    granted: list[str] | None = request.param
    return granted


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scopes: list[str] | None) -> Iterator[Emulator]:
    """The example root against a tenant whose 2026-H2 reviewees are all in one project, not started."""
    data = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    h2 = next(s for s in data["semesters"] if s["id"] == H2)
    h2["activities"] = [
        {"id": PROJECT, "name": {"zh_cn": "下半年考核", "en_us": "H2 review"}, "progress": "initiating"}
    ]
    for r in h2["reviewees"]:
        r["activity_ids"] = [PROJECT]
    if scopes is not None:
        data.setdefault("app", {})["scopes"] = scopes
    with served_example(tmp_path, monkeypatch, emulator=Emulator(parse_tenant(data), import_per_minute=1000)) as s:
        yield s.emu


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_the_preflight_names_the_project_and_spends_no_import(served: Emulator) -> None:
    code, out = run("apply", "--auto-approve", "--preflight")
    assert code == 4, out
    assert SAYS in out, out
    assert served.requests("metric_details.import") == []
    assert len(served.requests("activity.query")) == 1  # one read for the semester


def test_without_preflight_the_shared_1580306_names_the_project(served: Emulator) -> None:
    code, out = run("apply", "--auto-approve", "--no-preflight")
    assert code == 4, out
    assert SAYS in out, out
    assert served.requests("metric_details.import")  # spent: that is what the pre-flight saves


WITHOUT_ACTIVITY_SCOPE = [
    "performance:metric:write",
    "performance:metric:read",
    "performance:metric_lib:read",
    "performance:semester:read",
    "performance:semester_user:read",
]


@pytest.mark.parametrize("scopes", [WITHOUT_ACTIVITY_SCOPE], indirect=True)
def test_without_the_activity_scope_the_preflight_runs_without_project_status(served: Emulator) -> None:
    code, out = run("apply", "--auto-approve", "--preflight")
    assert len(served.requests("activity.query")) >= 1  # asked, and refused with 99991672
    assert "Traceback" not in out and SAYS not in out, out
    assert served.requests("metric_details.import")  # the pre-flight held nothing back for the project
    assert code == 4, out  # the import's shared 1580306 stops the semester, with the general advice
