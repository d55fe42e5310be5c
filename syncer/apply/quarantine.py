"""Quarantine bookkeeping: rows Feishu rejected are recorded in the state (code, time, a digest of what was
sent, the message) and listed in the report, so that they are held back until what would be sent changes.
A row is quarantined only when Feishu refused it on its own (a request of that row, or of its reviewee's
rows): the rows an isolation pinned down, and the rows a plan already holds back from an earlier run. A
refusal that only looked shared quarantines nothing more: the batch's other rows stay pending."""

from __future__ import annotations

from collections.abc import Sequence

from syncer.apply.context import RunContext
from syncer.apply.diagnose import likely_cause, sent_fields
from syncer.apply.isolate import Isolated, SharedRefusal
from syncer.apply.outcome import RejectedRow, SharedStop
from syncer.apply.projects import ProjectProblem, activity_problems
from syncer.errors import FeishuError, UnstorableValue
from syncer.feishu.codes import describe
from syncer.model import RowKey
from syncer.plan.model import Plan
from syncer.plan.sent import desired_fields, sent_digest
from syncer.state.model import SHARED_REFUSAL, UNRECORDED, Rejection, format_time
from syncer.text import plural


def note_quarantined(run: RunContext, plan: Plan) -> None:
    """List the rows held back because Feishu rejected them before and they have not changed."""
    known = {r.row for r in run.report.rejected}
    for q in plan.quarantined:
        if q.row not in known and q.message.startswith(UNRECORDED):
            run.report.rejected.append(RejectedRow(q.row, 0, *_UNRECORDED, q.message, q.source, new=False))
        elif q.row not in known:
            info = describe(q.code)
            shared = q.message.startswith(SHARED_REFUSAL)  # its remedy is the diagnosis, not "fix the value"
            remedy = q.message.removeprefix(f"{SHARED_REFUSAL}: ") if shared else info.remedy
            run.report.rejected.append(RejectedRow(q.row, q.code, info.meaning, remedy, q.message, q.source, new=False))


def quarantine(run: RunContext, semester: str, culprit: Isolated[RowKey]) -> None:
    """Record the rows an isolation found at fault as rejected, and count them done."""
    at = format_time(run.world.clock())
    info = describe(culprit.code)
    run.world.store.record_rejected(
        [Rejection(row, culprit.code, at, _digest(run, row), culprit.message) for row in culprit.rows]
    )
    rows = run.options.desired.rows
    for row in culprit.rows:
        run.report.rejected.append(
            RejectedRow(row, culprit.code, info.meaning, info.remedy, culprit.message, rows.get(row), new=True)
        )
    run.rows_done += len(culprit.rows)
    run.progress(
        run.event(
            "rejected",
            semester,
            0,
            f"{plural(len(culprit.rows), 'row')} rejected with {culprit.code}: {info.meaning}",
        )
    )


#: The meaning and remedy of a row set aside (landed in Feishu, not recorded).
_UNRECORDED = (
    "landed in Feishu, but the state could not record it",
    "Set aside: not recorded as applied, not sent again until its values change (apply exits 1 until then). "
    "Change the value to one the state can hold, or to what you want Feishu to hold now",
)


def set_aside(run: RunContext, token: str, values: dict[str, str], exc: UnstorableValue) -> None:
    """Record a row Feishu accepted (under `token`, with `values`) that the state cannot hold as set aside: kept
    as a rejection is, with code 0 and a message beginning UNRECORDED, so that it is held back until its
    values change (never sent again as it is) and never recorded as applied. The digest is of what the
    YAML wants now when that is what landed, else empty (what the YAML wants now is sent)."""
    row = exc.key.row
    percentage_format = run.options.settings.target.percentage_format
    wanted = desired_fields(run.options.desired.values, [row]).get(row, {})
    same = {f: v.value for f, v in wanted.items()} == values
    digest = sent_digest(wanted, percentage_format=percentage_format) if same else ""
    metric = run.options.desired.catalog.metric_by_id(row.metric)
    fdef = metric.field_by_id(exc.key.field) if metric is not None else None
    field = f"{fdef.alias} ({fdef.id})" if fdef is not None else exc.key.field
    message = f"{UNRECORDED} in the {exc.backend} state (field {field}): {exc.message}"
    run.world.store.record_rejected([Rejection(row, 0, format_time(run.world.clock()), digest, message, token)])
    source = run.options.desired.rows.get(row)
    run.report.rejected.append(RejectedRow(row, 0, *_UNRECORDED, message, source, new=True))
    if row in run.by_row:  # a row of this run's plan: done with
        run.rows_done += 1
    run.progress(run.event("rejected", row.semester, 0, f"1 row set aside: {_UNRECORDED[0]}"))


def shared_stop(
    run: RunContext,
    semester: str,
    rows: Sequence[RowKey],
    exc: SharedRefusal,
    *,
    rejected: int,
    pending: int,
    requests: int,
) -> SharedStop:
    """Say what to change after a batch was refused alike. Nothing is recorded here: the units refused on
    their own (`rejected` rows) were quarantined by the caller, and the `pending` rows are neither applied
    nor rejected, so the next apply sends them again (and isolates them if they are refused)."""
    options = run.options
    percentage_format = options.settings.target.percentage_format
    metrics = {m.id: m for m in options.desired.catalog.metrics.values()}
    sent = sent_fields((metrics[r.metric], run.by_row.get(r, {}).keys()) for r in rows if r.metric in metrics)
    not_started = [p.message for p in _projects_not_started(run, semester)] if exc.code == 1580306 else []
    cause = likely_cause(exc.code, sent, percentage_format=percentage_format, not_started=not_started)
    run.rows_done += pending
    return SharedStop(semester, exc.code, describe(exc.code).meaning, cause, rejected, pending, requests)


def _projects_not_started(run: RunContext, semester: str) -> list[ProjectProblem]:
    """The semester's projects that are not started (one activity/query request), or none when Feishu
    cannot say: the diagnosis then keeps its general advice."""
    try:
        activities = run.world.client.query_activities(semester_ids=[semester])
    except FeishuError:
        return []
    return activity_problems(activities, semester_id=semester)


def _digest(run: RunContext, row: RowKey) -> str:
    return sent_digest(run.by_row.get(row, {}), percentage_format=run.options.settings.target.percentage_format)
