"""The `json` output format: the plan document (syncer.report.plan_json, schemas/plan.schema.json) with
its drift under `"drift"` after --refresh, and the problems document of `syncer validate`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syncer.report.renderer import MAX_COMMENT_CHARS, Output, Refreshed, Renderer, Subject

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.plan.model import Plan
    from syncer.problems import Problem


class JsonFormat(Renderer):
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
        if refreshed is None:
            from syncer.report.plan_json import plan_chunks

            yield from plan_chunks(plan, redact=redact)
            return
        from syncer.report.drift import drift_document
        from syncer.report.plan_json import plan_document

        doc = plan_document(plan, redact=redact)
        doc["drift"] = drift_document(refreshed.drift, redact=redact, detailed_exitcode=refreshed.detailed_exitcode)
        yield json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        from syncer.report.problems import render_json

        return render_json(problems, redact=redact)
