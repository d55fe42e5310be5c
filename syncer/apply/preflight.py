"""Pre-flight: before spending import quota, ask reviewees/query which of the plan's reviewees each semester
holds, and quarantine (code 1580306) the rows of those it does not. One read request per 50 reviewees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syncer.feishu.client import ReadClient
from syncer.load.settings import Settings
from syncer.model import DesiredState, RowKey
from syncer.plan.model import Plan
from syncer.plan.sent import desired_fields, sent_digest
from syncer.state.model import Rejection, format_time
from syncer.state.protocols import ApplyLog

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
        uid = settings.target.user_id_type
        answered = client.query_reviewees(semester_id=semester, user_ids=reviewees, user_id_type=uid)
        found = {rv.user.get(uid) for rv in answered}
        if None in found:  # an answer without the reviewee's ID of the type cannot say who is missing
            continue
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
