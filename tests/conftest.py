from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fixture_root(tmp_path: Path) -> Path:
    """A small valid metrics root (catalog only) in a temporary directory."""
    root = tmp_path / "m"
    shutil.copytree(FIXTURES / "root", root)
    return root


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's or CI's Feishu settings, GitHub Actions or redaction switches."""
    for var in ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_BASE_URL", "GITHUB_ACTIONS", "SYNCER_REDACT",
                "SYNCER_DEBUG", "NO_COLOR", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
