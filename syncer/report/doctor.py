"""The renderers of `syncer doctor`: a DoctorReport in, text or JSON out. (Not a `Renderer` of the formats
registry: those render plans, problems and drift; doctor prints its own report, in text or JSON.)

Text: a line per check (status, name, summary), under it a line per problem with what to do, then the
requests spent and whether an apply could run. The reviewees a finding names are personal data: redacted
with --redact-values (their count stays). Everything Feishu or a file said is escaped (syncer.text.safe)."""

from __future__ import annotations

import json
from typing import Any, Literal, assert_never

from syncer.doctor.model import DoctorReport, Finding
from syncer.problems import REDACTED
from syncer.text import plural, safe

DoctorFormat = Literal["text", "json"]
DOCTOR_FORMATS: tuple[DoctorFormat, ...] = ("text", "json")
_MARK = {"ok": "ok", "problem": "PROBLEM", "warning": "warning", "unchecked": "unchecked"}


def render_doctor(report: DoctorReport, fmt: DoctorFormat, *, redact: bool) -> str:
    if fmt == "json":
        return json.dumps(doctor_document(report, redact=redact), ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        return _text(report, redact=redact)
    assert_never(fmt)


def _people(f: Finding, redact: bool) -> list[str]:
    return [REDACTED] if redact and f.people else list(f.people)


def doctor_document(report: DoctorReport, *, redact: bool) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "target": report.target,
        "app_id": report.app_id,
        "user_id_type": report.user_id_type,
        "requests": report.requests,
        "request_budget": report.budget,
        "checks": [
            {
                "name": c.name,
                "status": c.status,
                "summary": c.summary,
                "findings": [
                    {
                        "severity": f.severity,
                        "message": f.message,
                        "remedy": f.remedy,
                        "count": len(f.people),
                        "people": _people(f, redact),
                    }
                    for f in c.findings
                ],
            }
            for c in report.checks
        ],
    }


def _text(report: DoctorReport, *, redact: bool) -> str:
    app = f", app {report.app_id}" if report.app_id else ""
    lines = [safe(f"syncer doctor: {report.target}{app}, user_id_type {report.user_id_type}")]
    width = max(len(c.name) for c in report.checks)
    for c in report.checks:
        lines.append(safe(f"  {_MARK[c.status]:<9}  {c.name:<{width}}  {c.summary}"))
        for f in c.findings:
            lines.append(safe(f"    {f.severity}: {f.message}: {f.remedy}"))
            if f.people:
                lines.append(safe(f"      {', '.join(_people(f, redact))}"))
    warnings = sum(1 for c in report.checks for f in c.findings if f.severity == "warning")
    spent = f"{plural(report.requests, 'request')} (at most {report.budget} for this root)"
    if report.ok:
        tail = f"No problems ({plural(warnings, 'warning')}): an apply could run. {spent}."
    else:
        tail = f"{plural(report.problems, 'problem')}, {plural(warnings, 'warning')}: an apply could not run. {spent}."
    lines.append(tail)
    return "\n".join(lines) + "\n"
