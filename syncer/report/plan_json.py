"""The plan as JSON data (schemas/plan.schema.json): what `syncer plan --format json` prints and
`--out FILE` writes, and what `apply --plan FILE` compares with the plan it would make."""

from __future__ import annotations

import json
from typing import Any

from syncer.model import Source
from syncer.plan.model import FORGET_MEANING, Plan
from syncer.plan.safety import how_to_proceed
from syncer.plan.summary import summary_line

SCHEMA_ID = "https://schemas.feishu-syncer.dev/v1/plan.schema.json"


def _source(s: Source | None) -> dict[str, Any] | None:
    return None if s is None else {"file": s.file, "line": s.line, "col": s.col}


def plan_document(plan: Plan, *, redact: bool) -> dict[str, Any]:
    """The plan as JSON data (schemas/plan.schema.json). With `redact`, every value is null (and the
    names of people who appear only as values are left out)."""
    n = plan.names
    people = n.people
    if redact:
        shown = {c.key.reviewee for c in plan.changes} | {q.row.reviewee for q in plan.quarantined}
        people = {pid: alias for pid, alias in people.items() if pid in shown}
    return {
        "$schema": SCHEMA_ID,
        "plan_format": plan.format,
        "syncer_version": plan.syncer_version,
        "checksum": plan.checksum,
        "summary": summary_line(plan),
        "redacted": redact,
        "forced": plan.forced,
        "root": plan.root,
        "git": {"commit": plan.git.commit, "short": plan.git.short, "dirty": plan.git.dirty},
        "target": plan.target._asdict(),
        "state": {
            "location": plan.state.location,
            "exists": plan.state.exists,
            "lineage": plan.state.lineage,
            "serial": plan.state.serial,
            "identity": plan.state.identity._asdict() if plan.state.identity else None,
            "last_apply": plan.state.last_apply._asdict() if plan.state.last_apply else None,
        },
        "notes": list(plan.notes),
        "counts": plan.counts._asdict(),
        "safety": {
            "max_update_ratio": plan.safety.max_update_ratio,
            "max_forget_ratio": plan.safety.max_forget_ratio,
            "min_existing": plan.safety.min_existing,
            "refused": plan.refused,
            "breaches": [
                {
                    "semester": b.semester,
                    "kind": b.kind,
                    "values": b.values,
                    "values_managed": b.values_managed,
                    "ratio": round(b.ratio, 6),
                    "limit": b.limit,
                }
                for b in plan.breaches
            ],
            "how_to_proceed": how_to_proceed(plan) if plan.breaches else None,
        },
        "semesters": [
            {
                **s._asdict(),
                "update_ratio": round(s.update_ratio, 6),
                "forget_ratio": round(s.forget_ratio, 6),
            }
            for s in plan.semesters
        ],
        "changes": [
            {
                "action": c.action,
                "semester": c.key.semester,
                "reviewee": c.key.reviewee,
                "metric": c.key.metric,
                "field": c.key.field,
                "old": None if redact else c.old,
                "new": None if redact else c.new,
                "source": _source(c.source),
                "batch": c.batch,
            }
            for c in plan.changes
        ],
        "quarantined": [
            {
                "semester": q.row.semester,
                "reviewee": q.row.reviewee,
                "metric": q.row.metric,
                "code": q.code,
                "rejected_at": q.at,
                "date": q.date,
                "message": q.message,
                "values": q.values,
                "source": _source(q.source),
            }
            for q in plan.quarantined
        ],
        "batches": [b._asdict() for _, b in sorted(plan.batches.items())],
        "names": {
            "semesters": dict(sorted(n.semesters.items())),
            "people": dict(sorted(people.items())),
            "metrics": dict(sorted(n.metrics.items())),
            "fields": [{"metric": m, "field": f, "name": a} for (m, f), a in sorted(n.fields.items())],
        },
        "forget_means": FORGET_MEANING,
        "refreshed": plan.refreshed._asdict() if plan.refreshed is not None else None,
    }


def plan_json(plan: Plan, *, redact: bool) -> str:
    return json.dumps(plan_document(plan, redact=redact), ensure_ascii=False, indent=2) + "\n"
