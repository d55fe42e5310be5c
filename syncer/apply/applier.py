"""Sending a plan's changed rows to Feishu, paced and journaled, and recording them in the state.

The order of one batch is what makes a kill at any instant safe:

1. the batch (random client_token, exact body, keys and values) is written to the state's journal;
2. the request is sent (retries re-send the same body with the same token);
3. the accepted batch is recorded in the state, which settles its journal entry in the same write.

A run killed between 1 and 3 leaves an open journal entry; the next apply settles it before anything else
by re-sending the same body with the same token: an acceptance, or 1580110 (the earlier attempt landed,
confirmed by reading the rows back when the read API answers), is recorded as applied.

Rejected rows are isolated (syncer.apply.isolate) and quarantined in the state with their code; request-wide
codes stop the semester. Everything outside (client, store, clock, pacer) is passed in.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from syncer.apply.batching import ChangedRow, ImportRequest, build_requests
from syncer.apply.isolate import Isolated, Rejected, isolate
from syncer.apply.outcome import ApplyReport, Outcome, Progress, ProgressFn, RejectedRow, StepHook
from syncer.apply.preflight import READABLE_ID_TYPES
from syncer.errors import FeishuError, RefusedError, SyncerError
from syncer.feishu.codes import describe
from syncer.feishu.errors import DuplicateTokenError, FeishuAPIError, RevieweeRejected, RowRejected
from syncer.feishu.pacing import Pacer
from syncer.feishu.records import ImportedMetric, import_body
from syncer.feishu.write import WriteClient
from syncer.load.settings import Settings
from syncer.model import DesiredState, DesiredValue, RowKey, ValueKey
from syncer.plan.model import Plan
from syncer.plan.safety import check_safety
from syncer.state.model import BatchRecord, JournalEntry, Rejection, State, format_time, row_digest
from syncer.state.protocols import ApplyLog

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
        self.clock = clock
        self.timer = timer
        self.progress = progress or (lambda _p: None)
        self.hook = step_hook or (lambda _s, _t: None)
        self.report = ApplyReport()
        self._start = timer()
        self._rows_total = 0
        self._rows_done = 0
        # The desired fields of the rows this run sends, indexed once (a million values are not scanned
        # again for every request).
        self._by_row: dict[RowKey, dict[str, DesiredValue]] = {}

    # --- one request, and what Feishu said ---------------------------------------------------------------

    def _ask(self, semester: str, token: str, name: str, items: Sequence[ImportedMetric]) -> Answer:
        """Send one import under `token` and classify the answer. Codes that are neither a rejection nor a
        refusal (retries exhausted, the network) are raised: the journal entry stays open and the next apply
        settles it. The pacing mark is recorded whatever happened, once a request may have gone out."""
        try:
            record_id = self.client.import_metric_details(
                semester_id=semester,
                import_record_name=name,
                imported_metrics=items,
                client_token=token,
                user_id_type=self.settings.target.user_id_type,
                gate=self.pacer,
            )
        except DuplicateTokenError as exc:
            return Answer("known-token", error=exc)
        except (RowRejected, RevieweeRejected) as exc:
            return Answer("rejected", error=exc)
        except FeishuAPIError as exc:
            if exc.scope in ("request", "bug"):
                return Answer("refused", error=exc)
            raise
        finally:
            self._paced()
        return Answer("accepted", record_id)

    def _paced(self) -> None:
        last = self.pacer.last_request_at
        if last is not None:
            self.store.record_import_request(datetime.fromtimestamp(last, UTC))

    # --- settling the journal --------------------------------------------------------------------------

    def settle(self, state: State) -> None:
        """Settle every open journal entry left by a killed run: same body, same token."""
        for token, entry in sorted(state.journal.items(), key=lambda kv: kv[1].opened):
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
                    f"settled an interrupted batch ({len(entry.rows())} rows): {outcome}",
                )
            )

    def _settle_one(self, entry: JournalEntry) -> Outcome:
        body = json.loads(entry.body)
        rows = entry.rows()
        answer = self._ask(
            body["semester_id"], entry.client_token, body.get("import_record_name", ""), body["imported_metrics"]
        )
        if answer.kind == "known-token":
            if self._confirmed_by_reading(entry.semester, rows) is False:
                # The token is known but the values are not there: the earlier request was rejected (and
                # its token remembered). The rows stay changes for the plan; new tokens will carry them.
                self.store.settle_journal(entry.client_token, outcome="not-landed")
                return "not-landed"
            self._record(entry.semester, entry.client_token, "", rows, entry.commit, entry.import_record_name)
            return "landed-earlier"
        if answer.kind in ("rejected", "refused"):
            assert answer.error is not None
            self.store.settle_journal(entry.client_token, outcome=f"rejected {answer.error.code}")
            return "rejected"
        self._record(entry.semester, entry.client_token, answer.record_id, rows, entry.commit, entry.import_record_name)
        return "accepted"

    def _confirmed_by_reading(self, semester: str, rows: Mapping[RowKey, Mapping[str, str]]) -> bool | None:
        """Read the rows back: True if Feishu holds the values, False if not, None if it cannot tell.

        The read APIs return reviewees as {open_id, user_id} only: with union_id or people_admin_id the
        answer cannot be matched, so it cannot tell."""
        uid = self.settings.target.user_id_type
        if uid not in READABLE_ID_TYPES:
            return None
        try:
            remote = self.client.query_metric_details(
                semester_id=semester, reviewee_user_ids=sorted({r.reviewee for r in rows}), user_id_type=uid
            )
        except (FeishuError, SyncerError):
            return None
        held: dict[tuple[str, str, str], str] = {}
        for rm in remote:
            reviewee = rm.reviewee.get(uid) or ""
            for metric in rm.metrics:
                for f in metric.fields:
                    held[(reviewee, metric.metric_id, f.field_id)] = (
                        f.person.get(uid) or "" if f.person is not None else f.value or ""
                    )
        for row, values in rows.items():
            for fid, value in values.items():
                got = held.get((row.reviewee, row.metric, fid))
                if got is None or got.rstrip("%") != value.rstrip("%"):
                    return False
        return True

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
                    f"stopped managing {self.report.values_forgotten} values removed from the "
                    "YAML (they stay in Feishu as they are)",
                )
            )
        per_semester = plan.rows_by_semester()
        held = {q.row for q in plan.quarantined} | skip
        self.note_quarantined(plan)
        requests = self._requests(per_semester, state, held)
        self._rows_total = sum(len(r.rows) for r in requests)
        stopped: set[str] = set()
        for i, request in enumerate(requests):
            if request.semester_id in stopped:
                continue
            try:
                if self._would_overrun():
                    raise DurationReached()
                self._send_request(request, requests_left=len(requests) - i - 1)
            except SemesterStopped as exc:
                stopped.add(exc.semester)
                self.report.failures.append((exc.semester, exc.message))
            except DurationReached:
                self.report.stopped_early = True
                self.report.rows_left = max(0, self._rows_total - self._rows_done)
                self.progress(
                    self._event(
                        "stop",
                        request.semester_id,
                        len(requests) - i,
                        f"--max-duration reached: {self.report.rows_left} rows left for the next run",
                    )
                )
                break
        self.report.seconds = self.timer() - self._start
        return self.report

    def note_quarantined(self, plan: Plan) -> None:
        """List the rows held back because Feishu rejected them before and they have not changed."""
        known = {r.row for r in self.report.rejected}
        for q in plan.quarantined:
            if q.row not in known:
                info = describe(q.code)
                self.report.rejected.append(
                    RejectedRow(q.row, q.code, info.meaning, info.remedy, q.message, q.source, new=False)
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
        self, kind: Literal["batch", "rejected", "split", "stop"], semester: str, requests_left: int, message: str = ""
    ) -> Progress:
        return Progress(
            kind,
            semester,
            self._rows_done,
            self._rows_total,
            requests_left,
            self.pacer.eta(requests_left) if requests_left else 0.0,
            message,
        )

    def _send_request(self, request: ImportRequest, *, requests_left: int) -> None:
        items = dict(zip(request.rows, request.items, strict=True))
        semester = request.semester_id

        def send(rows: Sequence[RowKey]) -> Rejected | None:
            return self._send(semester, list(rows), [items[r] for r in rows])

        try:
            first = send(request.rows)
            if first is not None:
                self.progress(
                    self._event(
                        "split", semester, requests_left, f"batch rejected ({first.code}): isolating the rows at fault"
                    )
                )
                for culprit in isolate(request.rows, first, send):
                    self._quarantine(semester, culprit)
        except SemesterStopped as exc:
            self.progress(self._event("stop", semester, requests_left, exc.message))
            raise
        self.progress(self._event("batch", semester, requests_left))

    def _send(
        self, semester: str, rows: list[RowKey], items: list[ImportedMetric], *, retried: bool = False
    ) -> Rejected | None:
        """One import request, journaled: None when accepted, a Rejected for row/reviewee-level codes."""
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
        answer = self._ask(semester, token, name, json.loads(text)["imported_metrics"])
        if answer.kind == "known-token":
            assert isinstance(answer.error, DuplicateTokenError)
            if not answer.error.after_retry:  # a fresh random token cannot repeat: stop the semester, say so
                self.store.settle_journal(token, outcome="rejected 1580110")
                raise SemesterStopped(semester, answer.error)
            # An earlier attempt of this very request reached Feishu and its answer was lost. 1580110 says
            # the token is known; if Feishu also remembers the tokens of rejected requests, that attempt may
            # have been rejected: read the rows back before recording them.
            if self._confirmed_by_reading(semester, row_values) is False:
                self.store.settle_journal(token, outcome="not-landed")
                if retried:
                    raise SemesterStopped(semester, answer.error)
                return self._send(semester, rows, items, retried=True)  # once more, under a new token
        elif answer.kind in ("rejected", "refused"):
            assert answer.error is not None
            self.report.requests += 1
            self.store.settle_journal(token, outcome=f"rejected {answer.error.code}")
            if answer.kind == "refused":
                raise SemesterStopped(semester, answer.error)
            return answer.rejection()
        else:
            self.report.requests += 1
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
        self.report.accepted_batches.append((semester, record_id, len(rows)))
        self.report.rows_applied += len(rows)
        self.report.values_applied += sum(len(v) for v in rows.values())
        self._rows_done += len(rows)

    def _quarantine(self, semester: str, culprit: Isolated[RowKey]) -> None:
        at = format_time(self.clock())
        values = self._row_values(culprit.rows)
        info = describe(culprit.code)
        self.store.record_rejected(
            [Rejection(row, culprit.code, at, row_digest(values[row]), culprit.message) for row in culprit.rows]
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
                "rejected", semester, 0, f"{len(culprit.rows)} row(s) rejected with {culprit.code}: {info.meaning}"
            )
        )


class DurationReached(Exception):
    """--max-duration: the next request would end too late. Nothing is open: the state is consistent."""


class SemesterStopped(RefusedError):
    """A request-wide code stopped a semester's apply (never split)."""

    def __init__(self, semester: str, cause: FeishuAPIError) -> None:
        super().__init__(
            f"semester {semester}: Feishu refused the request with {cause.code} ({cause.meaning}); {cause.remedy}"
        )
        self.semester = semester
        self.cause = cause
