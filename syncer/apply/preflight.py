"""Pre-flight: before spending import quota, ask reviewees/query which of the plan's reviewees each semester
holds, and quarantine (code 1580306) the rows of those it does not. One read request per 50 reviewees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syncer.feishu.client import QUERY_CHUNK, ReadClient
from syncer.load.settings import Settings
from syncer.model import DesiredState, RowKey
from syncer.plan.model import Plan
from syncer.plan.sent import desired_fields, sent_digest
from syncer.state.model import Rejection, format_time
from syncer.state.protocols import ApplyLog

#: The user ID types the read APIs (metric_details/query, reviewees/query) answer with.
READABLE_ID_TYPES = ("open_id", "user_id")
PREFLIGHT_MESSAGE = (
    "pre-flight: reviewees/query does not list this reviewee in the semester (left, never "
    "enrolled, or outside the app's data scope)"
)


def preflight_reviewees(
    plan: Plan,
    *,
    client: ReadClient,
    store: ApplyLog,
    settings: Settings,
    desired: DesiredState,
    clock: Callable[[], datetime],
) -> list[RowKey]:
    """Before spending import quota: ask reviewees/query which of the plan's reviewees each semester holds,
    and quarantine (code 1580306) the rows of those it does not."""
    moved: list[RowKey] = []
    per_semester = plan.rows_by_semester()
    at = format_time(clock())
    for semester, rows in per_semester.items():
        reviewees = sorted({r.reviewee for r in rows})
        found: set[str] = set()
        uid = settings.target.user_id_type
        for start in range(0, len(reviewees), QUERY_CHUNK):
            chunk = reviewees[start : start + QUERY_CHUNK]
            for rv in client.query_reviewees(semester_id=semester, user_ids=chunk, user_id_type=uid):
                got = rv.user.get(uid)
                if got:
                    found.add(got)
        missing = [r for r in rows if r.reviewee not in found]
        if missing:
            values = desired_fields(desired.values, missing)
            pf = settings.target.percentage_format
            store.record_rejected(
                [
                    Rejection(r, 1580306, at, sent_digest(values.get(r, {}), percentage_format=pf), PREFLIGHT_MESSAGE)
                    for r in missing
                ]
            )
            moved += missing
    return moved
