"""The `markdown` output format, for pull-request comments and step summaries: the plan
(syncer.report.plan_markdown) with its drift section, or the comment saying the YAML is invalid. It does
not list problems for `syncer validate`, which offers no markdown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.perf import paused_gc
from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject, refuse

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class MarkdownFormat(Renderer):
    renders: frozenset[Subject] = frozenset({"plan", "drift"})

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
        from syncer.report.plan_markdown import render_markdown

        with paused_gc():
            shown = render_markdown(plan, redact=redact, max_chars=max_chars)
        yield shown
        if refreshed is not None:
            from syncer.report.drift import render_markdown as drift_markdown

            yield drift_markdown(refreshed.drift, refreshed.names, redact=redact)

    def no_plan(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.plan_markdown import render_markdown_problems

        return render_markdown_problems(problems, redact=redact)

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        raise refuse("markdown", "problems")
