"""Cards (syncer.notify.cards) from events (syncer.notify.event): an interrupted apply's card as a golden file
(the CLI tests hold the other outcomes), the size limit (rows cut from the end with a note, counts exact), text
from files and Feishu only in plain_text elements and made inert, values only when allowed."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from syncer.apply.outcome import ApplyReport, Batch, RejectedRow
from syncer.i18n import LANGUAGES, translations
from syncer.model import RowKey, Source
from syncer.notify.cards import build, card, size
from syncer.notify.event import apply_event, drift_event
from syncer.notify.links import Links
from syncer.plan.model import Names
from tests.paths import GOLDEN

UPDATE = os.environ.get("SYNCER_UPDATE_GOLDEN") == "1"
EN = translations("en")
NAMES = Names(semesters={"S1": "2026-H2"}, people={"ou_1": "alice"}, metrics={"M1": "revenue"})


def rejected(n: int, *, message: str = "value 123 is not allowed") -> list[RejectedRow]:
    return [
        RejectedRow(
            row=RowKey("S1", f"ou_{i}", "M1"),
            code=1580301,
            meaning="reviewee not in the semester",
            remedy="add them to the semester in Feishu",
            message=message,
            source=Source("teams/sales.yaml", 10 + i, 3),
            new=True,
        )
        for i in range(n)
    ]


def report(**changes: object) -> ApplyReport:
    r = ApplyReport(requests=3, changes_applied=40, rows_applied=12)
    r.batches = [Batch("S1", "7400000000000000001", 12, 40, "tok")]
    for k, v in changes.items():
        setattr(r, k, v)
    return r


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interrupted_apply_matches_its_golden_card(language: str) -> None:
    event = apply_event(report(interrupted="SIGTERM", rows_left=8), NAMES, commit="abc1234", values_allowed=False)
    links = Links(run="https://ci.example/run/1")
    the_card = card(event, links, values_allowed=False, limit=20_000, t=translations(language))
    got = json.dumps(the_card, indent=2, ensure_ascii=language == "en")  # Chinese readable (English as it was)
    path = GOLDEN / "notify" / ("interrupted.json" if language == "en" else f"interrupted.{language}.json")
    if UPDATE:
        path.write_text(got + "\n", encoding="utf-8")
    assert got + "\n" == path.read_text(encoding="utf-8"), "SYNCER_UPDATE_GOLDEN=1 if intended"


def test_a_chinese_card_counts_with_its_own_words_and_keeps_every_count() -> None:
    event = apply_event(report(rejected=rejected(400)), NAMES, commit="abc1234", values_allowed=False)
    cut = card(event, Links(), values_allowed=False, limit=18_000, t=translations("zh_CN"))
    texts = [e["text"]["content"] for e in cut["elements"] if e["tag"] == "div"]
    assert texts[0] == "已应用 40 处值变更，涉及 12 行，共 3 次导入请求。飞书拒绝了 400 行：需要有人处理（见下方）。"
    assert "2026-H2：已应用 12 行，已发送 40 个值，被拒绝 400 行" in texts
    shown = sum(t.startswith("teams/sales.yaml:") for t in texts)
    notes = [e["elements"][0]["content"] for e in cut["elements"] if e["tag"] == "note"]
    assert notes[0] == f"另有 {400 - shown} 行未显示（卡片大小有限制）：运行日志中有完整列表。"
    assert size(cut) <= 18_000


def test_a_card_over_the_limit_loses_rows_from_its_end_with_a_note_and_exact_counts() -> None:
    event = apply_event(report(rejected=rejected(400)), NAMES, commit="abc1234", values_allowed=False)
    full = build(event, Links(), values_allowed=False, t=EN)
    assert size(full) > 18_000
    cut = card(event, Links(), values_allowed=False, limit=18_000, t=EN)
    assert size(cut) <= 18_000
    texts = [e["text"]["content"] for e in cut["elements"] if e["tag"] == "div"]
    rows = [t for t in texts if t.startswith("teams/sales.yaml:")]
    assert 0 < len(rows) < 400 and rows[0].startswith("teams/sales.yaml:10: ")
    notes = [e["elements"][0]["content"] for e in cut["elements"] if e["tag"] == "note"]
    assert notes[0] == f"{400 - len(rows)} more rows not shown (the card's size limit): the run's log lists all."
    assert "2026-H2: 12 rows applied, 40 values sent, 400 rows rejected" in texts  # counts stay exact
    one_more = build(event, Links(), values_allowed=False, shown=len(rows) + 1, t=EN)
    assert size(one_more) > 18_000  # as many rows as fit, not fewer


def test_a_card_within_the_limit_is_whole() -> None:
    event = apply_event(report(rejected=rejected(3)), NAMES, commit="abc1234", values_allowed=False)
    assert card(event, Links(), values_allowed=False, limit=18_000, t=EN) == build(
        event, Links(), values_allowed=False, t=EN
    )


def test_feishus_message_only_when_values_are_allowed() -> None:
    r = report(rejected=rejected(1))
    hidden = json.dumps(
        card(apply_event(r, NAMES, commit="c", values_allowed=False), Links(), values_allowed=False, limit=20_000, t=EN)
    )
    shown = json.dumps(
        card(apply_event(r, NAMES, commit="c", values_allowed=True), Links(), values_allowed=True, limit=20_000, t=EN)
    )
    assert "value 123" not in hidden and "values hidden" in hidden
    assert "value 123 is not allowed" in shown and "values hidden" not in shown


def test_text_from_files_and_feishu_is_plain_text_and_inert() -> None:
    hostile = '<at user_id="all">x</at> **b** [l](https://evil)\n\u202e\x1b[31m'
    names = Names(semesters={"S1": hostile}, people={}, metrics={"M1": hostile})
    row = dataclasses.replace(rejected(1, message=hostile)[0], source=Source("x\n\x1b.yaml", 1, 1), remedy=hostile)
    r = report(rejected=[row])
    c = card(apply_event(r, names, commit="c", values_allowed=True), Links(), values_allowed=True, limit=20_000, t=EN)
    for e in c["elements"]:
        if e["tag"] == "div":
            assert e["text"]["tag"] == "plain_text"
            assert "\n" not in e["text"]["content"] and "\u202e" not in e["text"]["content"]
            assert "\x1b" not in e["text"]["content"]
    assert not any(e["tag"] == "action" for e in c["elements"])  # no link but the CI's


def test_a_drift_card_counts_per_semester_and_shows_values_only_when_allowed_and_inert() -> None:
    from syncer.live.drift import Drift, DriftEntry
    from syncer.model import ValueKey

    def entry(kind: str, reviewee: str) -> DriftEntry:
        key = ValueKey("S1", reviewee, "M1", "5")
        return DriftEntry(kind, key, "10\n::error::x", "11\u202e", "10", Source("t\x1b.yaml", 4, 7), 1)  # type: ignore[arg-type]

    drift = Drift("all", (entry("changed", "ou_1"), entry("cleared", "ou_2"), entry("admin", "ou_3")), (), 3, 3, 1, 5)
    hidden = card(
        drift_event(drift, NAMES, commit="c", values_allowed=False), Links(), values_allowed=False, limit=20_000, t=EN
    )
    texts = [e["text"]["content"] for e in hidden["elements"] if e["tag"] == "div"]
    assert "2026-H2: 1 value changed in Feishu, 1 value cleared in Feishu" in texts  # admin fields are no drift
    assert texts[-2].startswith("t\\x1b.yaml:4: 2026-H2 / alice / revenue / 5: changed in Feishu: apply with --refresh")
    assert "10" not in texts[-2].split("revenue / 5")[1]
    shown = card(
        drift_event(drift, NAMES, commit="c", values_allowed=True), Links(), values_allowed=True, limit=20_000, t=EN
    )
    line = [e["text"]["content"] for e in shown["elements"] if e["tag"] == "div"][-2]
    assert line.endswith("(10\\n::error::x -> 11\\u202e)")
