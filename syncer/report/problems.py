"""Renderers of validation problems: plain data in, text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from syncer.problems import Problem
from syncer.text import plural

ProblemFormat = Literal["text", "json", "github"]


def counts_line(problems: Sequence[Problem]) -> str:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def render_text(problems: Sequence[Problem], *, redact: bool) -> str:
    lines = [f"{p.location}: {p.severity}: {p.text(redact=redact)} [{p.code}]" for p in problems]
    return "\n".join(lines)


def render_json(problems: Sequence[Problem], *, redact: bool, extra: dict[str, object] | None = None) -> str:
    errors = sum(1 for p in problems if p.severity == "error")
    data: dict[str, object] = {
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "col": p.col,
                "severity": p.severity,
                "code": p.code,
                "message": p.text(redact=redact),
            }
            for p in problems
        ],
    }
    if extra:
        data.update(extra)
    return json.dumps(data, indent=2, ensure_ascii=False)


def escape_data(text: str) -> str:
    """Escape a workflow command's message (GitHub: %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also `:` and `,`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(problems: Sequence[Problem], *, redact: bool) -> str:
    """`::error file=,line=,col=,title=::message` lines, then (GitHub shows only 10 annotations of a step)
    the plain list."""
    lines = []
    for p in problems:
        props = ",".join(
            [
                f"file={escape_property(p.file)}",
                f"line={p.line}",
                f"col={p.col}",
                f"title={escape_property(p.code)}",
            ]
        )
        lines.append(
            f"::{p.severity}::{escape_data(p.text(redact=redact))}"
            if not p.file
            else f"::{p.severity} {props}::{escape_data(p.text(redact=redact))}"
        )
    if problems:
        lines.append(render_text(problems, redact=redact))
    return "\n".join(lines)


def render_problems(problems: Sequence[Problem], fmt: ProblemFormat, *, redact: bool) -> str:
    if fmt == "json":
        return render_json(problems, redact=redact)
    if fmt == "github":
        return render_github(problems, redact=redact)
    return render_text(problems, redact=redact)
