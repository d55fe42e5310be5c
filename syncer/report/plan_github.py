"""The `github` rendering of a plan: annotations for what blocks an apply (thresholds passed, rows held
back, targeting), then the text summary; the CLI adds the validation problems' annotations in front."""

from __future__ import annotations

from syncer.plan.model import Plan
from syncer.plan.safety import how_to_proceed
from syncer.plan.summary import targeting_line
from syncer.report.annotations import Annotated, Level, annotation
from syncer.report.plan_text import render_text


def render_github(plan: Plan, *, redact: bool) -> Annotated:
    """Annotations for what blocks an apply, then the text summary (no per-value details: those are in the
    PR comment and the JSON artifact)."""
    commands = []
    targeted = targeting_line(plan)
    if targeted is not None:
        commands.append(annotation("notice", targeted, title="syncer plan: targeted"))
    if plan.breaches:
        level: Level = "warning" if plan.forced else "error"
        commands.append(annotation(level, how_to_proceed(plan), title="syncer plan: safety threshold"))
    for f in plan.findings:
        p = f.problem
        level = "error" if f.denies else "warning"
        text = p.text(redact=redact)
        commands.append(annotation(level, text, title=f"syncer rule: {f.rule}", file=p.file, line=p.line, col=p.col))
    for q in plan.quarantined:
        src = q.source
        commands.append(
            annotation(
                "warning",
                f"rejected on {q.date} with {q.code}; not sent until its values change",
                title="rejected row held back",
                file=src.file if src else None,
                line=src.line if src else 0,
                col=src.col if src else 0,
            )
        )
    return Annotated(tuple(commands), render_text(plan, redact=redact, color=False, details=False))
