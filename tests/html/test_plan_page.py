"""`syncer plan --format html` as a page: the plan's counts, its changes per team, targets and actuals
moved, values escaped, masked when redacting (charts of counts only), details capped with a note; in
Chinese, every heading, label and chart word."""

from __future__ import annotations

import base64
import dataclasses
import re

import pytest

from syncer.html import parts
from syncer.html.plan_page import render_plan_html
from syncer.live.drift import Drift, DriftEntry
from syncer.model import ValueKey
from syncer.plan.model import Names, Plan
from syncer.problems import REDACTED
from syncer.report.formats import renderer_for
from syncer.report.renderer import Refreshed
from tests.html.headings import english, labels
from tests.report.test_plan_render import sample_plan

pytest.importorskip("jinja2")
pytest.importorskip("pygal")


def _charts(page: str) -> list[str]:
    return [base64.b64decode(b).decode() for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]


def test_the_page_shows_the_plans_counts_and_the_changes_per_team() -> None:
    plan = sample_plan()
    page = render_plan_html(plan, redact=False)
    for name, value in plan.counts._asdict().items():
        if f'data-count="{name}"' in page:
            assert f'data-count="{name}">{value}<' in page
    assert 'data-count="values_changed">' in page and 'data-count="rows_quarantined">' in page
    assert "teams/sales · " in page and "teams/new · " in page
    assert "This plan passes a safety threshold" in page  # the sample is refused without --force
    (held,) = plan.quarantined
    assert f'<td>1580304</td><td>2026-04-20</td><td class="n">{held.values}</td>' in page


def test_values_from_files_are_escaped() -> None:
    page = render_plan_html(sample_plan(), redact=False)
    assert "<a href=x>" not in page and "&lt;a href=x&gt;link&lt;/a&gt;" in page


def test_targets_and_actuals_moved_are_drawn_before_and_after() -> None:
    page = render_plan_html(sample_plan(), redact=False)
    (changes, moves) = _charts(page)
    assert "Changes per team and metric" in changes
    assert "before" in moves and "after" in moves and "bob · revenue.target" in moves


def test_redacted_the_page_shows_no_value_and_charts_count_only() -> None:
    page = render_plan_html(sample_plan(), redact=True)
    for value in ("1499000", "1200000", "1100000", "old note", "Closed"):
        assert value not in page
    assert REDACTED in page
    charts = _charts(page)
    assert len(charts) == 1 and "Changes per team and metric" in charts[0]  # no before -> after
    assert "raised" in page  # how many moved, not how far


def test_details_are_capped_with_a_note_and_the_counts_stay_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sample_plan()
    monkeypatch.setattr(parts, "MAX_DETAIL_ROWS", 2)
    page = render_plan_html(plan, redact=False)
    assert (
        page.count('<td class="create">') + page.count('<td class="update">') + page.count('<td class="forget">') == 2
    )
    assert "not listed here (the page lists a bounded number of rows)" in page
    assert f'data-count="values_changed">{plan.counts.values_changed}<' in page


def test_rows_held_back_are_capped_with_the_details(monkeypatch: pytest.MonkeyPatch) -> None:
    """A semester Feishu closed holds back every row of it: tens of thousands of rows, which the page lists
    within the same cap as the changes (after them), with a note of how many it left out."""
    plan = sample_plan()
    (held,) = plan.quarantined
    many = tuple(held._replace(row=held.row._replace(reviewee=f"{i:07d}")) for i in range(5))
    monkeypatch.setattr(parts, "MAX_DETAIL_ROWS", len(plan.changes) + 2)
    page = render_plan_html(dataclasses.replace(plan, quarantined=many), redact=False)
    table = page.split('<table id="held-back">', 1)[1].split("</table>", 1)[0]

    def table_and_after(page: str) -> str:  # the note under this table, not another's
        return page.split('<table id="held-back">', 1)[1].split("<h2>", 1)[0]

    assert table.count("<tr>") == 1 + 2  # the header and two rows
    assert "3 more not listed (the page lists a bounded number of rows)." in table_and_after(page)


def test_the_html_format_renders_plans_and_drift_and_refuses_problems() -> None:
    html = renderer_for("html", "plan", "drift")
    assert "html" not in [n for n in ("text", "json", "github") if "problems" in html.renders]
    page = "".join(str(p) for p in html.plan(sample_plan(), redact=False))
    assert page.startswith("<!doctype html>") and page.endswith("</html>\n")


def _refreshed() -> Refreshed:
    key = ValueKey("7293040702907514899", "ou_" + "e" * 32, "7272580325522276372", "5")
    entry = DriftEntry("changed", key, applied="1499000", live="1500000", desired="1499000", source=None, batch=1)
    drift = Drift("all", (entry,), (), reviewees_checked=3, reviewees_in_scope=3, requests=1, budget=20)
    return Refreshed(drift, Names(people={key.reviewee: "王芳"}), detailed_exitcode=False)


def test_the_drift_section_names_rows_by_the_catalog_and_masks_values_when_redacting() -> None:
    html = renderer_for("html", "plan", "drift")
    for redact in (False, True):
        refreshed = _refreshed()
        page = "".join(str(p) for p in html.plan(sample_plan(), redact=redact, refreshed=refreshed))
        assert 'data-count="drift_changed">1<' in page and "<td>王芳</td>" in page
        assert ("1500000" in page) is not redact


def test_charts_draw_the_largest_bars_and_say_how_many_they_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from syncer.html import charts, plan_page

    monkeypatch.setattr(plan_page, "MAX_TEAMS", 1)
    monkeypatch.setattr(charts, "MAX_BARS", 1)
    page = render_plan_html(sample_plan(), redact=False)
    changes, moves = _charts(page)
    assert set(re.findall(r"teams/\w+ · \w+", changes)) == {"teams/sales · revenue"}  # the most changes
    assert re.search(r"\d+ more team and metric pairs? not drawn", page)
    assert len(set(re.findall(r"\w+ · \w+\.\w+", moves))) == 1
    assert re.search(r"\d+ smaller moves? not drawn", page)


def test_in_chinese_every_heading_label_and_chart_word_is_chinese() -> None:
    page = render_plan_html(sample_plan(), redact=False, language="zh_CN")
    assert '<html lang="zh-CN">' in page and "<h1>变更计划</h1>" in page and "<h2>各团队、各指标的变更</h2>" in page
    assert '<td class="update">更新</td>' in page and "此计划超出了安全阈值" in page
    found = labels(page)
    assert "各团队、各指标的变更" in found and "变更前" in found  # a chart's title and a legend
    assert english(found) == []


def test_in_english_the_same_headings_are_english() -> None:  # the check above can fail
    page = render_plan_html(sample_plan(), redact=False)
    assert '<html lang="en">' in page and "<h1>Plan</h1>" in page
    assert {"Changes per team and metric", "before", "reviewee"} <= set(english(labels(page)))


def test_the_drift_section_in_chinese() -> None:
    html = renderer_for("html", "plan", "drift")
    page = "".join(str(p) for p in html.plan(sample_plan(), redact=False, refreshed=_refreshed(), language="zh_CN"))
    assert "<h2>数据不一致：在 syncer 之外于飞书中改动的值</h2>" in page and "<td>在飞书中被修改</td>" in page
    assert "已从飞书读取 3 位被评估人中的 3 位。" in page
    assert english(labels(page)) == []


def _denied() -> Plan:
    from syncer.problems import Problem
    from syncer.rules.model import Finding

    message = "rule 'no-lowering': never <b>lower</b>{detail}"
    found = Finding("no-lowering", Problem("m/teams/a.yaml", 7, 15, "error", "rule", message, detail=" (1234)"))
    return dataclasses.replace(sample_plan(), findings=(found,), rules=("no-lowering",))


def test_a_plan_a_rule_denies_says_so_and_lists_each_finding_at_its_value() -> None:
    page = render_plan_html(_denied(), redact=False)
    assert "This plan breaks a company rule: apply refuses it, --force or not." in page
    assert (
        "<tr><td><code>m/teams/a.yaml:7:15</code></td><td>no-lowering</td><td>deny</td>"
        "<td>rule &#39;no-lowering&#39;: never &lt;b&gt;lower&lt;/b&gt; (1234)</td></tr>" in page
    )
    assert "(1234)" not in render_plan_html(_denied(), redact=True)  # CEL's words may quote a value
    assert "no-lowering" not in render_plan_html(sample_plan(), redact=False)


def test_the_rules_section_in_chinese() -> None:
    page = render_plan_html(_denied(), redact=False, language="zh_CN")
    assert "<h2>公司规则</h2>" in page and "<td>拒绝</td>" in page and "此计划违反了公司规则" in page


def test_rule_findings_are_capped_on_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    one = _denied().findings[0]
    plan = dataclasses.replace(_denied(), findings=(one,) * 3)
    monkeypatch.setattr(parts, "MAX_DETAIL_ROWS", 2)
    page = render_plan_html(plan, redact=False)
    assert page.count("<td>no-lowering</td>") == 2
    assert "1 more not listed (the page lists a bounded number of rows)." in page
