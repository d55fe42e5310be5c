"""What the text and markdown renderers of a plan share: the changes grouped for people, the note on where
a change without a source was last applied, the symbol of each action and the hint on rejected rows."""

from __future__ import annotations

import itertools

from syncer.plan.model import Change, Plan

RETRY_HINT = (
    "They are sent again by themselves once what would be sent changes (their values, their fields' types, "
    "or target.percentage_format), or now with `syncer apply --retry-rejected`."
)
SYMBOL = {"create": "+", "update": "~", "repair": "!", "forget": "-"}


def groups(plan: Plan) -> list[tuple[tuple[str, str], list[Change]]]:
    """Changes by (semester, reviewee), for people: semesters and reviewees in the order of their names
    (the plan's own order is by ID, which no rename can change)."""
    grouped = [
        (key, list(changes))
        for key, changes in itertools.groupby(plan.changes, key=lambda c: (c.key.semester, c.key.reviewee))
    ]
    n = plan.names
    grouped.sort(key=lambda g: (n.semester(g[0][0]), g[0][0], n.person(g[0][1]), g[0][1]))
    return grouped


def batch_note(plan: Plan, batch: int | None) -> str:
    b = plan.batches.get(batch) if batch is not None else None
    if b is None:
        return f"last applied in batch {batch}" if batch is not None else ""
    return f"last applied in batch {b.id} on {b.time[:10]} at {b.commit[:7]}"
