"""The `github` output format, for GitHub Actions: annotations (workflow commands) for what needs a
look, then plain text (syncer.report.plan_github, syncer.report.problems, syncer.report.drift)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.perf import paused_gc
from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class GithubFormat(Renderer):
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
        from syncer.report.plan_github import render_github

        with paused_gc():
            shown = render_github(plan, redact=redact)
        yield shown
        if refreshed is not None:
            from syncer.report.drift import render_github as drift_github

            yield drift_github(refreshed.drift, refreshed.names, redact=redact)

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.problems import render_github

        return render_github(problems, redact=redact)
