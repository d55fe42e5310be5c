"""`syncer report --html`: the state as a dashboard. Per team (a data file: syncer.html.parts) and metric,
the completion of actuals against targets as the YAML holds them; the reviewees whose weights do not sum to
100%; the rows held back (rejected, values unchanged) and set aside (landed, not recorded); the last applies
and who made them (the author of each batch's commit); the drift after --refresh. Aggregates first;
details folded and capped at MAX_DETAIL_ROWS with a note of what was cut.

Completion is actual / target of every row whose `target` and `actual` fields (by alias) both hold numbers,
the target not zero. A team's completion is the mean over its rows; a row is "met" when actual >= target.
When redacting, no value, ratio or sum shows: the tables and charts give counts only."""

from __future__ import annotations

import gettext
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncer.html import charts
from syncer.html.parts import MAX_TEAMS, NO_TEAM, Budget, number, team_of
from syncer.html.plan_page import drift_context
from syncer.html.render import render_page
from syncer.i18n import Language, translations
from syncer.model import DesiredState, RowKey
from syncer.plan.model import Names, Plan
from syncer.problems import REDACTED
from syncer.state.model import State

if TYPE_CHECKING:
    from syncer.live.drift import Drift

#: Batches the "last applies" table lists (the newest).
LAST_APPLIES = 20
HUNDRED = Decimal(100)


@dataclass
class _Tally:
    rows: int = 0  # rows with a numeric target and actual
    met: int = 0
    ratios: list[float] = field(default_factory=list)

    def add(self, target: Decimal, actual: Decimal) -> None:
        self.rows += 1
        self.met += actual >= target
        self.ratios.append(float(actual / target) * 100)

    def mean(self) -> float:
        return sum(self.ratios) / len(self.ratios) if self.ratios else 0.0


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the page is made of, besides the plan: the YAML, the state, the drift, commit authors."""

    desired: DesiredState
    state: State | None
    plan: Plan
    names: Names
    drift: Drift | None = None
    authors: dict[str, str] = field(default_factory=dict)  # commit -> author's name


def render_state_html(board: Dashboard, *, redact: bool, language: Language = "en") -> str:
    """The whole page, its words (those of its chart too) in `language`."""
    context = state_context(board, redact=redact, t=translations(language))
    return render_page("state.html", context, language=language)


def _fields(desired: DesiredState) -> dict[str, dict[str, str]]:
    """Per metric id: field id -> role on this page ("target", "actual", "weight")."""
    out: dict[str, dict[str, str]] = {}
    for m in desired.catalog.metrics.values():
        roles = {f.id: "weight" for f in m.fields.values() if f.role == "weight"}
        roles.update({f.id: alias for alias, f in m.fields.items() if alias in ("target", "actual")})
        out[m.id] = roles
    return out


def state_context(board: Dashboard, *, redact: bool, t: gettext.NullTranslations) -> dict[str, Any]:
    n, desired, plan = board.names, board.desired, board.plan
    root = plan.root
    roles = _fields(desired)
    row_values: dict[RowKey, dict[str, Decimal]] = defaultdict(dict)
    weights: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    teams_of_reviewee: dict[tuple[str, str], str] = {}
    for key, v in desired.open_values().items():
        role = roles.get(key.metric, {}).get(key.field)
        if role is None:
            continue
        d = number(v.value)
        if d is None:
            continue
        if role == "weight":
            weights[(key.semester, key.reviewee)] += d
            teams_of_reviewee[(key.semester, key.reviewee)] = team_of(v.file, root)
        else:
            row_values[key.row][role] = d
    per_team: dict[str, _Tally] = defaultdict(_Tally)
    per_pair: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for row, vals in row_values.items():
        target, actual = vals.get("target"), vals.get("actual")
        if target is None or actual is None or target == 0:
            continue
        src = desired.rows.get(row)
        team = team_of(src.file if src else None, root)
        per_team[team].add(target, actual)
        per_pair[(team, n.metric(row.metric))].add(target, actual)
    teams = sorted(per_team)
    budget = Budget()
    return {
        "title": t.gettext("syncer state report"),
        "version": plan.syncer_version,
        "redact": redact,
        "root": root,
        "git": plan.git.describe(),
        "state": _state_facts(board),
        "totals": {
            "values_managed": board.state.value_count if board.state else 0,
            "values_desired": plan.counts.values_desired,
            "values_changed": plan.counts.values_changed,
            "rows_quarantined": plan.counts.rows_quarantined,
            "rows_set_aside": _set_aside(board.state),
            "weights_off": sum(1 for s in weights.values() if s != HUNDRED),
        },
        "teams": [_tally_row(team, per_team[team], redact=redact) for team in teams],
        "pairs": [_tally_row(f"{k[0]} · {k[1]}", per_pair[k], redact=redact) for k in sorted(per_pair)],
        "completion_chart": _completion_chart(teams, per_team, redact=redact, t=t),
        "teams_cut": max(len(teams) - MAX_TEAMS, 0),
        "weights": budget.take(
            [
                {
                    "semester": n.semester(sem),
                    "reviewee": n.person(rev),
                    "team": teams_of_reviewee.get((sem, rev), NO_TEAM),
                    "sum": REDACTED if redact else f"{s.normalize():f}%",
                }
                for (sem, rev), s in sorted(weights.items(), key=lambda kv: (n.person(kv[0][1]), kv[0]))
                if s != HUNDRED
            ]
        ),
        "held_back": budget.take(_held_back(board)),
        "applies": _applies(board),
        "drift": drift_context(board.drift, n, redact=redact, budget=budget) if board.drift is not None else None,
    }


def _tally_row(label: str, tally: _Tally, *, redact: bool) -> dict[str, Any]:
    return {
        "label": label,
        "rows": tally.rows,
        "met": tally.met,
        "below": tally.rows - tally.met,
        "mean": REDACTED if redact else f"{tally.mean():.1f}%",
    }


def _completion_chart(
    teams: list[str], per_team: dict[str, _Tally], *, redact: bool, t: gettext.NullTranslations
) -> str | None:
    shown = sorted(teams, key=lambda team: -per_team[team].rows)[:MAX_TEAMS]
    if not shown:
        return None
    if redact:  # counts only
        return charts.stacked_counts(
            t.gettext("Rows at or above target, per team"),
            shown,
            {
                t.gettext("met"): [per_team[x].met for x in shown],
                t.gettext("below"): [per_team[x].rows - per_team[x].met for x in shown],
            },
        )
    return charts.percentages(
        t.gettext("Completion per team (mean of actual / target)"), shown, [per_team[x].mean() for x in shown]
    )


def _set_aside(state: State | None) -> int:
    return sum(1 for r in state.rejections.values() if r.unrecorded) if state is not None else 0


def _held_back(board: Dashboard) -> list[dict[str, str]]:
    n = board.names
    rows = [
        {
            "why": "held back",
            "semester": n.semester(q.row.semester),
            "reviewee": n.person(q.row.reviewee),
            "metric": n.metric(q.row.metric),
            "code": str(q.code),
            "date": q.date,
            "source": str(q.source) if q.source else "",
        }
        for q in board.plan.quarantined
    ]
    if board.state is not None:
        for r in board.state.rejections.values():
            if r.unrecorded:
                src = board.desired.rows.get(r.row)
                rows.append(
                    {
                        "why": "set aside",
                        "semester": n.semester(r.row.semester),
                        "reviewee": n.person(r.row.reviewee),
                        "metric": n.metric(r.row.metric),
                        "code": str(r.code),
                        "date": r.date,
                        "source": str(src) if src else "",
                    }
                )
    return rows


def _applies(board: Dashboard) -> list[dict[str, Any]]:
    if board.state is None:
        return []
    newest = sorted(board.state.batches.values(), key=lambda b: (b.time, b.id), reverse=True)[:LAST_APPLIES]
    return [
        {
            "time": b.time.replace("T", " ")[:19],
            "semester": board.names.semester(b.semester),
            "rows": b.rows,
            "commit": b.commit[:12],
            "author": board.authors.get(b.commit, ""),
            "record": b.import_record_name,
            "batch": b.id,
        }
        for b in newest
    ]


def _state_facts(board: Dashboard) -> dict[str, Any]:
    s = board.state
    return {
        "location": board.plan.state.location,
        "serial": s.meta.serial if s else 0,
        "batches": len(s.batches) if s else 0,
    }
