"""The `html` output format: the plan as a self-contained page (syncer.html.plan_page), with its drift
section after --refresh, in the readers' language (docs/i18n.md). `syncer plan` writes it to --out FILE,
never to the terminal. When the YAML is invalid there is no page: the problems are listed as text, as
`syncer validate` lists them. It does not list problems for `syncer validate`, which offers no HTML."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject, refuse

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class HtmlFormat(Renderer):
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
        from syncer.html.plan_page import render_plan_html

        if refreshed is None:
            yield render_plan_html(plan, redact=redact, language=language)
        else:
            drift, names = refreshed.drift, refreshed.names
            yield render_plan_html(plan, redact=redact, drift=drift, drift_names=names, language=language)

    def no_plan(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.problems import render_text

        return render_text(problems, redact=redact) + "\n"

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        raise refuse("html", "problems")
