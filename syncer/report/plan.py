"""A plan in a named format: plain data in (syncer.plan.model.Plan), text out.

- `text` (syncer.report.plan_text): for terminals, grouped by semester and reviewee, ANSI colour when asked.
- `markdown` (syncer.report.plan_markdown): for pull-request comments.
- `json` (syncer.report.plan_json): the plan document itself (schemas/plan.schema.json).
- `github` (syncer.report.plan_github): annotations for what blocks an apply, then the text summary.
"""

from __future__ import annotations

from typing import Literal, overload

from syncer.perf import paused_gc
from syncer.plan.model import Plan
from syncer.report.annotations import Annotated
from syncer.report.plan_github import render_github
from syncer.report.plan_json import plan_json
from syncer.report.plan_markdown import MAX_COMMENT_CHARS, render_markdown
from syncer.report.plan_text import render_text

PlanFormat = Literal["text", "markdown", "json", "github"]


@overload
def render_plan(
    plan: Plan, fmt: Literal["text", "markdown", "json"], *, redact: bool, color: bool = ..., max_chars: int = ...
) -> str: ...
@overload
def render_plan(
    plan: Plan, fmt: Literal["github"], *, redact: bool, color: bool = ..., max_chars: int = ...
) -> Annotated: ...
@overload
def render_plan(
    plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool = ..., max_chars: int = ...
) -> str | Annotated: ...
def render_plan(
    plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool = False, max_chars: int = MAX_COMMENT_CHARS
) -> str | Annotated:
    with paused_gc():
        return _render(plan, fmt, redact=redact, color=color, max_chars=max_chars)


def _render(plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool, max_chars: int) -> str | Annotated:
    if fmt == "json":
        return plan_json(plan, redact=redact)
    if fmt == "markdown":
        return render_markdown(plan, redact=redact, max_chars=max_chars)
    if fmt == "github":
        return render_github(plan, redact=redact)
    return render_text(plan, redact=redact, color=color)
