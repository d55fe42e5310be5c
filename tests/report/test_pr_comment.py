"""The PR comment (`syncer plan --format markdown`) at the sizes CI meets: nothing to change, and 100,000
value changes (cut to GitHub's comment limit with exact counts). Golden files; regenerate with
SYNCER_UPDATE_GOLDEN=1 python3 -m pytest tests/report"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncer.gitinfo import GitInfo
from syncer.load.validate import validate_root
from syncer.model import Identity, RowKey
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.report.plan_markdown import render_markdown
from tests.bench.generate import generate_root

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "pr-comment"
UPDATE = os.environ.get("SYNCER_UPDATE_GOLDEN") == "1"
GIT = GitInfo("c0ffee" * 6 + "c0ff", "c0ffeec", False)
TARGET = Identity("open.feishu.cn", "cli_a1b2", "open_id")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def big_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "m"
    generate_root(root, reviewees=5_000, files=10)  # 100,000 values
    return root


def test_comment_with_nothing_to_change(tmp_path: Path) -> None:
    from syncer.state.local.store import LocalStateStore
    from syncer.state.model import BatchRecord, utc_now

    generate_root(tmp_path / "m", reviewees=3, metrics=2, fields=2, files=1)
    result = validate_root(tmp_path / "m", root_display="metrics")
    assert result.desired is not None
    store = LocalStateStore(tmp_path / "state")
    with store.locked():
        store.create(TARGET)
        rows: dict[RowKey, dict[str, str]] = {}
        for k, v in result.desired.values.items():
            rows.setdefault(k.row, {})[k.field] = v.value
        store.record_batch(
            BatchRecord(
                semester=k.semester,
                client_token="t",
                import_record_id="1",
                commit=GIT.commit,
                import_record_name="syncer",
                time=utc_now(),
                rows=rows,
            )
        )
        store.compact()
    state = store.load()
    assert state is not None
    plan = make_plan(
        result.desired,
        state,
        PlanOptions(
            safety=result.settings.safety,
            git=GIT,
            target=TARGET,
            state_location="metrics/.syncer/state",
            root="metrics",
        ),
    )
    assert plan.empty
    text = render_markdown(plan, redact=True)
    text = text.replace(state.meta.lineage[:8], "LINEAGE0").replace(plan.checksum.split(":")[-1][:12], "CHECKSUM0000")
    check_golden("no-changes.md", text)
    assert "No changes" in text and len(text) < 2000


def test_comment_with_100000_changes_is_cut_with_exact_counts(big_root: Path) -> None:
    result = validate_root(big_root, root_display="metrics")
    assert result.desired is not None and result.value_count == 100_000
    plan = make_plan(
        result.desired,
        None,
        PlanOptions(
            safety=result.settings.safety,
            git=GIT,
            target=TARGET,
            state_location="metrics/.syncer/state",
            root="metrics",
        ),
    )
    text = render_markdown(plan, redact=False)
    assert len(text) <= 60_000
    assert "100000 values changed" in text and "500 import requests" in text
    assert "Cut to fit a 60,000-character comment" in text
    check_golden("100000-changes.md", text)
    redacted = render_markdown(plan, redact=True)
    assert len(redacted) <= 60_000
    shown = [c.new for c in plan.changes if c.key.field == "7" and c.new][:3]
    assert all(f"| {v} |" in text for v in shown)  # the first reviewees' notes are shown...
    assert not any(v in redacted for v in shown)  # ...and hidden when redacting
