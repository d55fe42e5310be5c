"""What one apply run shares between its steps: what it sends and the limits it keeps (`ApplyOptions`), the
world outside it (`Collaborators`), who listens and may stop it (`Listeners`), and the counts it keeps as it
goes (`RunContext`: the report, the rows done, the desired fields of the rows it sends)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from syncer.apply.outcome import ApplyReport, Progress, ProgressFn, StepHook, StopRequest
from syncer.feishu.pacing import Pacer
from syncer.feishu.write import WriteClient
from syncer.load.settings import Settings
from syncer.model import DesiredState, DesiredValue, RowKey
from syncer.state.protocols import ApplyLog

#: Seconds one import request is expected to take, for --max-duration (pacing dominates anyway).
REQUEST_ALLOWANCE = 5.0


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """What one apply sends (the YAML, read with its settings) and how: the import record's name and commit,
    --max-duration and --force."""

    settings: Settings
    desired: DesiredState
    record_name: str
    commit: str
    max_duration: float | None = None  # stop before a request that would end later
    force: bool = False  # past the safety thresholds


@dataclass(frozen=True, slots=True)
class Collaborators:
    """The world outside an apply, passed in: the state it writes, Feishu, the pacer and the clocks (`clock`
    stamps records, `timer` in epoch seconds measures the run)."""

    store: ApplyLog
    client: WriteClient
    pacer: Pacer
    clock: Callable[[], datetime] = now_utc
    timer: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class Listeners:
    """Who follows an apply and may stop it: the stop request (SIGINT, SIGTERM), the progress display, and
    the tests' step hook."""

    stop: StopRequest | None = None
    progress: ProgressFn | None = None
    step_hook: StepHook | None = None


@dataclass(slots=True)
class RunContext:
    """One run's counts, shared by its steps (settle, send, quarantine, the loop). Mutable: it is the run's
    running tally, owned by the Applier that made it."""

    options: ApplyOptions
    world: Collaborators
    listeners: Listeners
    start: float
    report: ApplyReport = field(default_factory=ApplyReport)
    first_request: float | None = None  # when the first import request went out (the report's seconds)
    rows_total: int = 0
    rows_done: int = 0
    changes: Counter[RowKey] = field(default_factory=Counter)  # the plan's value changes per row
    # The desired fields of the rows this run sends, indexed once (a million values are not scanned again
    # for every request).
    by_row: dict[RowKey, dict[str, DesiredValue]] = field(default_factory=dict)
    settling: bool = False  # settling the journal: what is recorded is not this plan's

    def stop_asked(self) -> str | None:
        stop = self.listeners.stop
        return stop.reason if stop is not None else None

    def would_overrun(self) -> bool:
        """Whether the next request would end after --max-duration (its pacing wait included)."""
        limit = self.options.max_duration
        if limit is None:
            return False
        timer = self.world.timer
        wait = max(0.0, self.world.pacer.next_slot() - timer())
        return (timer() - self.start) + wait + REQUEST_ALLOWANCE > limit

    def event(
        self,
        kind: Literal["batch", "rejected", "split", "stop", "note"],
        semester: str,
        requests_left: int,
        message: str = "",
    ) -> Progress:
        return Progress(
            kind,
            semester,
            min(self.rows_done, self.rows_total),
            self.rows_total,
            requests_left,
            self.world.pacer.eta(requests_left) if requests_left else 0.0,
            message,
        )

    def progress(self, event: Progress) -> None:
        if self.listeners.progress is not None:
            self.listeners.progress(event)

    def step(self, name: str, token: str) -> None:
        """The tests' step hook: "journaled", "sent", "recorded"."""
        if self.listeners.step_hook is not None:
            self.listeners.step_hook(name, token)

    def note(self, semester: str, message: str) -> None:
        """A note for the report, shown as it happens."""
        self.report.notes.append(message)
        self.progress(self.event("note", semester, 0, message))
