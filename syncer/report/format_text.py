"""The `text` output format: for terminals and logs (syncer.report.plan_text, syncer.report.problems,
syncer.report.drift), colour when asked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class TextFormat(Renderer):
    renders: frozenset[Subject] = frozenset({"plan", "problems", "drift"})

    def plan(
        self,
        plan: Plan,
        *,
        redact: bool,
        color: bool = False,
        max_chars: int = MAX_COMMENT_CHARS,
        refreshed: Refreshed | None = None,
        language: Language = "en",
    ) -> Iterator[Output]:
        from syncer.report.plan_text import text_chunks

        yield from text_chunks(plan, redact=redact, color=color)
        if refreshed is not None:
            from syncer.report.drift import render_text

            yield render_text(refreshed.drift, refreshed.names, redact=redact)

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.problems import render_text

        return render_text(problems, redact=redact)
