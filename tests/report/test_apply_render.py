"""Renderers of an apply's outcome: the summary, the step summary (escaped, bounded) and progress lines."""

from __future__ import annotations

from syncer.apply.outcome import ApplyReport, Batch, Progress, RejectedRow
from syncer.model import RowKey, Source
from syncer.plan.model import Names
from syncer.report.apply import render_progress, render_step_summary, render_summary

ROW = RowKey("7293040702907514899", "ou_3245842393d09e9428ad4655da6e30b3", "7272580325522276372")
NAMES = Names(semesters={ROW.semester: "2026-H2"}, people={ROW.reviewee: "alice"}, metrics={ROW.metric: "revenue"})


def rejected(new: bool = True) -> RejectedRow:
    return RejectedRow(
        ROW,
        1580311,
        "a value entered by an admin cannot be overwritten",
        "drop the field from the YAML or ask the admin",
        "",
        Source("metrics/teams/s.yaml", 12, 5),
        new,
    )


def test_summary_names_rows_by_alias_with_location_code_and_remedy() -> None:
    report = ApplyReport(
        requests=3,
        requests_accepted=1,
        batches=[Batch("s", "7400000000000000001", 50, 200, "tok")],
        changes_applied=60,
        values_applied=200,
        rows_applied=50,
        rejected=[rejected()],
        seconds=12.5,
    )
    text = render_summary(report, NAMES)
    assert text.startswith(
        "Applied 60 of 60 value changes in 50 rows: 200 values sent as whole rows with 3 import requests "
        "(1 accepted) in 12.5 s; import record 7400000000000000001."
    )
    assert (
        "  metrics/teams/s.yaml:12: 2026-H2 / alice / revenue: 1580311 a value entered by an admin cannot be "
        "overwritten. drop the field from the YAML or ask the admin"
    ) in text
    assert report.exit_code == 4


def test_known_rejections_alone_exit_0() -> None:
    report = ApplyReport(rejected=[rejected(new=False)])
    assert report.exit_code == 0
    assert "rejected earlier and unchanged since, not sent" in render_summary(report, NAMES)


def test_step_summary_escapes_and_says_rejections_even_when_stopped_early() -> None:
    report = ApplyReport(rejected=[rejected()], stopped_early=True, rows_left=10)
    text = render_step_summary(report, NAMES)
    assert report.exit_code == 3
    assert text.startswith("### syncer apply: stopped at --max-duration") and "1 rows rejected in this run" in text
    assert "| 2026-H2 / alice / revenue | metrics/teams/s.yaml:12 | 1580311 |" in text  # cells of the table


def test_step_summary_stays_under_the_limit() -> None:
    report = ApplyReport(rejected=[rejected() for _ in range(20_000)])
    text = render_step_summary(report, NAMES, limit=100_000)
    assert len(text.encode()) <= 100_000 and text.rstrip().endswith("(cut: the full list is in the job log)")


def test_progress_lines() -> None:
    assert render_progress(Progress("batch", "s", 50, 100, 1, 6.0)) == "rows 50/100 done, 1 request left, ETA 6.0 s"
    assert render_progress(Progress("batch", "s", 100, 100, 0, 0.0)) == "rows 100/100 done"
