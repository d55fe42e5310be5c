"""One planned import request, sent journaled and recorded; isolated when Feishu rejects it.

The order of one batch is what makes a kill at any instant safe:

1. the batch (random client_token, exact body, keys and values) is written to the state's journal;
2. the request is sent (retries re-send the same body with the same token);
3. the accepted batch is recorded in the state, which settles its journal entry in the same write.

A batch is recorded as applied only when Feishu said so (code 0) or when reading the rows back shows its
values. When an answer is lost and the retry gets 1580110, the token is known to Feishu but that does not
say the request was accepted (a refused request's token may be remembered too): the rows are read back, and
"cannot tell" counts as "not landed". Those rows go out again under a new token, and are isolated if
refused. Rejected rows are isolated (syncer.apply.isolate) and quarantined (syncer.apply.quarantine).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence

from syncer.apply.answer import Answer, Unconfirmed, ask
from syncer.apply.batching import ImportRequest
from syncer.apply.context import RunContext
from syncer.apply.isolate import Isolated, Rejected, SharedRefusal, isolate
from syncer.apply.outcome import Batch, DurationReached, SemesterStopped, SharedStopped, Stopped
from syncer.apply.quarantine import quarantine, set_aside, shared_stop
from syncer.apply.readback import Verdict, read_back
from syncer.errors import StateError, StateWriteError, SyncerError, UnstorableValue
from syncer.feishu.errors import DuplicateTokenError
from syncer.feishu.pacing import WaitAbandoned
from syncer.feishu.records import ImportedMetric, import_body
from syncer.model import RowKey, ValueKey
from syncer.state.model import BatchRecord, JournalEntry, format_time
from syncer.text import plural


def new_token() -> str:
    """A random client_token for one batch: never reused for other content (1-64 characters)."""
    return secrets.token_hex(16)


def send_request(run: RunContext, request: ImportRequest, *, requests_left: int) -> None:
    """Send one planned request; when Feishu rejects it, isolate the rows at fault and quarantine them.
    Raises SharedStopped when every probed part was refused alike (the rows not refused on their own left
    pending), SemesterStopped for request-wide codes."""
    items = dict(zip(request.rows, request.items, strict=True))
    semester = request.semester_id
    before = run.report.requests
    landed: set[RowKey] = set()

    def send_rows(rows: Sequence[RowKey]) -> Rejected | None:
        answer = send(run, semester, list(rows), [items[r] for r in rows])
        if answer is None:
            landed.update(rows)
        return answer

    found: list[Isolated[RowKey]] = []  # culprits, kept even when a stop ends the isolation half-way
    try:
        first = send_rows(request.rows)
        if first is not None:
            run.progress(
                run.event(
                    "split", semester, requests_left, f"batch rejected ({first.code}): isolating the rows at fault"
                )
            )
            isolate(request.rows, first, send_rows, detect_shared=True, found=found)
            for culprit in found:
                quarantine(run, semester, culprit)
    except (Stopped, DurationReached, SyncerError) as exc:
        if not isinstance(exc, StateError):
            for culprit in found:  # refused rows the isolation already pinned down: not sent again
                quarantine(run, semester, culprit)
        if isinstance(exc, SemesterStopped):
            run.progress(run.event("stop", semester, requests_left, exc.message))
        raise
    except SharedRefusal as exc:
        for culprit in found:  # the units refused on their own: only they are rejected
            quarantine(run, semester, culprit)
        refused = {r for c in found for r in c.rows}
        pending = [r for r in request.rows if r not in refused and r not in landed]
        stop = shared_stop(
            run,
            semester,
            request.rows,
            exc,
            rejected=len(refused),
            pending=len(pending),
            requests=run.report.requests - before,
        )
        run.progress(
            run.event(
                "stop",
                semester,
                requests_left,
                f"semester {semester} stopped: every probed part of a batch was refused alike with {exc.code}; "
                f"{plural(len(pending), 'row')} not refused on their own left pending for the next apply",
            )
        )
        raise SharedStopped(stop) from None
    run.progress(run.event("batch", semester, requests_left))


def send(
    run: RunContext, semester: str, rows: list[RowKey], items: list[ImportedMetric], *, again: bool = False
) -> Rejected | None:
    """One import request, journaled: None when recorded as applied, a Rejected for row- and
    reviewee-level codes."""
    if run.stop_asked():
        raise Stopped()
    if run.would_overrun():
        raise DurationReached()
    store = run.world.store
    token = new_token()
    name = run.options.record_name
    text = _body_text(semester, name, items)
    row_values = _row_values(run, rows)
    values = tuple(
        (ValueKey(r.semester, r.reviewee, r.metric, f), v) for r in rows for f, v in sorted(row_values[r].items())
    )
    try:
        store.open_journal(
            JournalEntry(token, semester, format_time(run.world.clock()), text, values, name, run.options.commit)
        )
    except StateWriteError as exc:
        raise exc.telling(f"{recorded(run)}; the next batch was not sent") from exc
    run.step("journaled", token)
    try:
        return _sent(run, semester, rows, items, token, text, row_values, again=again)
    except StateWriteError as exc:
        raise exc.telling(
            f"{recorded(run)}; the batch in flight is kept open in the journal and will be checked on the next run"
        ) from exc


def recorded(run: RunContext) -> str:
    """What an apply stopped by a state write has recorded, in words."""
    batches = run.report.plan_batches
    return f"{plural(len(batches), 'batch', 'batches')} of this apply {'is' if len(batches) == 1 else 'are'} recorded"


def _sent(
    run: RunContext,
    semester: str,
    rows: list[RowKey],
    items: list[ImportedMetric],
    token: str,
    text: str,
    row_values: dict[RowKey, dict[str, str]],
    *,
    again: bool,
) -> Rejected | None:
    """The rest of `send` once the journal entry of `token` and `text` is written: send, settle or record."""
    store = run.world.store
    name = run.options.record_name
    try:
        answer = ask(run, semester, token, name, json.loads(text)["imported_metrics"])
    except WaitAbandoned:
        store.settle_journal(token, outcome="not-sent")
        raise Stopped() from None
    if answer.kind == "known-token":
        assert isinstance(answer.error, DuplicateTokenError)
        if not answer.error.after_retry:  # a fresh random token cannot repeat: stop the semester, say so
            store.settle_journal(token, outcome="rejected 1580110")
            raise SemesterStopped(semester, answer.error)
        # An earlier attempt of this very request reached Feishu and its answer was lost. 1580110 says the
        # token is known, not that the attempt was accepted: only the rows read back can tell.
        verdict = read_rows_back(run, semester, row_values)
        if verdict.kind == "unknown":  # it may have landed: the entry stays open, nothing is sent again
            raise Unconfirmed(semester, token, len(rows), answer.error, read_back=verdict.why)
        if verdict.kind == "absent":
            store.settle_journal(token, outcome="not-landed")
            if again:
                raise SemesterStopped(semester, answer.error, note=f"twice unconfirmed ({verdict.why})")
            run.note(
                semester,
                f"a batch whose answer was lost was not confirmed ({verdict.why}): sent again under a new token",
            )
            return send(run, semester, rows, items, again=True)
    elif answer.kind in ("rejected", "refused") and not landed_anyway(run, semester, token, row_values, answer):
        assert answer.error is not None
        store.settle_journal(token, outcome=f"rejected {answer.error.code}")
        if answer.kind == "refused":
            raise SemesterStopped(semester, answer.error)
        return answer.rejection()
    run.step("sent", token)
    record(run, semester, token, answer.record_id, row_values, commit=run.options.commit, name=name)
    run.step("recorded", token)
    return None


def landed_anyway(
    run: RunContext, semester: str, token: str, rows: Mapping[RowKey, Mapping[str, str]], answer: Answer
) -> bool:
    """Whether a rejected or refused import landed all the same: only when an earlier attempt under its token
    may have (`answer.maybe_landed`) and the rows read back hold its values. Values not there: not landed. When
    the rows cannot be read, a row- or reviewee-level code still says not landed (Feishu judged the rows, and
    answers a token it accepted with 1580110); a request-wide one cannot tell, and raises Unconfirmed (the
    journal entry stays open for the next apply)."""
    if not answer.maybe_landed:
        return False
    verdict = read_rows_back(run, semester, rows)
    if verdict.kind == "held":
        run.note(semester, "a batch whose answer was lost had landed (its values read back): recorded")
        return True
    if verdict.kind == "unknown" and answer.kind == "refused":
        assert answer.error is not None
        raise Unconfirmed(semester, token, len(rows), answer.error)
    return False


def read_rows_back(run: RunContext, semester: str, rows: Mapping[RowKey, Mapping[str, str]]) -> Verdict:
    """Whether Feishu holds what a batch sent, read back (syncer.apply.readback)."""
    settings = run.options.settings
    return read_back(run.world.client, run.options.desired.catalog, semester, rows, settings.target.user_id_type)


def record(
    run: RunContext,
    semester: str,
    token: str,
    record_id: str,
    rows: Mapping[RowKey, Mapping[str, str]],
    *,
    commit: str,
    name: str,
) -> None:
    """Record an accepted batch in the state (its journal entry settled in the same write) and count it. A row
    the backend cannot hold (UnstorableValue) is set aside first (syncer.apply.quarantine.set_aside) and the
    rest recorded: the batch landed, so nothing of it is sent again, and nothing unstored is called applied."""
    rows = dict(rows)
    while True:
        try:
            run.world.store.record_batch(
                BatchRecord(
                    semester=semester,
                    client_token=token,
                    import_record_id=record_id,
                    commit=commit,
                    import_record_name=name,
                    time=run.world.clock(),
                    rows=rows,
                )
            )
            break
        except UnstorableValue as exc:  # the batch is recorded all the same (it landed), with fewer rows or none
            set_aside(run, token, dict(rows.pop(exc.key.row)), exc)
    report = run.report
    values = sum(len(v) for v in rows.values())
    report.batches.append(Batch(semester, record_id, len(rows), values, token, settled=run.settling))
    if run.settling:  # an earlier run's batch: not counted as this plan's
        return
    report.rows_applied += len(rows)
    report.values_applied += values
    report.changes_applied += sum(run.changes[r] for r in rows)
    if rows.keys() <= run.by_row.keys():  # rows of this run's plan (not a settled batch of an earlier run)
        run.rows_done += len(rows)


def _body_text(semester: str, name: str, items: Sequence[ImportedMetric]) -> str:
    body = import_body(semester_id=semester, import_record_name=name, imported_metrics=list(items))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _row_values(run: RunContext, rows: Sequence[RowKey]) -> dict[RowKey, dict[str, str]]:
    """The canonical values of rows this run sends (every managed field of each)."""
    return {r: {f: dv.value for f, dv in run.by_row.get(r, {}).items()} for r in rows}
