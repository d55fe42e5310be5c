"""Renderers of validation problems: plain data in, text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal, overload

from syncer.problems import Problem
from syncer.report.annotations import Annotated, annotation
from syncer.report.formats import FormatName, renderer_for
from syncer.text import plural


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


def render_github(problems: Sequence[Problem], *, redact: bool) -> Annotated:
    """An annotation per problem, then (GitHub shows only 10 annotations of a step) the plain list."""
    commands = tuple(
        annotation(p.severity, p.text(redact=redact), title=p.code, file=p.file or None, line=p.line, col=p.col)
        for p in problems
    )
    return Annotated(commands, render_text(problems, redact=redact))


@overload
def render_problems(problems: Sequence[Problem], fmt: Literal["text", "json", "gitlab"], *, redact: bool) -> str: ...
@overload
def render_problems(problems: Sequence[Problem], fmt: Literal["github"], *, redact: bool) -> Annotated: ...
@overload
def render_problems(problems: Sequence[Problem], fmt: FormatName, *, redact: bool) -> str | Annotated: ...
def render_problems(problems: Sequence[Problem], fmt: FormatName, *, redact: bool) -> str | Annotated:
    """The problems in a named format (syncer.report.formats) that lists problems."""
    return renderer_for(fmt, "problems").problems(problems, redact=redact)
