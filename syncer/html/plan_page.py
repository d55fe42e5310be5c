"""`syncer plan --format html`: the plan as a page. Aggregates first (the counts, per semester, the safety
thresholds passed and the company rules' findings, per team and metric, as a chart too), then how far targets
and actuals move (a chart of the largest moves; counts only when redacting), the rows held back, the drift
after --refresh, and last the changes themselves, folded per team; the changes, then the drifted values, then
the rows held back, capped at MAX_DETAIL_ROWS together with a note of what was cut (the findings have a cap of
their own)."""

from __future__ import annotations

import gettext
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from syncer.html import charts
from syncer.html.parts import MAX_TEAMS, Budget, number, shown, team_of
from syncer.html.render import render_page
from syncer.i18n import Language, translations
from syncer.plan.model import Change, Names, Plan

if TYPE_CHECKING:
    from syncer.live.drift import Drift, DriftEntry

ACTIONS = ("create", "update", "repair", "forget")
#: The fields whose moves the before -> after chart shows (by alias, as the example catalog names them).
MOVED_FIELDS = ("target", "actual")


def render_plan_html(
    plan: Plan,
    *,
    redact: bool,
    drift: Drift | None = None,
    drift_names: Names | None = None,
    language: Language = "en",
) -> str:
    """The whole page (about 0.5 MB at a million values: the details are capped). `drift_names`: display
        names of every ID of the catalog, for drifted rows the plan does not name (default: the plan's). Its words
    are in `language`, the words of its charts too."""
    t = translations(language)
    context = plan_context(plan, redact=redact, drift=drift, drift_names=drift_names or plan.names, t=t)
    return render_page("plan.html", context, language=language)


def plan_context(
    plan: Plan, *, redact: bool, drift: Drift | None, drift_names: Names, t: gettext.NullTranslations
) -> dict[str, Any]:
    n = plan.names
    budget = Budget()
    by_team: dict[str, list[Change]] = defaultdict(list)
    per_team_metric: Counter[tuple[str, str, str]] = Counter()
    for c in plan.changes:
        team = team_of(c.source.file if c.source else None, plan.root)
        by_team[team].append(c)
        per_team_metric[(team, n.metric(c.key.metric), c.action)] += 1
    pairs = sorted({(team, metric) for team, metric, _a in per_team_metric})
    pairs.sort(key=lambda p: -sum(per_team_metric[(p[0], p[1], a)] for a in ACTIONS))
    shown_pairs = pairs[:MAX_TEAMS]
    chart = None
    if shown_pairs:
        chart = charts.stacked_counts(
            t.gettext("Changes per team and metric"),
            [f"{team} · {metric}" for team, metric in shown_pairs],
            {word: [per_team_metric[(team, metric, a)] for team, metric in shown_pairs] for a, word in _actions(t)},
        )
    details = []
    for team in sorted(by_team):
        rows = [_change_row(plan, c, redact=redact) for c in by_team[team]]
        capped = budget.take(rows)
        details.append({"team": team, "count": len(rows), "rows": capped.rows, "cut": capped.cut})
    drifted = drift_context(drift, drift_names, redact=redact, budget=budget) if drift is not None else None
    held_back = budget.take(  # after the changes and the drift, within the same cap
        [
            {
                "semester": n.semester(q.row.semester),
                "reviewee": n.person(q.row.reviewee),
                "metric": n.metric(q.row.metric),
                "code": str(q.code),
                "date": q.date,
                "count": str(q.values),
                "source": str(q.source) if q.source else "",
            }
            for q in plan.quarantined
        ]
    )
    return {
        "title": t.gettext("syncer plan"),
        "plan": plan,
        "counts": plan.counts._asdict(),
        "semesters": [{**s._asdict(), "name": n.semester(s.semester)} for s in plan.semesters],
        "changes_chart": chart,
        "pairs_cut": len(pairs) - len(shown_pairs),
        "moves": _moves(plan, redact=redact, t=t),
        "held_back": held_back,
        "findings": Budget().take(  # a cap of their own: a warn over a million values lists a bounded number
            [
                {
                    "place": f.problem.location,
                    "rule": f.rule,
                    "severity": "deny" if f.denies else "warn",
                    "message": f.problem.text(redact=redact),
                }
                for f in plan.findings
            ]
        ),
        "breaches": [
            {
                "semester": n.semester(b.semester),
                "kind": b.kind,
                "count": b.values,
                "managed": b.values_managed,
                "ratio": b.ratio,
                "limit": b.limit,
            }
            for b in plan.breaches
        ],
        "details": details,
        "drift": drifted,
        "redact": redact,
        "git": plan.git.describe(),
    }


def _actions(t: gettext.NullTranslations) -> list[tuple[str, str]]:
    """Each action and its word (written out, so that a catalogue's extraction finds every one)."""
    words = {
        "create": t.gettext("create"),
        "update": t.gettext("update"),
        "repair": t.gettext("repair"),
        "forget": t.gettext("forget"),
    }
    return [(a, words[a]) for a in ACTIONS]


def _change_row(plan: Plan, c: Change, *, redact: bool) -> dict[str, str]:
    n = plan.names
    unit = n.unit(c.key.metric, c.key.field)
    return {
        "action": c.action,
        "semester": n.semester(c.key.semester),
        "reviewee": n.person(c.key.reviewee),
        "metric": n.metric(c.key.metric),
        "field": n.field(c.key.metric, c.key.field),
        "old": shown(c.old, n, redact=redact, unit=unit),
        "new": shown(c.new, n, redact=redact, unit=unit),
        "source": str(c.source) if c.source else "",
    }


def _moves(plan: Plan, *, redact: bool, t: gettext.NullTranslations) -> dict[str, Any]:
    """Targets and actuals updated: how many went up and down, and (unless redacting) a chart of the
    largest relative moves, before -> after."""
    n = plan.names
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    moved: list[tuple[float, str, float, float]] = []
    for c in plan.changes:
        fname = n.field(c.key.metric, c.key.field)
        if c.action not in ("update", "repair") or fname not in MOVED_FIELDS:
            continue
        old, new = number(c.old), number(c.new)
        if old is None or new is None or old == new:
            continue
        (up if new > old else down)[fname] += 1
        if not redact:
            rel = abs(float(new - old)) / max(abs(float(old)), 1e-9)
            label = f"{n.person(c.key.reviewee)} · {n.metric(c.key.metric)}.{fname}"
            moved.append((rel, label, float(old), float(new)))
    moved.sort(key=lambda m: -m[0])
    top = moved[: charts.MAX_BARS]
    chart = None
    if top:
        chart = charts.before_after(
            t.gettext("Largest moves of targets and actuals, before -> after"),
            [m[1] for m in top],
            [m[2] for m in top],
            [m[3] for m in top],
            series=(t.gettext("before"), t.gettext("after")),
        )
    return {
        "fields": [{"field": f, "up": up[f], "down": down[f]} for f in MOVED_FIELDS if up[f] or down[f]],
        "chart": chart,
        "cut": len(moved) - len(top),
    }


def drift_context(drift: Drift, names: Names, *, redact: bool, budget: Budget) -> dict[str, Any]:
    """The drift after --refresh: counts per kind, then the entries (capped)."""
    kinds = Counter(e.kind for e in drift.entries)
    rows = [_drift_row(e, names, names.unit(e.key.metric, e.key.field), redact=redact) for e in drift.entries]
    capped = budget.take(rows)
    return {
        "counts": {k: kinds[k] for k in ("changed", "cleared", "unmanaged", "admin")},
        "absent": len(drift.absent),
        "checked": drift.reviewees_checked,
        "in_scope": drift.reviewees_in_scope,
        "rows": capped.rows,
        "cut": capped.cut,
    }


def _drift_row(e: DriftEntry, names: Names, unit: str, *, redact: bool) -> dict[str, str]:
    return {
        "kind": e.kind,
        "semester": names.semester(e.key.semester),
        "reviewee": names.person(e.key.reviewee),
        "metric": names.metric(e.key.metric),
        "field": names.field(e.key.metric, e.key.field),
        "applied": shown(e.applied, names, redact=redact, unit=unit),
        "live": shown(e.live, names, redact=redact, unit=unit),
        "desired": shown(e.desired, names, redact=redact, unit=unit),
        "source": str(e.source) if e.source else "",
    }
