"""Safety thresholds (octoDNS's update/delete thresholds, per semester): a plan that updates or forgets more
than `safety.max_*_ratio` of the values a semester manages, once it manages at least `min_existing`, needs
`--force` or a raised threshold. Creates never count."""

from __future__ import annotations

from collections.abc import Iterable

from syncer.errors import RefusedError
from syncer.load.settings import Safety
from syncer.plan.model import Plan, SafetyBreach, SemesterSummary
from syncer.text import plural


def judge(summaries: Iterable[SemesterSummary], safety: Safety) -> tuple[list[SemesterSummary], list[SafetyBreach]]:
    """The summaries, each marked `guarded` when its semester manages enough values to be judged, and the
    thresholds the guarded ones pass (per semester: updates, then forgets). The input is left as it is."""
    judged: list[SemesterSummary] = []
    found: list[SafetyBreach] = []
    for s in summaries:
        s = s._replace(guarded=s.values_managed >= safety.min_existing and s.values_managed > 0)
        judged.append(s)
        if s.guarded:
            found += _passed(s, safety)
    return judged, found


def _passed(s: SemesterSummary, safety: Safety) -> list[SafetyBreach]:
    out = []
    if s.update_ratio > safety.max_update_ratio:
        out.append(
            SafetyBreach(
                s.semester, "update", s.values_to_update, s.values_managed, s.update_ratio, safety.max_update_ratio
            )
        )
    if s.forget_ratio > safety.max_forget_ratio:
        out.append(
            SafetyBreach(
                s.semester, "forget", s.values_to_forget, s.values_managed, s.forget_ratio, safety.max_forget_ratio
            )
        )
    return out


def how_to_proceed(plan: Plan) -> str:
    """What a user does about the thresholds this plan passes."""
    parts = []
    for b in plan.breaches:
        key = "max_update_ratio" if b.kind == "update" else "max_forget_ratio"
        parts.append(
            f"{plan.names.semester(b.semester)}: {b.kind}s {b.values} of {b.values_managed} managed "
            f"values ({b.ratio:.1%}), over safety.{key} {b.limit:g}"
        )
    return (
        "; ".join(parts) + ". To proceed, apply with --force, or raise the threshold in syncer.yaml "
        "(safety.max_update_ratio / safety.max_forget_ratio) in the same pull request"
    )


def check_safety(plan: Plan, *, force: bool) -> None:
    """Refuse (RefusedError) a plan that a deny rule found a change in (--force or not: a rule is changed
    in the reviewed files, never overridden by a flag), or that passes a safety threshold, unless forced."""
    if plan.denied:
        raise RefusedError("the plan breaks a rule: " + how_to_comply(plan))
    if plan.breaches and not force:
        raise RefusedError("the plan passes a safety threshold: " + how_to_proceed(plan))


def how_to_comply(plan: Plan) -> str:
    """What a user does about the deny findings of a plan (the rules are named; the values' places listed)."""
    denied = [f for f in plan.findings if f.denies]
    names = sorted({f.rule for f in denied})
    first = denied[0].problem.location if denied else ""
    return (
        f"{plural(len(denied), 'value')} denied by {', '.join(names)} "
        f"(first at {first}). Change the values, or change the rule in the same pull request; --force does not "
        "override a rule"
    )
