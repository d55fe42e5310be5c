"""The safety thresholds as a pure judgement (syncer.plan.safety.judge): which semesters are guarded, and
which thresholds the guarded ones pass. The summaries given are not changed."""

from __future__ import annotations

import dataclasses

import pytest

from syncer.errors import RefusedError
from syncer.load.settings import Safety
from syncer.plan.model import Plan, SafetyBreach, SemesterSummary
from syncer.plan.safety import check_safety, how_to_proceed, judge
from syncer.problems import Problem, Severity
from syncer.rules.model import Finding
from tests.report.test_plan_render import sample_plan

SAFETY = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=10)


def summary(semester: str, managed: int, *, update: int = 0, forget: int = 0) -> SemesterSummary:
    return SemesterSummary(
        semester=semester,
        values_managed=managed,
        values_desired=managed,
        values_to_create=0,
        values_to_update=update,
        values_to_forget=forget,
        values_to_repair=0,
        rows_to_send=0,
        requests_min=0,
        rows_quarantined=0,
        update_ratio=update / managed if managed else 0.0,
        forget_ratio=forget / managed if managed else 0.0,
        guarded=False,
    )


def test_judge_marks_the_guarded_and_lists_what_they_pass() -> None:
    given = [summary("1", 20, update=8, forget=7), summary("2", 9, update=9), summary("3", 0)]
    judged, breaches = judge(given, SAFETY)
    assert [s.guarded for s in judged] == [True, False, False]
    assert breaches == [
        SafetyBreach("1", "update", 8, 20, 0.4, 0.3),
        SafetyBreach("1", "forget", 7, 20, 0.35, 0.3),
    ]


def test_judge_leaves_its_argument_alone() -> None:
    given = [summary("1", 20, update=10)]
    judge(given, SAFETY)
    assert given == [summary("1", 20, update=10)]
    assert not given[0].guarded


def test_at_the_threshold_is_not_past_it() -> None:
    judged, breaches = judge([summary("1", 10, update=3, forget=3)], SAFETY)
    assert judged[0].guarded and breaches == []


def test_one_managed_value_is_enough_to_be_guarded_and_none_is_never() -> None:
    lax = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=0)
    judged, breaches = judge([summary("1", 1, update=1), summary("2", 0)], lax)
    assert [s.guarded for s in judged] == [True, False]
    assert breaches == [SafetyBreach("1", "update", 1, 1, 1.0, 0.3)]


def test_the_advice_names_the_threshold_each_breach_passes() -> None:
    plan = sample_plan()
    semester = plan.breaches[0].semester
    plan = dataclasses.replace(
        plan,
        breaches=(
            SafetyBreach(semester, "update", 4, 12, 0.33, 0.3),
            SafetyBreach(semester, "forget", 5, 12, 0.42, 0.4),
        ),
    )
    advice = how_to_proceed(plan)
    assert "updates 4 of 12 managed values (33.0%), over safety.max_update_ratio 0.3" in advice
    assert "forgets 5 of 12 managed values (42.0%), over safety.max_forget_ratio 0.4" in advice


def _with_findings(*severities: Severity) -> Plan:
    found = tuple(
        Finding(f"rule-{i}", Problem("t.yaml", 3 + i, 15, sev, "rule", "m")) for i, sev in enumerate(severities)
    )
    return dataclasses.replace(sample_plan(), findings=found, breaches=())


def test_a_deny_finding_refuses_the_plan_and_force_does_not_override_it() -> None:
    plan = _with_findings("warning", "error")
    assert plan.denied and plan.refused
    for force in (False, True):
        with pytest.raises(RefusedError, match=r"1 value denied by rule-1 \(first at t.yaml:4:15\).*--force does not"):
            check_safety(plan, force=force)


def test_warnings_alone_refuse_nothing() -> None:
    plan = _with_findings("warning")
    assert not plan.denied
    check_safety(plan, force=False)
