"""Renderers of drift (syncer.live.drift.Drift): a section the CLI appends to a plan, in each plan format.

- `text` / `github`: the values Feishu holds differently from what syncer applied, then admin-owned fields
  and rows Feishu does not list, then one summary line (github: a warning annotation per drifted value, at
  the YAML's file:line where it has one);
- `markdown`: a `### Drift` section with a table, everything escaped, for the PR comment or step summary;
- `json`: `drift_document`, added under `"drift"` to the plan document.

Values are hidden with `redact` in every format.
"""

from __future__ import annotations

import json
from typing import Any

from syncer.live.drift import Drift, DriftEntry
from syncer.model import Catalog
from syncer.plan.model import Names
from syncer.problems import REDACTED
from syncer.report.annotations import Annotated, annotation
from syncer.report.markdown import code, md
from syncer.text import inert_lines, plural

MAX_MD_ROWS = 100
_WHAT = {
    "changed": "changed in Feishu outside syncer",
    "cleared": "no longer in Feishu",
    "unmanaged": "already in Feishu (entered outside syncer); the plan would overwrite it",
    "admin": "entered by admins in Feishu (input_setting: admin): Feishu refuses to overwrite it (1580311)",
}


def catalog_names(catalog: Catalog) -> Names:
    """Display names for every ID of the catalog (drift may name rows the plan does not)."""
    return Names(
        semesters={s.id: a for a, s in catalog.semesters.items()},
        people={p.id: a for a, p in sorted(catalog.people.items(), reverse=True) if p.id},
        metrics={m.id: a for a, m in catalog.metrics.items()},
        fields={(m.id, f.id): fa for m in catalog.metrics.values() for fa, f in m.fields.items()},
    )


def _v(value: str | None, *, redact: bool) -> str:
    if value is None:
        return "(none)"
    return REDACTED if redact else json.dumps(value, ensure_ascii=False)


def summary(drift: Drift) -> str:
    drifted = sum(1 for e in drift.entries if e.kind != "admin")
    parts = [f"Drift: {plural(drifted, 'value')} changed in Feishu outside syncer"]
    if drift.count("admin"):
        parts.append(f"{plural(drift.count('admin'), 'admin-owned field')} the plan would send")
    if drift.absent:
        parts.append(f"{plural(len(drift.absent), 'row')} Feishu does not list")
    checked = (
        f"{drift.reviewees_checked} of {plural(drift.reviewees_in_scope, 'reviewee')} checked"
        f" ({'every managed row' if drift.scope == 'all' else 'the rows this plan touches'}) with "
        f"{plural(drift.requests, 'request')}"
    )
    return "; ".join(parts) + f"; {checked}."


def _label(e: DriftEntry, names: Names) -> str:
    k = e.key
    return (
        f"{names.semester(k.semester)} / {names.person(k.reviewee)} / {names.metric(k.metric)}."
        f"{names.field(k.metric, k.field)}"
    )


def _line(e: DriftEntry, names: Names, *, redact: bool) -> str:
    if e.kind == "changed":
        body = f"{_v(e.applied, redact=redact)} -> {_v(e.live, redact=redact)} in Feishu"
    elif e.kind == "cleared":
        body = f"{_v(e.applied, redact=redact)} is no longer in Feishu"
    elif e.kind == "unmanaged":
        body = f"Feishu holds {_v(e.live, redact=redact)}; the plan would write {_v(e.desired, redact=redact)}"
    else:
        body = f"Feishu holds {_v(e.live, redact=redact)}; the YAML says {_v(e.desired, redact=redact)}"
    where = f"  {e.source}" if e.source else ""
    return f"  {_label(e, names)}: {body}{where}"


def render_text(drift: Drift, names: Names, *, redact: bool) -> str:
    lines = ["", "Drift (live values read from Feishu):"]
    for kind in ("changed", "cleared", "unmanaged", "admin"):
        entries = [e for e in drift.entries if e.kind == kind]
        if entries:
            lines.append(f" {_WHAT[kind][0].upper()}{_WHAT[kind][1:]}:")
            lines.extend(_line(e, names, redact=redact) for e in entries)
    if drift.absent:
        lines.append(
            " Rows the plan would send that Feishu does not list for the reviewee (the import would be "
            "rejected: 1580306/1580312):"
        )
        for row, src in drift.absent:
            lines.append(
                f"  {names.semester(row.semester)} / {names.person(row.reviewee)} / "
                f"{names.metric(row.metric)}{f'  {src}' if src else ''}"
            )
    if not drift.reviewees_in_scope:
        lines.append(" Nothing to check: the plan touches no rows (--refresh-all checks every managed row).")
    elif not drift.entries and not drift.absent:
        lines.append(" Feishu holds what syncer applied, for the reviewees checked.")
    lines.extend(f"Note: {n}" for n in drift.notes)
    lines.append(summary(drift))
    return inert_lines(lines)


def render_github(drift: Drift, names: Names, *, redact: bool) -> Annotated:
    commands = tuple(
        annotation(
            "warning",
            _line(e, names, redact=redact).strip(),
            title="drift",
            file=e.source.file if e.source else None,
            line=e.source.line if e.source else 0,
            col=e.source.col if e.source else 0,
        )
        for e in drift.entries
        if e.kind != "admin"
    )
    return Annotated(commands, render_text(drift, names, redact=redact))


def _md(value: str | None, *, redact: bool) -> str:
    if value is None:
        return ""
    return f"*{REDACTED}*" if redact else code(value)


def render_markdown(drift: Drift, names: Names, *, redact: bool) -> str:
    lines = ["", "### Drift", "", f"**{md(summary(drift))}**", ""]
    if drift.entries:
        lines += [
            "| semester | reviewee | metric.field | what | last applied | in Feishu | in the YAML |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in drift.entries[:MAX_MD_ROWS]:
            k = e.key
            lines.append(
                f"| {md(names.semester(k.semester))} | {md(names.person(k.reviewee))} | "
                f"{md(names.metric(k.metric))}.{md(names.field(k.metric, k.field))} | {e.kind} | "
                f"{_md(e.applied, redact=redact)} | {_md(e.live, redact=redact)} | {_md(e.desired, redact=redact)} |"
            )
        if len(drift.entries) > MAX_MD_ROWS:
            lines.append(
                f"\n*{len(drift.entries) - MAX_MD_ROWS} more not shown; run `syncer plan --refresh` for all of them.*"
            )
        lines.append("")
    if drift.absent:
        lines.append("Rows the plan would send that Feishu does not list for the reviewee:")
        lines += [
            f"- {md(names.semester(r.semester))} / {md(names.person(r.reviewee))} / {md(names.metric(r.metric))}"
            for r, _ in drift.absent[:MAX_MD_ROWS]
        ]
        lines.append("")
    lines += [f"> {md(n)}" for n in drift.notes]
    return "\n".join(lines) + "\n"


def drift_document(drift: Drift, *, redact: bool, detailed_exitcode: bool) -> dict[str, Any]:
    """The drift section of the plan's JSON document (`"drift"`)."""
    doc: dict[str, Any] = {
        "scope": drift.scope,
        "detected": drift.detected,
        "summary": summary(drift),
        "complete": drift.complete,
        "reviewees_checked": drift.reviewees_checked,
        "reviewees_in_scope": drift.reviewees_in_scope,
        "requests": drift.requests,
        "budget": drift.budget,
        "counts": {k: drift.count(k) for k in ("changed", "cleared", "unmanaged", "admin")}
        | {"absent_rows": len(drift.absent)},
        "values": [
            {
                "kind": e.kind,
                "semester": e.key.semester,
                "reviewee": e.key.reviewee,
                "metric": e.key.metric,
                "field": e.key.field,
                "applied": None if redact else e.applied,
                "live": None if redact else e.live,
                "desired": None if redact else e.desired,
                "batch": e.batch,
                "source": {"file": e.source.file, "line": e.source.line, "col": e.source.col} if e.source else None,
            }
            for e in drift.entries
        ],
        "absent_rows": [
            {
                "semester": r.semester,
                "reviewee": r.reviewee,
                "metric": r.metric,
                "source": {"file": s.file, "line": s.line, "col": s.col} if s else None,
            }
            for r, s in drift.absent
        ],
        "notes": list(drift.notes),
    }
    if detailed_exitcode:
        doc["exit_code"] = 2 if drift.detected else 0
        doc["exit_code_means"] = (
            "with --detailed-exitcode, drift alone makes `syncer plan` exit 2"
            if drift.detected
            else "no drift: drift alone does not change the exit code"
        )
    return doc
