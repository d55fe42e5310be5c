"""One import request under its client_token, and what Feishu said to it, classified: accepted, the token
already known (1580110), rows rejected, or the request refused. The pacing mark is recorded whatever
happened, once a request may have gone out.

When an earlier attempt under the token may have landed (its answer was lost, or it is a journal entry an
earlier run left open), only Feishu's import checks say anything about the token: a documented 1580xxx
code (1580110 among them). A rate limit, an authentication failure, a code syncer does not know, a 5xx or
the network after a lost answer raise Unconfirmed: the journal entry stays open for the next apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from syncer.apply.context import RunContext
from syncer.apply.isolate import Rejected
from syncer.apply.outcome import StopRequest
from syncer.errors import FeishuError, SyncerError
from syncer.feishu.errors import DuplicateTokenError, FeishuAPIError, RevieweeRejected, RowRejected
from syncer.feishu.pacing import Pacer
from syncer.feishu.records import ImportedMetric


class Answer(NamedTuple):
    """What Feishu said to one import request (the client's retries under its token included)."""

    kind: Literal["accepted", "known-token", "rejected", "refused"]
    record_id: str = ""
    error: FeishuAPIError | None = None
    maybe_landed: bool = False  # rejected or refused, but an earlier attempt under the token may have landed

    def rejection(self) -> Rejected:
        assert self.error is not None
        scope = "reviewee" if isinstance(self.error, RevieweeRejected) else "row"
        # Feishu's own `msg` is not kept: it could echo a value, and rejections are shown in plans.
        return Rejected(self.error.code or 0, scope, self.error.meaning)


class Unconfirmed(SyncerError):
    """An import that may have landed (an attempt's answer was lost, or an earlier run left its journal entry
    open) met a failure that says nothing about its token. Its journal entry stays open."""

    def __init__(self, semester: str, token: str, rows: int, cause: FeishuError, *, read_back: str = "") -> None:
        why = f"Feishu's last answer cannot tell ({cause})"
        if read_back:  # 1580110 says the token is known, not that it was accepted: only its rows can tell
            why = (
                f"Feishu knows its token ({cause}) and its rows could not be read back ({read_back}; if they never "
                f"can be, look in Feishu, and when its values are not there, `syncer state settle {token[:12]} "
                "--not-landed` closes the entry)"
            )
        super().__init__(
            f"semester {semester}: a batch of {rows} rows may have landed (an answer was lost) and {why}. "
            f"Its journal entry (client_token {token}) stays open: the next "
            "apply settles it first, re-sending it under the same token (recorded once Feishu accepts it, or "
            "answers 1580110 and the rows read back hold its values), before its rows are sent again"
        )
        self.semester = semester
        self.token = token
        self.cause = cause


def says_of_token(exc: FeishuError) -> bool:
    """Whether a failure comes from the import's own checks (a documented 1580xxx code), which see the token:
    a rate limit, authentication, a gateway's refusal, an unknown code, a 5xx or the network do not."""
    code = exc.code
    return (
        isinstance(exc, FeishuAPIError)
        and exc.known
        and code is not None
        and 1580000 <= code < 1590000
        and exc.scope != "retry"
    )


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


def ask(
    run: RunContext,
    semester: str,
    token: str,
    name: str,
    items: Sequence[ImportedMetric],
    *,
    sent_before: bool = False,
) -> Answer:
    """Send one import under `token` and classify the answer. Failures that are neither a rejection nor a
    refusal (retries exhausted, the network) are raised: the journal entry stays open and the next apply
    settles it. When the import may have landed (`sent_before`: an earlier run sent it; or an attempt's
    answer was lost), a failure that says nothing of the token raises Unconfirmed, and a rejection or refusal
    comes with `maybe_landed`. A stop asked during the first pacing wait raises WaitAbandoned (nothing was
    sent)."""
    world = run.world
    if run.first_request is None:
        run.first_request = world.timer()
    gate = _Gate(world.pacer, run.listeners.stop)
    try:
        record_id = world.client.import_metric_details(
            semester_id=semester,
            import_record_name=name,
            imported_metrics=items,
            client_token=token,
            user_id_type=run.options.settings.target.user_id_type,
            gate=gate,
        )
    except DuplicateTokenError as exc:
        return _answered(run, Answer("known-token", error=exc))
    except FeishuError as exc:
        maybe_landed = sent_before or exc.maybe_landed
        if maybe_landed and not says_of_token(exc):
            if isinstance(exc, FeishuAPIError):
                _answered(run, Answer("refused", error=exc))
            raise Unconfirmed(semester, token, len(items), exc) from None
        if isinstance(exc, (RowRejected, RevieweeRejected)):
            return _answered(run, Answer("rejected", error=exc, maybe_landed=maybe_landed))
        if isinstance(exc, FeishuAPIError) and exc.scope in ("request", "bug"):
            return _answered(run, Answer("refused", error=exc, maybe_landed=maybe_landed))
        raise
    else:  # counted before the pacing mark is written: a mark the state cannot take does not unsay the answer
        run.report.requests_accepted += 1
        return _answered(run, Answer("accepted", record_id))
    finally:
        _paced(run)


def _answered(run: RunContext, answer: Answer) -> Answer:
    run.report.requests += 1
    if run.settling:
        run.report.settle_requests += 1
    return answer


def _paced(run: RunContext) -> None:
    last = run.world.pacer.last_request_at
    if last is not None:
        run.world.store.record_import_request(datetime.fromtimestamp(last, UTC))
