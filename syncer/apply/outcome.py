"""What an apply reports: its outcome as plain data (for the summaries, the step summary and the exit code)
and its progress events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from syncer.model import RowKey, Source

Outcome = Literal["accepted", "landed-earlier", "rejected", "not-landed"]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: RowKey
    code: int
    meaning: str
    remedy: str
    message: str
    source: Source | None
    new: bool  # rejected in this run (False: a quarantined row skipped again)


@dataclass(slots=True)
class ApplyReport:
    requests: int = 0  # import requests that reached Feishu's answer (accepted or rejected)
    accepted_batches: list[tuple[str, str, int]] = field(default_factory=list)  # (semester, record id, rows)
    values_applied: int = 0
    rows_applied: int = 0
    values_forgotten: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    settled: list[tuple[str, Outcome]] = field(default_factory=list)  # (client_token, outcome)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (semester, why) stopped by a request-wide code
    stopped_early: bool = False  # --max-duration reached with work left
    rows_left: int = 0
    seconds: float = 0.0

    @property
    def new_rejections(self) -> list[RejectedRow]:
        return [r for r in self.rejected if r.new]

    @property
    def exit_code(self) -> int:
        if self.failures:
            return 1
        if self.stopped_early:
            return 3
        if self.new_rejections:
            return 4
        return 0


@dataclass(frozen=True, slots=True)
class Progress:
    """An event for the progress display: what just happened and how much is left."""

    kind: Literal["settle", "batch", "rejected", "split", "stop", "forget"]
    semester: str
    rows_done: int
    rows_total: int
    requests_left: int
    eta_seconds: float
    message: str = ""


ProgressFn = Callable[[Progress], None]


#: Test hook: called with a step name ("journaled", "sent", "recorded") and the client_token.
StepHook = Callable[[str, str], None]
