"""Problems found while validating: each with a location, a severity, a stable code and a message that
says what to do. A message may embed the offending value through the `{value}` placeholder, so that the
same problem renders with or without values (`--redact-values`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syncer.text import safe

Severity = Literal["error", "warning"]
REDACTED = "(redacted)"  # shown in place of every value with --redact-values, in every output
VALUE_SLOT = "{value}"
DETAIL_SLOT = "{detail}"  # more that would tell the value (a close alias), left out when values are redacted


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    severity: Severity
    code: str  # stable, kebab-case: e.g. "duplicate-key", "unknown-person"
    message: str  # may contain {value} exactly where the value goes, and {detail}
    value: str | None = None
    detail: str = ""

    def text(self, *, redact: bool) -> str:
        """The message with the value quoted in place, or `(redacted)`: one line, made inert (`safe`),
        since messages quote keys, names and paths from the files."""
        message = self.message.replace(DETAIL_SLOT, "" if redact else self.detail)
        if VALUE_SLOT not in message:
            return safe(message)
        shown = REDACTED if redact or self.value is None else _quote(self.value)
        return safe(message.replace(VALUE_SLOT, shown))

    @property
    def location(self) -> str:
        """`file:line:col` for output (the file name made inert)."""
        return f"{safe(self.file)}:{self.line}:{self.col}"


def _quote(value: str) -> str:
    if len(value) > 80:
        value = value[:77] + "..."
    return repr(value)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """By file, line, column, then errors before warnings; exact duplicates dropped."""
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.col, p.severity != "error", p.code, p.message))
