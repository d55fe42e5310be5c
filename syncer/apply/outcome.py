"""What an apply reports: its outcome as plain data (for the summaries, the step summary, `--report FILE`
and the exit code), its progress events, the stop request that SIGINT/SIGTERM make, and the exceptions that
end a semester or the run early (raised by the steps, caught by the loop in syncer.apply.applier)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from syncer.errors import RefusedError
from syncer.feishu.errors import FeishuAPIError
from syncer.model import RowKey, Source
from syncer.state.model import UNRECORDED

Outcome = Literal["accepted", "landed-earlier", "rejected", "not-landed", "unconfirmed", "not-sent"]
#: Exit codes of an interrupted apply, by signal: 128 + the signal number, as shells report them.
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: RowKey
    code: int
    meaning: str
    remedy: str
    message: str
    source: Source | None
    new: bool  # rejected in this run (False: a quarantined row skipped again)

    @property
    def unrecorded(self) -> bool:
        """Not rejected: landed in Feishu, but the state could not record it (set aside, state.model.UNRECORDED)."""
        return self.message.startswith(UNRECORDED)


@dataclass(frozen=True, slots=True)
class SharedStop:
    """A semester stopped because Feishu refused every probed part of a batch alike. Only the rows refused on
    their own are rejected; the others are pending: neither applied nor rejected, sent by the next apply."""

    semester: str
    code: int
    meaning: str
    cause: str  # the setting or catalog entry most likely at fault
    rows_rejected: int  # the batch's rows refused on their own, held back until what would be sent changes
    rows_pending: int  # the batch's other rows: not shown to be refused, sent again by the next apply
    requests: int  # spent on the batch before stopping
    rows_unsent: int = 0  # the semester's other rows, not sent in this run (counted by the loop)


@dataclass(frozen=True, slots=True)
class Batch:
    """An import request recorded as applied."""

    semester: str
    import_record_id: str  # "" when it landed in an earlier attempt whose answer was lost
    rows: int
    values: int
    client_token: str
    settled: bool = False  # a batch an interrupted apply left open, settled by this run (not this plan's)


@dataclass(slots=True)
class ApplyReport:
    requests: int = 0  # import requests Feishu answered (retries of one request under its token count once)
    requests_accepted: int = 0
    settle_requests: int = 0  # of `requests`, those re-sending batches an interrupted apply left open
    batches: list[Batch] = field(default_factory=list)
    changes_applied: int = 0  # the plan's value changes in the rows recorded
    values_applied: int = 0  # values recorded: every managed field of each row sent (whole rows)
    rows_applied: int = 0
    values_forgotten: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    settled: list[tuple[str, Outcome]] = field(default_factory=list)  # (client_token, outcome)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (semester, why): request-wide refusals
    shared: list[SharedStop] = field(default_factory=list)
    # Rows the pre-flight held back in this run (reviewees/query or activity/query say an import would be
    # refused): not sent, not recorded; the next apply asks again.
    held: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped_early: bool = False  # --max-duration reached with work left
    interrupted: str | None = None  # the signal that stopped it (SIGINT, SIGTERM)
    rows_left: int = 0
    seconds: float = 0.0  # from the first request to the end
    aborted: str | None = None  # the failure that stopped the run (network, retries spent, the state store)

    @property
    def new_rejections(self) -> list[RejectedRow]:
        return [r for r in self.rejected if r.new and not r.unrecorded]

    @property
    def unrecorded(self) -> list[RejectedRow]:
        """Rows Feishu holds that the state could not record, set aside in this run or an earlier one."""
        return [r for r in self.rejected if r.unrecorded]

    @property
    def rows_pending(self) -> int:
        """Rows a stopped semester left neither applied nor rejected (refused alike with others, not alone)."""
        return sum(s.rows_pending + s.rows_unsent for s in self.shared)

    @property
    def plan_batches(self) -> list[Batch]:
        """The batches of this run's plan (without those settled from the journal)."""
        return [b for b in self.batches if not b.settled]

    @property
    def exit_code(self) -> int:
        if self.failures or self.aborted or self.unrecorded:  # set-aside rows: 1 until their values change
            return 1
        if self.interrupted is not None:
            return SIGNAL_EXIT.get(self.interrupted, 130)
        if self.stopped_early:
            return 3
        # A shared stop rejected rows in this run and leaves the others pending for the next apply, as the
        # pre-flight leaves the rows it held back. Not 3:
        # CI dispatches a follow-up run on 3, which a cause that is really shared (a setting) would repeat.
        if self.new_rejections or self.shared or self.held:
            return 4
        return 0


@dataclass(frozen=True, slots=True)
class Progress:
    """An event for the progress display: what just happened and how much is left."""

    kind: Literal["settle", "batch", "rejected", "split", "stop", "forget", "note"]
    semester: str
    rows_done: int
    rows_total: int
    requests_left: int
    eta_seconds: float
    message: str = ""


ProgressFn = Callable[[Progress], None]
#: Test hook: called with a step name ("journaled", "sent", "recorded") and the client_token.
StepHook = Callable[[str, str], None]


class StopRequest:
    """A request to stop (SIGINT, SIGTERM), honoured between import requests: the request in flight is
    finished and recorded first. Only while `armed` (sending) does a request count; before that, a signal
    keeps its usual meaning (the CLI raises KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.armed = False
        self.reason: str | None = None

    def request(self, reason: str) -> bool:
        """Ask to stop; False when nothing is sending (the caller then stops at once) or when a stop was
        already asked for (a second Ctrl-C: the caller stops at once)."""
        if not self.armed or self.reason is not None:
            return False
        self.reason = reason
        return True


class DurationReached(Exception):
    """--max-duration: the next request would end too late. Nothing is open: the state is consistent."""


class Stopped(Exception):
    """A stop was asked for (SIGINT, SIGTERM) and honoured between requests: the state is consistent."""


class SharedStopped(Exception):
    """A refusal every probed part of a batch shared stopped its semester (the report's SharedStop)."""

    def __init__(self, stop: SharedStop) -> None:
        super().__init__(stop.cause)
        self.stop = stop


class SemesterStopped(RefusedError):
    """A request-wide code stopped a semester's apply (never split)."""

    def __init__(self, semester: str, cause: FeishuAPIError, *, note: str = "") -> None:
        detail = f" (Feishu said: {cause.msg})" if cause.msg and not cause.known else ""
        violations = "".join(f"; {v}" for v in cause.violations)
        super().__init__(
            f"semester {semester}: Feishu refused the request with {cause.code} ({cause.meaning}){detail}"
            f"{violations}; {cause.remedy}" + (f" [{note}]" if note else "")
        )
        self.semester = semester
        self.cause = cause
