"""Sending a plan's changed rows to Feishu, paced and journaled, and recording them in the state.

The order of one batch is what makes a kill at any instant safe:

1. the batch (random client_token, exact body, keys and values) is written to the state's journal;
2. the request is sent (retries re-send the same body with the same token);
3. the accepted batch is recorded in the state, which settles its journal entry in the same write.

A batch is recorded as applied only when Feishu said so (code 0) or when reading the rows back shows its
values. When an answer is lost and the retry (or, after a kill, the settling of the journal) gets 1580110,
the token is known to Feishu but that does not say the request was accepted (a refused request's token may
be remembered too): the rows are read back, and "cannot tell" counts as "not landed". Those rows go out
again under a new token, and are isolated if refused.

Rejected rows are isolated (syncer.apply.isolate) and quarantined in the state with their code and a digest
of what was sent; a refusal every row shares stops the semester after a handful of requests with a
diagnosis (syncer.apply.diagnose); request-wide codes stop the semester. Everything outside (client, store,
clock, pacer) is passed in.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from syncer.apply.batching import ChangedRow, ImportRequest, build_requests
from syncer.apply.diagnose import likely_cause, sent_fields
from syncer.apply.isolate import Isolated, Rejected, SharedRefusal, isolate
from syncer.apply.outcome import (
    ApplyReport,
    Batch,
    Outcome,
    Progress,
    ProgressFn,
    RejectedRow,
    SharedStop,
    StepHook,
    StopRequest,
)
from syncer.apply.readback import Verdict, read_back
from syncer.errors import RefusedError, StateError, SyncerError
from syncer.feishu.codes import describe
from syncer.feishu.errors import DuplicateTokenError, FeishuAPIError, RevieweeRejected, RowRejected
from syncer.feishu.pacing import Pacer, WaitAbandoned
from syncer.feishu.records import ImportedMetric, import_body
from syncer.feishu.write import WriteClient
from syncer.load.settings import Settings
from syncer.model import DesiredState, DesiredValue, RowKey, ValueKey
from syncer.plan.diff import sent_digest
from syncer.plan.model import Plan
from syncer.plan.safety import check_safety
from syncer.state.model import SHARED_REFUSAL, BatchRecord, JournalEntry, Rejection, State, format_time
from syncer.state.protocols import ApplyLog
from syncer.text import plural

#: Seconds one import request is expected to take, for --max-duration (pacing dominates anyway).
REQUEST_ALLOWANCE = 5.0


class Answer(NamedTuple):
    """What Feishu said to one import request (the client's retries under its token included)."""

    kind: Literal["accepted", "known-token", "rejected", "refused"]
    record_id: str = ""
    error: FeishuAPIError | None = None

    def rejection(self) -> Rejected:
        assert self.error is not None
        scope = "reviewee" if isinstance(self.error, RevieweeRejected) else "row"
        # Feishu's own `msg` is not kept: it could echo a value, and rejections are shown in plans.
        return Rejected(self.error.code or 0, scope, self.error.meaning)


def new_token() -> str:
    """A random client_token for one batch: never reused for other content (1-64 characters)."""
    return secrets.token_hex(16)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _body_text(semester: str, name: str, items: Sequence[ImportedMetric]) -> str:
    body = import_body(semester_id=semester, import_record_name=name, imported_metrics=list(items))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class _Gate:
    """The pacer as the client's gate for one request: the wait before its first attempt gives way to a stop
    request (nothing is sent yet); the waits before retries do not (the request is in flight)."""

    def __init__(self, pacer: Pacer, stop: StopRequest | None) -> None:
        self.pacer = pacer
        self.stop = stop
        self.first = True

    def wait_turn(self) -> float:
        if self.first and self.stop is not None:
            self.first = False
            stop = self.stop
            return self.pacer.wait_turn(give_up=lambda: stop.reason is not None)
        self.first = False
        return self.pacer.wait_turn()

    def defer(self, seconds: float) -> None:
        self.pacer.defer(seconds)


class Applier:
    """One apply run. The caller holds the store's lock for the whole run."""

    def __init__(
        self,
        *,
        store: ApplyLog,
        client: WriteClient,
        settings: Settings,
        desired: DesiredState,
        pacer: Pacer,
        record_name: str,
        commit: str,
        max_duration: float | None = None,
        force: bool = False,
        stop: StopRequest | None = None,
        clock: Callable[[], datetime] = now_utc,
        timer: Callable[[], float] = time.time,
        progress: ProgressFn | None = None,
        step_hook: StepHook | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.desired = desired
        self.pacer = pacer
        self.record_name = record_name
        self.commit = commit
        self.max_duration = max_duration
        self.force = force
        self.stop = stop
        self.clock = clock
        self.timer = timer
        self.progress = progress or (lambda _p: None)
        self.hook = step_hook or (lambda _s, _t: None)
        self.report = ApplyReport()
        self._start = timer()
        self._first_request: float | None = None
        self._rows_total = 0
        self._rows_done = 0
        self._changes: Counter[RowKey] = Counter()  # the plan's value changes per row
        # The desired fields of the rows this run sends, indexed once (a million values are not scanned
        # again for every request).
        self._by_row: dict[RowKey, dict[str, DesiredValue]] = {}
        self._settling = False  # settling the journal: what is recorded is not this plan's

    # --- one request, and what Feishu said ---------------------------------------------------------------

    def _ask(self, semester: str, token: str, name: str, items: Sequence[ImportedMetric]) -> Answer:
        """Send one import under `token` and classify the answer. Failures that are neither a rejection nor a
        refusal (retries exhausted, the network) are raised: the journal entry stays open and the next apply
        settles it. The pacing mark is recorded whatever happened, once a request may have gone out."""
        if self._first_request is None:
            self._first_request = self.timer()
        gate = _Gate(self.pacer, self.stop)
        try:
            record_id = self.client.import_metric_details(
                semester_id=semester,
                import_record_name=name,
                imported_metrics=items,
                client_token=token,
                user_id_type=self.settings.target.user_id_type,
                gate=gate,
            )
        except DuplicateTokenError as exc:
            return self._answered(Answer("known-token", error=exc))
        except (RowRejected, RevieweeRejected) as exc:
            return self._answered(Answer("rejected", error=exc))
        except FeishuAPIError as exc:
            if exc.scope in ("request", "bug"):
                return self._answered(Answer("refused", error=exc))
            raise
        finally:
            self._paced()
        self.report.requests_accepted += 1
        return self._answered(Answer("accepted", record_id))

    def _answered(self, answer: Answer) -> Answer:
        self.report.requests += 1
        if self._settling:
            self.report.settle_requests += 1
        return answer

    def _paced(self) -> None:
        last = self.pacer.last_request_at
        if last is not None:
            self.store.record_import_request(datetime.fromtimestamp(last, UTC))

    def _stop_asked(self) -> str | None:
        return self.stop.reason if self.stop is not None else None

    # --- settling the journal --------------------------------------------------------------------------

    def settle(self, state: State) -> None:
        """Settle every open journal entry left by a killed run: same body, same token."""
        self._settling = True
        try:
            self._settle_all(state)
        finally:
            self._settling = False

    def _settle_all(self, state: State) -> None:
        for token, entry in sorted(state.journal.items(), key=lambda kv: kv[1].opened):
            if self._stop_asked():
                raise Stopped()
            outcome = self._settle_one(entry)
            self.report.settled.append((token, outcome))
            self.progress(
                Progress(
                    "settle",
                    entry.semester,
                    0,
                    0,
                    0,
                    0.0,
                    f"settled an interrupted batch ({plural(len(entry.rows()), 'row')}): {outcome}",
                )
            )

    def _settle_one(self, entry: JournalEntry) -> Outcome:
        body = json.loads(entry.body)
        rows = entry.rows()
        try:
            answer = self._ask(
                body["semester_id"], entry.client_token, body.get("import_record_name", ""), body["imported_metrics"]
            )
        except WaitAbandoned:
            raise Stopped() from None
        if answer.kind == "known-token":
            verdict = self._read_back(entry.semester, rows)
            if verdict.kind == "held":
                self._record(entry.semester, entry.client_token, "", rows, entry.commit, entry.import_record_name)
                return "landed-earlier"
            # The token is known, the values are not there (or cannot be seen): not recorded. The rows stay
            # changes for the plan, and go out again under new tokens.
            outcome: Outcome = "not-landed" if verdict.kind == "absent" else "unconfirmed"
            self.store.settle_journal(entry.client_token, outcome=outcome)
            self._note(
                entry.semester, f"an interrupted batch was not confirmed ({verdict.why}): its rows are sent again"
            )
            return outcome
        if answer.kind in ("rejected", "refused"):
            assert answer.error is not None
            self.store.settle_journal(entry.client_token, outcome=f"rejected {answer.error.code}")
            return "rejected"
        self._record(entry.semester, entry.client_token, answer.record_id, rows, entry.commit, entry.import_record_name)
        return "accepted"

    def _read_back(self, semester: str, rows: Mapping[RowKey, Mapping[str, str]]) -> Verdict:
        return read_back(self.client, self.desired.catalog, semester, rows, self.settings.target.user_id_type)

    # --- applying a plan -------------------------------------------------------------------------------

    def apply(self, plan: Plan, state: State | None, *, skip: frozenset[RowKey] = frozenset()) -> ApplyReport:
        """Send the plan's changed rows, except `skip` (rows quarantined by the pre-flight)."""
        check_safety(plan, force=self.force)
        forgets = plan.forgotten()
        if forgets:
            self.report.values_forgotten = self.store.forget(forgets, reason="apply")
            self.progress(
                Progress(
                    "forget",
                    "",
                    0,
                    0,
                    0,
                    0.0,
                    f"stopped managing {plural(self.report.values_forgotten, 'value')} removed from the "
                    "YAML (they stay in Feishu as they are)",
                )
            )
        self._changes = Counter(c.key.row for c in plan.changes if c.action != "forget")
        per_semester = plan.rows_by_semester()
        held = {q.row for q in plan.quarantined} | skip
        self.note_quarantined(plan)
        requests = self._requests(per_semester, state, held)
        self._rows_total = sum(len(r.rows) for r in requests)
        stopped: set[str] = set()
        for i, request in enumerate(requests):
            semester = request.semester_id
            if semester in stopped:
                continue
            try:
                if self._stop_asked():
                    raise Stopped()
                if self._would_overrun():
                    raise DurationReached()
                self._send_request(request, requests_left=len(requests) - i - 1)
            except SemesterStopped as exc:
                stopped.add(exc.semester)
                self.report.failures.append((exc.semester, exc.message))
            except SharedStopped as exc:
                stopped.add(semester)
                unsent = sum(len(r.rows) for r in requests[i + 1 :] if r.semester_id == semester)
                self.report.shared.append(dataclasses.replace(exc.stop, rows_unsent=unsent))
                self._rows_done += unsent
            except (DurationReached, Stopped) as exc:
                if isinstance(exc, Stopped):
                    self.report.interrupted = self._stop_asked() or "SIGINT"
                else:
                    self.report.stopped_early = True
                self.report.rows_left = max(0, self._rows_total - self._rows_done)
                why = f"stopped by {self.report.interrupted}" if isinstance(exc, Stopped) else "--max-duration reached"
                self.progress(
                    self._event(
                        "stop",
                        semester,
                        len(requests) - i,
                        f"{why}: {plural(self.report.rows_left, 'row')} left for the next run",
                    )
                )
                break
            except SyncerError as exc:  # the network, retries spent, the state store: stop, keep the report
                self.report.aborted = str(exc)
                self.report.rows_left = max(0, self._rows_total - self._rows_done)
                self.progress(self._event("stop", semester, len(requests) - i, f"stopped: {exc}"))
                break
        else:
            if self._stop_asked() and self.report.interrupted is None:  # asked during the last request
                self.report.interrupted = self._stop_asked()
        self.report.seconds = self.timer() - (self._first_request if self._first_request is not None else self._start)
        return self.report

    def note_quarantined(self, plan: Plan) -> None:
        """List the rows held back because Feishu rejected them before and they have not changed."""
        known = {r.row for r in self.report.rejected}
        for q in plan.quarantined:
            if q.row not in known:
                info = describe(q.code)
                shared = q.message.startswith(SHARED_REFUSAL)  # its remedy is the diagnosis, not "fix the value"
                remedy = q.message.removeprefix(f"{SHARED_REFUSAL}: ") if shared else info.remedy
                self.report.rejected.append(
                    RejectedRow(q.row, q.code, info.meaning, remedy, q.message, q.source, new=False)
                )

    def _requests(
        self, per_semester: Mapping[str, Sequence[RowKey]], state: State | None, held: set[RowKey]
    ) -> list[ImportRequest]:
        """Every changed row with every managed field of it (the YAML's values for that row)."""
        values = self.desired.values
        wanted = {r for rows in per_semester.values() for r in rows if r not in held}
        by_row = self._by_row
        for k, dv in values.items():
            rk = RowKey(k[0], k[1], k[2])
            if rk in wanted:
                by_row.setdefault(rk, {})[k[3]] = dv
        weight_fields = {
            m.id: f.id for m in self.desired.catalog.metrics.values() for f in m.fields.values() if f.role == "weight"
        }
        changed: dict[RowKey, ChangedRow] = {}
        for rk, fields in by_row.items():
            last = None
            wf = weight_fields.get(rk.metric)
            if state is not None and wf is not None:
                applied = state.get((rk.semester, rk.reviewee, rk.metric, wf))
                last = applied[0] if applied is not None else None
            changed[rk] = ChangedRow(fields, last)
        return build_requests(
            changed, catalog=self.desired.catalog, percentage_format=self.settings.target.percentage_format
        )

    def _would_overrun(self) -> bool:
        limit = self.max_duration
        if limit is None:
            return False
        wait = max(0.0, self.pacer.next_slot() - self.timer())
        return (self.timer() - self._start) + wait + REQUEST_ALLOWANCE > limit

    def _event(
        self,
        kind: Literal["batch", "rejected", "split", "stop", "note"],
        semester: str,
        requests_left: int,
        message: str = "",
    ) -> Progress:
        return Progress(
            kind,
            semester,
            min(self._rows_done, self._rows_total),
            self._rows_total,
            requests_left,
            self.pacer.eta(requests_left) if requests_left else 0.0,
            message,
        )

    def _note(self, semester: str, message: str) -> None:
        self.report.notes.append(message)
        self.progress(self._event("note", semester, 0, message))

    def _send_request(self, request: ImportRequest, *, requests_left: int) -> None:
        items = dict(zip(request.rows, request.items, strict=True))
        semester = request.semester_id
        before = self.report.requests

        def send(rows: Sequence[RowKey]) -> Rejected | None:
            return self._send(semester, list(rows), [items[r] for r in rows])

        found: list[Isolated[RowKey]] = []  # culprits, kept even when a stop ends the isolation half-way
        try:
            first = send(request.rows)
            if first is not None:
                self.progress(
                    self._event(
                        "split", semester, requests_left, f"batch rejected ({first.code}): isolating the rows at fault"
                    )
                )
                isolate(request.rows, first, send, detect_shared=True, found=found)
                for culprit in found:
                    self._quarantine(semester, culprit)
        except (Stopped, DurationReached, SyncerError) as exc:
            if not isinstance(exc, StateError):
                for culprit in found:  # refused rows the isolation already pinned down: not sent again
                    self._quarantine(semester, culprit)
            if isinstance(exc, SemesterStopped):
                self.progress(self._event("stop", semester, requests_left, exc.message))
            raise
        except SharedRefusal as exc:
            stop = self._shared_stop(semester, request.rows, exc, requests=self.report.requests - before)
            self.progress(
                self._event(
                    "stop",
                    semester,
                    requests_left,
                    f"semester {semester} stopped: every part of a batch was refused alike with {exc.code}",
                )
            )
            raise SharedStopped(stop) from None
        self.progress(self._event("batch", semester, requests_left))

    def _send(
        self, semester: str, rows: list[RowKey], items: list[ImportedMetric], *, again: bool = False
    ) -> Rejected | None:
        """One import request, journaled: None when recorded as applied, a Rejected for row- and
        reviewee-level codes."""
        if self._stop_asked():
            raise Stopped()
        if self._would_overrun():
            raise DurationReached()
        token = new_token()
        name = self.record_name
        text = _body_text(semester, name, items)
        row_values = self._row_values(rows)
        values = tuple(
            (ValueKey(r.semester, r.reviewee, r.metric, f), v) for r in rows for f, v in sorted(row_values[r].items())
        )
        self.store.open_journal(
            JournalEntry(token, semester, format_time(self.clock()), text, values, name, self.commit)
        )
        self.hook("journaled", token)
        try:
            answer = self._ask(semester, token, name, json.loads(text)["imported_metrics"])
        except WaitAbandoned:
            self.store.settle_journal(token, outcome="not-sent")
            raise Stopped() from None
        if answer.kind == "known-token":
            assert isinstance(answer.error, DuplicateTokenError)
            if not answer.error.after_retry:  # a fresh random token cannot repeat: stop the semester, say so
                self.store.settle_journal(token, outcome="rejected 1580110")
                raise SemesterStopped(semester, answer.error)
            # An earlier attempt of this very request reached Feishu and its answer was lost. 1580110 says the
            # token is known, not that the attempt was accepted: only the rows read back can tell.
            verdict = self._read_back(semester, row_values)
            if verdict.kind != "held":
                self.store.settle_journal(token, outcome="not-landed" if verdict.kind == "absent" else "unconfirmed")
                if again:
                    raise SemesterStopped(semester, answer.error, note=f"twice unconfirmed ({verdict.why})")
                self._note(
                    semester,
                    f"a batch whose answer was lost was not confirmed ({verdict.why}): sent again under a new token",
                )
                return self._send(semester, rows, items, again=True)
        elif answer.kind in ("rejected", "refused"):
            assert answer.error is not None
            self.store.settle_journal(token, outcome=f"rejected {answer.error.code}")
            if answer.kind == "refused":
                raise SemesterStopped(semester, answer.error)
            return answer.rejection()
        self.hook("sent", token)
        self._record(semester, token, answer.record_id, row_values, self.commit, name)
        self.hook("recorded", token)
        return None

    def _row_values(self, rows: Sequence[RowKey]) -> dict[RowKey, dict[str, str]]:
        """The canonical values of rows this run sends (every managed field of each)."""
        return {r: {f: dv.value for f, dv in self._by_row.get(r, {}).items()} for r in rows}

    def _record(
        self,
        semester: str,
        token: str,
        record_id: str,
        rows: Mapping[RowKey, Mapping[str, str]],
        commit: str,
        name: str,
    ) -> None:
        self.store.record_batch(
            BatchRecord(
                semester=semester,
                client_token=token,
                import_record_id=record_id,
                commit=commit,
                import_record_name=name,
                time=self.clock(),
                rows=rows,
            )
        )
        values = sum(len(v) for v in rows.values())
        self.report.batches.append(Batch(semester, record_id, len(rows), values, token, settled=self._settling))
        if self._settling:  # an earlier run's batch: not counted as this plan's
            return
        self.report.rows_applied += len(rows)
        self.report.values_applied += values
        self.report.changes_applied += sum(self._changes[r] for r in rows)
        if rows.keys() <= self._by_row.keys():  # rows of this run's plan (not a settled batch of an earlier run)
            self._rows_done += len(rows)

    def _digest(self, row: RowKey) -> str:
        return sent_digest(self._by_row.get(row, {}), percentage_format=self.settings.target.percentage_format)

    def _quarantine(self, semester: str, culprit: Isolated[RowKey]) -> None:
        at = format_time(self.clock())
        info = describe(culprit.code)
        self.store.record_rejected(
            [Rejection(row, culprit.code, at, self._digest(row), culprit.message) for row in culprit.rows]
        )
        for row in culprit.rows:
            self.report.rejected.append(
                RejectedRow(
                    row, culprit.code, info.meaning, info.remedy, culprit.message, self.desired.rows.get(row), new=True
                )
            )
        self._rows_done += len(culprit.rows)
        self.progress(
            self._event(
                "rejected",
                semester,
                0,
                f"{plural(len(culprit.rows), 'row')} rejected with {culprit.code}: {info.meaning}",
            )
        )

    def _shared_stop(self, semester: str, rows: Sequence[RowKey], exc: SharedRefusal, *, requests: int) -> SharedStop:
        """Hold the refused batch's rows back (released when what would be sent changes: a settings fix does
        that) and say what to change."""
        metrics = {m.id: m for m in self.desired.catalog.metrics.values()}
        sent = sent_fields((metrics[r.metric], self._by_row.get(r, {}).keys()) for r in rows if r.metric in metrics)
        cause = likely_cause(exc.code, sent, percentage_format=self.settings.target.percentage_format)
        info = describe(exc.code)
        at = format_time(self.clock())
        message = f"{SHARED_REFUSAL}: {cause}"
        self.store.record_rejected([Rejection(row, exc.code, at, self._digest(row), message) for row in rows])
        for row in rows:
            self.report.rejected.append(
                RejectedRow(row, exc.code, info.meaning, cause, message, self.desired.rows.get(row), new=True)
            )
        self._rows_done += len(rows)
        return SharedStop(semester, exc.code, info.meaning, cause, len(rows), 0, requests)


class DurationReached(Exception):
    """--max-duration: the next request would end too late. Nothing is open: the state is consistent."""


class Stopped(Exception):
    """A stop was asked for (SIGINT, SIGTERM) and honoured between requests: the state is consistent."""


class SharedStopped(Exception):
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
