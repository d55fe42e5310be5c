"""What `syncer doctor` found, as plain data: a `Check` per thing it checks, each with its findings (one line
each, with what to do), and the requests it spent against the budget it states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "problem", "warning", "unchecked"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: what is wrong and what to do. `people` are the reviewees it names (aliases, else IDs):
    personal data, shown only without --redact-values."""

    message: str
    remedy: str
    severity: Severity = "error"
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked. `checked` is false when it could not be (no token, nothing to check it with, or
    no way to tell without writing): `summary` then says why."""

    name: str
    summary: str
    findings: tuple[Finding, ...] = ()
    checked: bool = True

    @property
    def status(self) -> Status:
        if any(f.severity == "error" for f in self.findings):
            return "problem"
        if self.findings:
            return "warning"
        return "ok" if self.checked else "unchecked"


@dataclass(frozen=True, slots=True)
class DoctorReport:
    target: str  # the base URL
    app_id: str | None
    user_id_type: str
    checks: tuple[Check, ...]
    requests: int  # HTTP requests sent, the token's included
    budget: int  # the most this run could send (syncer.doctor.checks.request_budget)

    @property
    def ok(self) -> bool:
        """An apply could run: no check found an error."""
        return not any(c.status == "problem" for c in self.checks)

    @property
    def problems(self) -> int:
        return sum(1 for c in self.checks for f in c.findings if f.severity == "error")
