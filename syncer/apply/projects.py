"""Projects (项目, Feishu's `activity`) and whether they have started, as pure functions: a reviewee whose
projects have not started is refused by the import with 1580306 ("not in the evaluation, or its project has
not started"), so the pre-flight and the diagnosis of a 1580306 name the project instead.

Which progress values mean "not started" is syncer's reading of activity/query's values (docs/feishu-api.md,
"Projects"): `initiating` and `configurable` are set up but not running, `unable` is stopped; `enabled` runs
and `finished` has run. Any other value is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syncer.feishu.setup_records import Activity

NOT_STARTED = frozenset({"initiating", "configurable", "unable"})


@dataclass(frozen=True, slots=True)
class ProjectProblem:
    """A project of the semester that is not started, and what to say about it."""

    activity_id: str
    name: str
    progress: str

    @property
    def message(self) -> str:
        return (
            f"the project {self.name!r} ({self.activity_id!r}) is not started (Feishu: {self.progress}): a "
            "Performance admin starts it in Feishu, then apply again"
        )


def _name(a: Activity) -> str:
    names = [a.name[k] for k in ("en_us", "zh_cn") if a.name.get(k)] + [v for v in a.name.values() if v]
    return names[0] if names else a.id  # shown with repr(), which escapes what is not printable


def activity_problems(activities: Iterable[Activity], *, semester_id: str) -> list[ProjectProblem]:
    """The projects of `semester_id` (as activity/query answers them) that are not started, in order."""
    return [
        ProjectProblem(a.id, _name(a), a.progress or "")
        for a in activities
        if a.semester_id in (None, semester_id) and a.progress in NOT_STARTED
    ]


def blocking_project(activity_ids: Sequence[str], problems: Iterable[ProjectProblem]) -> ProjectProblem | None:
    """The project that keeps a reviewee out of the import: when every one of their projects
    (`activity_ids`, from reviewees/query) is not started, the first of them; else None."""
    by_id = {p.activity_id: p for p in problems}
    if not activity_ids or any(a not in by_id for a in activity_ids):
        return None
    return by_id[activity_ids[0]]
