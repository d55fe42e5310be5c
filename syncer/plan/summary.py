"""The plan's one-line summary, with its units. It says Feishu holds what the YAML says only when the plan
read Feishu (`--refresh`); otherwise it speaks of the state: what syncer last applied."""

from __future__ import annotations

from syncer.plan.model import Plan
from syncer.text import plural


def summary_line(plan: Plan) -> str:
    """One line saying what the plan does, with its units."""
    c = plan.counts
    held = f"; {plural(c.rows_quarantined, 'rejected row')} held back" if c.rows_quarantined else ""
    if plan.targeting is not None:
        held += f"; targeted, {plural(plan.targeting.values_left_out, 'value')} of the YAML left out"
    read = plan.refreshed
    if plan.empty:
        managed = plural(c.values_managed, "value")
        if read is None:
            return (
                f"No changes: nothing to change since the last apply ({managed} managed; Feishu was not read, "
                f"`--refresh` compares with it){held}."
            )
        scope = "" if read.complete else " (not every reviewee in scope: raise --refresh-budget)"
        if read.reviewees_checked == 0:  # --refresh of a plan with nothing to send reads nobody
            return (
                f"No changes: nothing to change since the last apply ({managed} managed; no reviewee needed "
                f"reading: `--refresh-all` compares every managed value with Feishu){held}."
            )
        return (
            f"No changes: Feishu holds what the YAML says for the {plural(read.reviewees_checked, 'reviewee')} "
            f"read{scope} ({managed} managed){held}."
        )
    parts = [f"{c.values_to_create} to create", f"{c.values_to_update} to update"]
    if read is not None or c.values_to_repair:
        parts.append(f"{c.values_to_repair} to repair")
    parts.append(f"{c.values_to_forget} to forget")
    return (
        f"Plan: {plural(c.values_changed, 'value')} changed ({', '.join(parts)}); "
        f"{plural(c.rows_to_send, 'row')} to send in at least {plural(c.requests_min, 'import request')}{held}."
    )


def targeting_line(plan: Plan) -> str | None:
    """What a targeted plan covers and what it left out, in one line (None for a plan of everything)."""
    t = plan.targeting
    if t is None:
        return None
    from syncer.plan.targeting import flags

    shown = flags(t.targeting, plan.names.semesters)
    forgets = (
        f" ({t.forgets_left_out} of them gone from the YAML: not forgotten until a plan targets them)"
        if t.forgets_left_out
        else ""
    )
    return (
        f"Targeted plan ({shown}): left out {plural(t.semesters_left_out, 'semester')}, "
        f"{plural(t.files_left_out, 'data file')} and {plural(t.values_left_out, 'value')} of the YAML; "
        f"{plural(t.values_managed_left_out, 'managed value')} left as they are in the state{forgets}. "
        "Validation covered the whole root."
    )
