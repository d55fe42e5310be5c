"""The `gitlab` output format: GitLab's Code Quality report (syncer.report.codequality), for
`artifacts:reports:codequality`. It lists problems, and for a plan what blocks or holds back its apply;
it has no drift section (drift is no issue of the merge request's code)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject, refuse

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class GitlabFormat(Renderer):
    renders: frozenset[Subject] = frozenset({"plan", "problems"})

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
        if refreshed is not None:
            raise refuse("gitlab", "drift")
        from syncer.report.codequality import plan_issues, render

        yield render(plan_issues(plan))

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.codequality import problem_issues, render

        return render(problem_issues(problems, redact=redact)).removesuffix("\n")
