"""Validation is offline by construction: importing it loads no HTTP client and no state backend."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_validation_loads_no_http_client_and_no_backend() -> None:
    loaded = _modules_after("from syncer.load.validate import validate_root")
    assert "httpx" not in loaded
    assert not {m for m in loaded if m.startswith(("syncer.feishu", "syncer.state", "syncer.live", "syncer.apply"))}


def test_importing_the_planner_loads_no_http_client() -> None:
    loaded = _modules_after("from syncer.plan.diff import make_plan")
    assert "httpx" not in loaded
    assert not {m for m in loaded if m.startswith("syncer.feishu")}
