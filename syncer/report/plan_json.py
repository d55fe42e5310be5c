"""The plan as JSON data (schemas/plan.schema.json): what `syncer plan --format json` prints and
`--out FILE` writes, and what `apply --plan FILE` compares with the plan it would make."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from syncer.load.schema import schema_url
from syncer.model import Source
from syncer.plan.model import FORGET_MEANING, Plan
from syncer.plan.safety import how_to_proceed
from syncer.plan.summary import summary_line
from syncer.text import encode_json_str

PLAN_SCHEMA = "plan.schema.json"


def _source(s: Source | None) -> dict[str, Any] | None:
    return None if s is None else {"file": s.file, "line": s.line, "col": s.col}


def plan_document(plan: Plan, *, redact: bool) -> dict[str, Any]:
    """The plan as JSON data (schemas/plan.schema.json). With `redact`, every value is null (and the
    names of people who appear only as values are left out)."""
    return _document(plan, redact=redact, rows=_rows(plan, redact=redact))


def _document(plan: Plan, *, redact: bool, rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = plan.names
    people = n.people
    if redact:
        shown = {c.key.reviewee for c in plan.changes} | {q.row.reviewee for q in plan.quarantined}
        people = {pid: alias for pid, alias in people.items() if pid in shown}
    return {
        "$schema": schema_url(PLAN_SCHEMA, version=plan.syncer_version),  # the schema of the version that wrote it
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
        **({"rules": _rules(plan, redact=redact)} if plan.rules else {}),
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
        "changes": rows,
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
        "targeting": _targeting(plan),
    }


def _targeting(plan: Plan) -> dict[str, Any] | None:
    t = plan.targeting
    if t is None:
        return None
    return {
        **t.targeting.key(),
        "semesters_left_out": t.semesters_left_out,
        "files_left_out": t.files_left_out,
        "values_left_out": t.values_left_out,
        "values_managed_left_out": t.values_managed_left_out,
        "forgets_left_out": t.forgets_left_out,
    }


def _rows(plan: Plan, *, redact: bool) -> list[dict[str, Any]]:
    """The changes as the document holds them: a row (semester, reviewee, metric, the file that writes it)
    with its values, each [action, field, old, new, line, col, batch]."""
    out = []
    for (sem, rev, met), group in itertools.groupby(plan.changes, key=lambda c: c.key[:3]):
        changes = list(group)
        source = next((c.source for c in changes if c.source is not None), None)
        out.append(
            {
                "semester": sem,
                "reviewee": rev,
                "metric": met,
                "file": source.file if source is not None else None,
                "values": [
                    [
                        c.action,
                        c.key.field,
                        None if redact else c.old,
                        None if redact else c.new,
                        c.source.line if c.source is not None else None,
                        c.source.col if c.source is not None else None,
                        c.batch,
                    ]
                    for c in changes
                ],
            }
        )
    return out


def plan_chunks(plan: Plan, *, redact: bool) -> Iterator[str]:
    """The plan document as compact JSON text, in pieces: the same text as `json.dumps(plan_document(...),
    ensure_ascii=False, separators=(",", ":"))`, without holding a million values' worth of dictionaries.
    The changes are written by hand, a thousand rows at a time, with JSON's own string encoder."""
    doc = _document(plan, redact=redact, rows=[])
    head, _, tail = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).partition('"changes":[]')
    yield head + '"changes":['
    encoded: dict[str, str] = {}

    def enc(text: str | None) -> str:
        if text is None:
            return "null"
        e = encoded.get(text)
        if e is None:
            e = encode_json_str(text)
            if len(encoded) < 1 << 16:
                encoded[text] = e
        return e

    def num(n: int | None) -> str:
        return "null" if n is None else str(n)

    pieces: list[str] = []
    first = True
    for (sem, rev, met), group in itertools.groupby(plan.changes, key=lambda c: c.key[:3]):
        changes = list(group)
        source = next((c.source for c in changes if c.source is not None), None)
        values = ",".join(
            f'["{c.action}",{enc(c.key[3])},{"null" if redact else enc(c.old)},{"null" if redact else enc(c.new)},'
            f"{num(c.source.line if c.source else None)},{num(c.source.col if c.source else None)},{num(c.batch)}]"
            for c in changes
        )
        pieces.append(
            f'{"" if first else ","}{{"semester":{enc(sem)},"reviewee":{enc(rev)},"metric":{enc(met)},'
            f'"file":{enc(source.file if source else None)},"values":[{values}]}}'
        )
        first = False
        if len(pieces) >= 1000:
            yield "".join(pieces)
            pieces.clear()
    yield "".join(pieces)
    yield "]" + tail + "\n"


def _rules(plan: Plan, *, redact: bool) -> dict[str, Any]:
    """The rules that judged the plan and their findings (a root without rules has no such key)."""
    findings = [
        {
            "rule": f.rule,
            "severity": p.severity,
            "file": p.file,
            "line": p.line,
            "col": p.col,
            "message": p.text(redact=redact),
        }
        for f in plan.findings
        for p in (f.problem,)
    ]
    return {"checked": list(plan.rules), "denied": plan.denied, "findings": findings}
