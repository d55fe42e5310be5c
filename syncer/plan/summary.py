"""The plan's one-line summary, with its units."""

from __future__ import annotations

from syncer.plan.model import Plan
from syncer.text import plural


def summary_line(plan: Plan) -> str:
    """One line saying what the plan does, with its units."""
    c = plan.counts
    held = f"; {plural(c.rows_quarantined, 'rejected row')} held back" if c.rows_quarantined else ""
    if plan.empty:
        return f"No changes: Feishu is up to date with the YAML ({plural(c.values_managed, 'value')} managed){held}."
    parts = [
        f"{c.values_to_create} to create",
        f"{c.values_to_update} to update",
        f"{c.values_to_forget} to forget",
    ]
    return (
        f"Plan: {plural(c.values_changed, 'value')} changed ({', '.join(parts)}); "
        f"{plural(c.rows_to_send, 'row')} to send in at least {plural(c.requests_min, 'import request')}{held}."
    )
