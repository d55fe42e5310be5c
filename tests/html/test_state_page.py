"""`syncer report --html` as a page: per team (a data file) the completion of actuals against targets, the
weights that do not sum to 100%, the rows held back, the last applies and who made them; counts only when
redacting."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from syncer.gitinfo import NO_GIT
from syncer.html.state_page import Dashboard, render_state_html
from syncer.load.validate import validate_root
from syncer.model import Identity
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.problems import REDACTED
from syncer.report.drift import catalog_names
from tests.example import copy_example
from tests.html.headings import english, labels

pytest.importorskip("jinja2")
pytest.importorskip("pygal")

TEAM = """\
semester: 2026-H2
reviewees:
  alice:
    revenue: {weight: 60%, target: 100, actual: 120}
    nps: {weight: 40%, target: 50, actual: 40}
  bob:
    revenue: {weight: 50%, target: 0, actual: 7, note: "<b>hi</b>"}
"""


@pytest.fixture
def board(tmp_path: Path) -> Dashboard:
    root = copy_example(tmp_path / "metrics")
    for path in [*root.glob("teams/*.yaml"), *root.glob("archive/*.yaml")]:
        path.unlink()
    (root / "teams" / "销售.yaml").write_text(TEAM, encoding="utf-8")
    result = validate_root(root, root_display="metrics")
    assert result.ok and result.desired is not None, result.problems
    plan = make_plan(
        result.desired,
        None,
        PlanOptions(
            safety=result.settings.safety,
            git=NO_GIT,
            target=Identity("open.feishu.cn", None, "open_id"),
            state_location=".syncer/state",
            root="metrics",
        ),
    )
    return Dashboard(desired=result.desired, state=None, plan=plan, names=catalog_names(result.catalog))


def _count(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', page)
    assert found is not None
    return int(found.group(1))


def test_completion_per_team_is_actual_over_target_of_the_rows_holding_both(board: Dashboard) -> None:
    page = render_state_html(board, redact=False)
    row = re.search(r"<tr><td>teams/销售</td>(.*?)</tr>", page)
    assert row is not None  # bob's target of 0 gives no ratio: 2 rows, alice's 120% and 80%
    assert re.findall(r'<td class="n">([^<]*)</td>', row.group(1)) == ["2", "1", "1", "100.0%"]
    (chart,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert "Completion per team" in base64.b64decode(chart).decode()


def test_weights_that_do_not_sum_to_100_are_listed(board: Dashboard) -> None:
    page = render_state_html(board, redact=False)
    assert _count(page, "weights_off") == 1
    assert re.search(r"<td>bob</td><td>teams/销售</td><td class=\"n\">50%</td>", page)


def test_redacted_no_value_ratio_or_sum_shows_and_the_chart_counts(board: Dashboard) -> None:
    page = render_state_html(board, redact=True)
    assert "100.0%" not in page and "50%</td>" not in page and "&lt;b&gt;hi" not in page
    assert page.count(REDACTED) >= 2
    (chart,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    svg = base64.b64decode(chart).decode()
    assert "Rows at or above target" in svg and "120" not in svg


def test_an_empty_state_says_nothing_was_applied(board: Dashboard) -> None:
    page = render_state_html(board, redact=False)
    assert "Nothing applied yet." in page and _count(page, "values_managed") == 0
    assert _count(page, "values_desired") == board.plan.counts.values_desired == 10


def test_the_completion_chart_says_how_many_teams_it_left_out(
    board: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncer.html import state_page

    monkeypatch.setattr(state_page, "MAX_TEAMS", 0)
    page = render_state_html(board, redact=False)
    assert "1 more team not drawn (the fewest rows); the table lists every team." in page
    assert "<td>teams/销售</td>" in page


def test_in_chinese_every_heading_label_and_chart_word_is_chinese(board: Dashboard) -> None:
    for redact in (False, True):  # two charts: completion, and rows at or above target
        page = render_state_html(board, redact=redact, language="zh_CN")
        assert '<html lang="zh-CN">' in page and "<h1>状态报告</h1>" in page and "尚未应用任何内容。" in page
        assert "<h2>权重之和不为 100% 的被评估人</h2>" in page  # %% is a percent sign
        assert "<td>teams/销售</td>" in page  # names stay as the files have them
        found = labels(page)
        assert ("各团队达成目标的行数" if redact else "各团队完成率（实际值 / 目标值的平均）") in found
        assert english(found) == []
