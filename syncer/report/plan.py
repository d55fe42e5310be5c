"""A plan in one piece, in a named format (syncer.report.formats), for callers that want a value:
`syncer apply` before it asks, the demo, tests. `syncer plan` writes a renderer's pieces as they come.
"""

from __future__ import annotations

from typing import Literal, overload

from syncer.plan.model import Plan
from syncer.report.annotations import Annotated
from syncer.report.formats import FormatName, renderer_for
from syncer.report.renderer import MAX_COMMENT_CHARS


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
    plan: Plan, fmt: FormatName, *, redact: bool, color: bool = ..., max_chars: int = ...
) -> str | Annotated: ...
def render_plan(
    plan: Plan, fmt: FormatName, *, redact: bool, color: bool = False, max_chars: int = MAX_COMMENT_CHARS
) -> str | Annotated:
    """The pieces joined: the annotations of every piece first, then their text."""
    commands: list[str] = []
    texts: list[str] = []
    annotated = False
    for piece in renderer_for(fmt, "plan").plan(plan, redact=redact, color=color, max_chars=max_chars):
        if isinstance(piece, Annotated):
            annotated = True
            commands.extend(piece.commands)
            texts.append(piece.text)
        else:
            texts.append(piece)
    text = "".join(texts)
    return Annotated(tuple(commands), text) if annotated else text
