"""What a notification tells, as plain data: the outcome of an apply or the drift `plan --refresh` found, counted
per semester, with the rows someone has to look at. No wording here (syncer.notify.cards says it all), and
no value unless the caller allows values: `detail` is None when redacted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syncer.text import safe

if TYPE_CHECKING:
    from syncer.apply.outcome import ApplyReport
    from syncer.live.drift import Drift
    from syncer.plan.model import Names

Outcome = Literal["applied", "rejected", "stopped", "interrupted", "failed", "drift"]
#: The per-semester figures an event may carry, in the order a card shows them.
FIGURES = ("rows_applied", "values_sent", "rows_rejected", "rows_pending", "values_changed", "values_cleared",
           "values_unmanaged")  # fmt: skip


@dataclass(frozen=True, slots=True)
class SemesterFigures:
    semester: str  # display name (escaped)
    figures: tuple[tuple[str, int], ...]  # (one of FIGURES, count), zero counts left out


@dataclass(frozen=True, slots=True)
class Row:
    """A row someone has to look at: a rejected row, or a value changed in Feishu."""

    where: str  # file:line, "" when the YAML does not hold it
    label: str  # semester / reviewee / metric (escaped)
    code: int | None  # Feishu's code of a rejection
    remedy: str  # what to do (syncer's words)
    detail: str | None  # Feishu's message or the values; None when values are not allowed


@dataclass(frozen=True, slots=True)
class Event:
    outcome: Outcome
    semesters: tuple[SemesterFigures, ...]
    rows: tuple[Row, ...]
    commit: str  # short sha, or "nogit"
    changes_applied: int = 0
    rows_applied: int = 0
    requests: int = 0
    rows_left: int = 0
    reason: str = ""  # why a run failed or what interrupted it (escaped)


def _figures(per: Mapping[str, dict[str, int]], names: Names) -> tuple[SemesterFigures, ...]:
    return tuple(
        SemesterFigures(names.semester(sid), tuple((k, per[sid][k]) for k in FIGURES if per[sid].get(k)))
        for sid in sorted(per, key=names.semester)
    )


def apply_event(report: ApplyReport, names: Names, *, commit: str, values_allowed: bool) -> Event:
    """An apply's report as an event: its outcome follows the exit code (a failure wins, then an interrupt, then
    --max-duration, then rejected rows)."""
    per: dict[str, dict[str, int]] = {}
    for b in report.plan_batches:
        s = per.setdefault(b.semester, {})
        s["rows_applied"] = s.get("rows_applied", 0) + b.rows
        s["values_sent"] = s.get("values_sent", 0) + b.values
    new = report.new_rejections
    for r in new:
        s = per.setdefault(r.row.semester, {})
        s["rows_rejected"] = s.get("rows_rejected", 0) + 1
    for stop in report.shared:
        s = per.setdefault(stop.semester, {})
        s["rows_pending"] = s.get("rows_pending", 0) + stop.rows_pending + stop.rows_unsent
    for r in report.held:  # held back by the pre-flight: pending, not rejected
        s = per.setdefault(r.row.semester, {})
        s["rows_pending"] = s.get("rows_pending", 0) + 1
    reason = ""
    outcome: Outcome = "applied"
    if report.exit_code == 1:
        outcome = "failed"
        why = [report.aborted or ""] + [w for _, w in report.failures]  # each names its semester
        reason = "; ".join(w for w in why if w) or "rows set aside"
    elif report.interrupted is not None:
        outcome, reason = "interrupted", report.interrupted
    elif report.stopped_early:
        outcome = "stopped"
    elif new or report.shared:
        outcome = "rejected"
    rows = tuple(
        Row(
            where=f"{safe(r.source.file)}:{r.source.line}" if r.source else "",
            label=f"{names.semester(r.row.semester)} / {names.person(r.row.reviewee)} / {names.metric(r.row.metric)}",
            code=r.code,
            remedy=safe(r.remedy),
            detail=safe(r.message) if values_allowed and r.message else None,
        )
        for r in new
    )
    return Event(
        outcome=outcome,
        semesters=_figures(per, names),
        rows=rows,
        commit=commit,
        changes_applied=report.changes_applied,
        rows_applied=report.rows_applied,
        requests=report.requests,
        rows_left=report.rows_left,
        reason=safe(reason),
    )


def failed_event(reason: str, *, commit: str) -> Event:
    """An apply that stopped before it had a report (refused, the lock held, credentials wrong)."""
    return Event(outcome="failed", semesters=(), rows=(), commit=commit, reason=safe(reason))


def drift_event(drift: Drift, names: Names, *, commit: str, values_allowed: bool) -> Event:
    """What `plan --refresh` found changed in Feishu, per semester, each value with where the YAML holds it."""
    key_of = {"changed": "values_changed", "cleared": "values_cleared", "unmanaged": "values_unmanaged"}
    per: dict[str, dict[str, int]] = {}
    rows = []
    for e in drift.entries:
        if e.kind not in key_of:
            continue
        s = per.setdefault(e.key.semester, {})
        s[key_of[e.kind]] = s.get(key_of[e.kind], 0) + 1
        k = e.key
        detail = None
        if values_allowed:
            detail = f"{safe(e.applied or '-')} -> {safe(e.live or '-')}"
        rows.append(
            Row(
                where=f"{safe(e.source.file)}:{e.source.line}" if e.source else "",
                label=f"{names.semester(k.semester)} / {names.person(k.reviewee)} / {names.metric(k.metric)}"
                f" / {names.field(k.metric, k.field)}",
                code=None,
                remedy=e.kind,
                detail=detail,
            )
        )
    return Event(outcome="drift", semesters=_figures(per, names), rows=tuple(rows), commit=commit)
