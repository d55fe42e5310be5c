"""Pre-flight: before spending import quota, ask reviewees/query which of the plan's reviewees each semester
holds, and activity/query whether their projects have started, and hold back for this run the rows of those
the semester does not hold or whose projects are not started. Held back, not rejected: Feishu refused none of
them, so nothing is recorded; they stay changes, and the next apply asks again (and sends them once Feishu's
answers change). One read request per 50 reviewees, and one per semester whose reviewees belong to projects."""

from __future__ import annotations

from typing import NamedTuple

from syncer.apply.projects import ProjectProblem, activity_problems, blocking_project
from syncer.errors import FeishuError
from syncer.feishu.client import ReadClient
from syncer.load.settings import Settings
from syncer.model import RowKey
from syncer.plan.model import Plan

PREFLIGHT_MESSAGE = (
    "pre-flight: reviewees/query does not list this reviewee in the semester (left, never "
    "enrolled, or outside the app's data scope)"
)


class Moved(NamedTuple):
    """Why the pre-flight held a row back: the message recorded with it, and what to do about it (None:
    the general advice of 1580306)."""

    message: str
    remedy: str | None = None


def _not_started(client: ReadClient, semester: str) -> list[ProjectProblem]:
    """The semester's projects that are not started; none when activity/query fails (the app may lack its
    scope, performance:semester_activity:read): the import then answers 1580306 for those reviewees, and
    the diagnosis says what it can."""
    try:
        return activity_problems(client.query_activities(semester_ids=[semester]), semester_id=semester)
    except FeishuError:
        return []


def preflight_reviewees(plan: Plan, *, client: ReadClient, settings: Settings) -> dict[RowKey, Moved]:
    """Before spending import quota: ask reviewees/query which of the plan's reviewees each semester holds
    and activity/query whether their projects have started. The rows to hold back in this run (those the
    semester does not hold, or whose every project is not started), each with its reason; nothing recorded."""
    moved: dict[RowKey, Moved] = {}
    for semester, rows in plan.rows_by_semester().items():
        reviewees = sorted({r.reviewee for r in rows})
        uid = settings.target.user_id_type
        answered = client.query_reviewees(semester_id=semester, user_ids=reviewees, user_id_type=uid)
        found: dict[str, tuple[str, ...]] = {}  # reviewee -> their projects
        blind = False
        for rv in answered:
            got = rv.user.get(uid)
            if got is None:
                blind = True
            else:
                found[got] = rv.activity_ids
        # an answer without the reviewee's ID of the type cannot say who is missing
        why = {} if blind else {r: Moved(PREFLIGHT_MESSAGE) for r in rows if r.reviewee not in found}
        if any(found.values()):
            problems = _not_started(client, semester)
            for r in rows:
                blocked = blocking_project(found.get(r.reviewee, ()), problems)
                if blocked is not None:
                    why[r] = Moved(f"pre-flight: {blocked.message}", blocked.message)
        moved.update(why)
    return moved
