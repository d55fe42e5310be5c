"""Settling the journal: every batch a killed run left open is sent again (same body, same token), and
what Feishu answers decides its outcome. An open entry may have landed, so only evidence settles it.
Accepted: recorded. The token already known (1580110): the rows are read back; only values seen there are
recorded (landed earlier); values seen not there close the entry unrecorded, its rows staying changes for
the plan; rows that cannot be read leave it open (Unconfirmed), since it may have landed.
Rejected or refused with a 1580xxx code: read back too (syncer.apply.request.landed_anyway), and closed as
rejected unless its values are there. Anything else (a rate limit, authentication, an unknown code, a 5xx,
the network) raises Unconfirmed and leaves the entry open: the apply stops before planning, so its rows
are never sent under a new token while it may have landed."""

from __future__ import annotations

import json

from syncer.apply.answer import Unconfirmed, ask
from syncer.apply.context import RunContext
from syncer.apply.outcome import Outcome, Progress, Stopped
from syncer.apply.request import landed_anyway, read_rows_back, record
from syncer.errors import StateWriteError
from syncer.feishu.pacing import WaitAbandoned
from syncer.state.model import JournalEntry, State
from syncer.text import plural


def settle(run: RunContext, state: State) -> None:
    """Settle every open journal entry, oldest first; a stop is honoured between entries (raises Stopped)."""
    run.settling = True
    try:
        for token, entry in sorted(state.journal.items(), key=lambda kv: kv[1].opened):
            if run.stop_asked():
                raise Stopped()
            try:
                outcome = settle_one(run, entry)
            except StateWriteError as exc:
                raise exc.telling(
                    f"the journal entry {token[:12]} left by an interrupted apply stays open and will be checked "
                    "again on the next run; nothing of this run's plan was sent"
                ) from exc
            run.report.settled.append((token, outcome))
            run.progress(
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
    finally:
        run.settling = False


def settle_one(run: RunContext, entry: JournalEntry) -> Outcome:
    """Send one journal entry again under its own token and settle it by the answer."""
    store = run.world.store
    body = json.loads(entry.body)
    rows = entry.rows()
    try:
        answer = ask(
            run,
            body["semester_id"],
            entry.client_token,
            body.get("import_record_name", ""),
            body["imported_metrics"],
            sent_before=True,
        )
    except WaitAbandoned:
        raise Stopped() from None
    if answer.kind == "known-token":
        verdict = read_rows_back(run, entry.semester, rows)
        if verdict.kind == "held":
            record(
                run, entry.semester, entry.client_token, "", rows, commit=entry.commit, name=entry.import_record_name
            )
            return "landed-earlier"
        if verdict.kind == "unknown":  # the token is known and the rows cannot be seen: it may have landed
            assert answer.error is not None
            raise Unconfirmed(entry.semester, entry.client_token, len(rows), answer.error, read_back=verdict.why)
        # The token is known and the values are not there: not recorded. The rows stay changes for the plan,
        # and go out again under new tokens.
        store.settle_journal(entry.client_token, outcome="not-landed")
        run.note(entry.semester, f"an interrupted batch was not confirmed ({verdict.why}): its rows are sent again")
        return "not-landed"
    if answer.kind in ("rejected", "refused"):
        assert answer.error is not None
        if landed_anyway(run, entry.semester, entry.client_token, rows, answer):
            record(
                run, entry.semester, entry.client_token, "", rows, commit=entry.commit, name=entry.import_record_name
            )
            return "landed-earlier"
        store.settle_journal(entry.client_token, outcome=f"rejected {answer.error.code}")
        return "rejected"
    record(
        run,
        entry.semester,
        entry.client_token,
        answer.record_id,
        rows,
        commit=entry.commit,
        name=entry.import_record_name,
    )
    return "accepted"
