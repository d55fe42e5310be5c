"""The adoption flow of a team that already has values in Feishu, through the real CLI, against the emulator's
default tenant served on loopback:

    syncer init
    syncer catalog pull --write
    syncer import --semester <id> --all
    syncer plan                      -> nothing to do
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from tests.emulated import served_example
from tests.example import copy_example

H2 = "7293040702907514899"

# `syncer init` writes an example data file with this row (alice's revenue). The team's tenant holds it
# with the same values, so import adopts it as it is; a row a data file holds with other values would be
# refused (see tests/live/test_importer.py).
SAMPLE_ROW = """  alice:
    revenue:
      weight: 40%
      target: 1200000
      actual: 1310000
      note: "Closed the two largest renewals early."
      owner: bob
"""


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator's default tenant, holding a team's values (entered before syncer: here by applying the
    example root, with alice's revenue as in the sample, under a state the new user never sees)."""
    seed = copy_example(tmp_path / "seed")
    sales = seed / "teams" / "sales.yaml"
    text = sales.read_text()
    start = text.index("  alice:\n")
    end = text.index("    nps:", start)
    sales.write_text(text[:start] + SAMPLE_ROW + text[end:])
    with served_example(tmp_path, monkeypatch, root=seed) as s:
        result = CliRunner().invoke(cli, ["apply", "--root", "seed", "--state", "seed-state", "--auto-approve"])
        assert result.exit_code == 0, result.output
        yield s.emu


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_a_new_user_adopts_a_live_tenant_and_the_first_plan_is_empty(tenant: Emulator, tmp_path: Path) -> None:
    code, out = run("init")
    assert code == 0, out
    before = (tmp_path / "metrics" / "catalog.yaml").read_text()

    code, out = run("catalog", "pull")  # a dry run: the diff, nothing written
    assert code == 0, out
    assert "+  nps:   # NPS" in out and "--write" in out
    assert (tmp_path / "metrics" / "catalog.yaml").read_text() == before

    code, out = run("catalog", "pull", "--write")
    assert code == 0, out
    assert "Wrote metrics/catalog.yaml: added" in out
    catalog = (tmp_path / "metrics" / "catalog.yaml").read_text()
    assert all(line in catalog for line in before.splitlines())  # the scaffold's comments and aliases stay

    code, out = run("import", "--semester", H2, "--all")
    assert code == 0, out
    assert "wrote metrics/imported/2026-H2-001.yaml" in out
    assert "1 row already in data files with Feishu's values: adopted as they are." in out
    assert "recorded as applied in the state at metrics/.syncer/state" in out

    code, out = run("plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes: nothing to change since the last apply" in out

    code, out = run("validate")
    assert code == 0, out
    code, out = run("catalog", "pull")
    assert code == 0 and "is up to date with Feishu" in out
    code, out = run("plan", "--refresh-all", "--detailed-exitcode")
    assert code == 0 and "Drift: 0 values changed" in out, out
    reads = [e for e in tenant.requests() if e.endpoint and e.endpoint.endswith(".query")]
    assert reads and all(e.status == 200 for e in reads)
