"""Renderers of `syncer state show`: a StateSummary in, text or JSON out."""

from __future__ import annotations

import json
from typing import Any, assert_never

from syncer.report.formats import StateFormat
from syncer.state.inspect import PeopleCacheSummary, StateSummary
from syncer.text import inert_lines, plural


def render_state(summary: StateSummary, fmt: StateFormat) -> str:
    if fmt == "json":
        return json.dumps(state_document(summary), ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        return render_text(summary)
    assert_never(fmt)


def state_document(s: StateSummary) -> dict[str, Any]:
    return {
        "location": s.location,
        "exists": s.exists,
        "format": s.format,
        "lineage": s.lineage,
        "serial": s.serial,
        "created": s.created,
        "identity": s.identity._asdict() if s.identity else None,
        "last_apply": s.last_apply._asdict() if s.last_apply else None,
        "last_batch": s.last_batch._asdict() if s.last_batch else None,
        "last_import_request": s.last_import_request,
        "batches": s.batches,
        "values": s.values,
        "semesters": [
            {
                "semester": c.semester,
                "name": c.name,
                "closed": c.closed,
                "values": c.values,
                "rows": c.rows,
                "reviewees": c.reviewees,
            }
            for c in s.semesters
        ],
        "rejected_rows": [
            {
                "semester": r.row.semester,
                "reviewee": r.row.reviewee,
                "metric": r.row.metric,
                "code": r.code,
                "rejected_at": r.at,
                "message": r.message,
            }
            for r in s.rejections
        ],
        "open_journal": [
            {"client_token": j.client_token, "semester": j.semester, "opened": j.opened, "rows": j.rows}
            for j in s.journal
        ],
        "lock": ({**s.lock.info._asdict(), "status": s.lock.status} if s.lock else None),
        "people_cache": _people_document(s.people),
    }


def _people_document(p: PeopleCacheSummary | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "location": p.location,
        "people": p.people,
        "active": p.active,
        "resigned": p.resigned,
        "unknown": p.unknown,
        "first_resolved": p.first_resolved,
        "last_resolved": p.last_resolved,
        "identity": p.identity._asdict(),
    }


def _people_line(p: PeopleCacheSummary | None) -> str:
    if p is None:
        return "  people cache: none (`syncer people resolve` writes one when the catalog gives people by email alone)"
    statuses = ", ".join(
        f"{n} {label}" for n, label in ((p.active, "active"), (p.resigned, "resigned"), (p.unknown, "unknown")) if n
    )
    when = (
        ""
        if p.first_resolved is None
        else f", resolved {p.first_resolved}"
        if p.first_resolved == p.last_resolved
        else f", resolved {p.first_resolved} to {p.last_resolved}"
    )
    return (
        f"  people cache: {plural(p.people, 'person', 'people')}{f' ({statuses})' if statuses else ''}{when}, "
        f"for {p.identity.user_id_type} on {p.identity.host}, in {p.location}"
    )


def _name(s: StateSummary, some_id: str) -> str:
    alias = s.names.get(some_id)
    return f"{alias} ({some_id})" if alias else some_id


def render_text(s: StateSummary) -> str:
    lines = []
    if not s.exists:
        lines.append(f"No state at {s.location} yet: nothing is managed. The first apply creates it.")
    else:
        ident = s.identity
        lines.append(f"State at {s.location}")
        if ident is not None:
            lines.append(
                f"  target:      {ident.host}, app {ident.app_id or '(not recorded)'}, "
                f"user_id_type {ident.user_id_type}"
            )
        lines.append(f"  lineage:     {s.lineage}")
        lines.append(f"  serial:      {s.serial} (format {s.format}, created {s.created})")
        if s.last_apply is not None:
            rec = f", import record {s.last_batch.import_record_id}" if s.last_batch else ""
            lines.append(
                f"  last apply:  {s.last_apply.time} at commit {s.last_apply.commit[:12]} "
                f"(batch {s.last_apply.batch}{rec})"
            )
        else:
            lines.append("  last apply:  never")
        if s.last_import_request:
            lines.append(f"  last import request: {s.last_import_request}")
        lines.append(
            f"  managed:     {plural(s.values, 'value')} in {plural(len(s.semesters), 'semester')}, "
            f"{plural(s.batches, 'batch', 'batches')}"
        )
        for c in s.semesters:
            closed = ", closed" if c.closed else ""
            lines.append(
                f"    {_name(s, c.semester)}: {plural(c.values, 'value')}, {plural(c.rows, 'row')}, "
                f"{plural(c.reviewees, 'reviewee')}{closed}"
            )
        if s.rejections:
            lines.append(f"  rejected rows ({len(s.rejections)}; not sent again until their values change):")
            for r in s.rejections:
                msg = f" ({r.message})" if r.message else ""
                what = (
                    f"set aside on {r.date}: {r.message}"
                    if r.unrecorded
                    else f"rejected on {r.date} with {r.code}{msg}"
                )
                lines.append(
                    f"    {_name(s, r.row.semester)} {_name(s, r.row.reviewee)} {_name(s, r.row.metric)}: {what}"
                )
        lines.append(_people_line(s.people))
        if s.journal:
            lines.append(f"  open journal entries ({len(s.journal)}; the next apply settles them first):")
            for j in s.journal:
                lines.append(f"    {j.client_token} {_name(s, j.semester)}: {j.rows} rows, opened {j.opened}")
    if s.lock is not None:
        lines.append(
            f"  locked by pid {s.lock.info.pid} on {s.lock.info.host} ({s.lock.status}) since {s.lock.info.time}"
            f" for {s.lock.info.command or 'a writer'}"
        )
    return inert_lines(lines)
