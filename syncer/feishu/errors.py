"""Failures of the Feishu API as `FeishuError` subclasses, one per scope of codes.py.

Messages never hold the app secret or a tenant token: the session scrubs the server's `msg` (and, with values
redacted, masks the values of the request it answers: syncer.feishu.echoes) before it gets here, and nothing
here formats a header or a request body.
"""

from __future__ import annotations

from syncer.errors import ConfigError, FeishuError
from syncer.feishu.codes import CODES, CodeInfo, Scope, describe
from syncer.text import safe


class MissingCredentialsError(ConfigError):
    """FEISHU_APP_ID or FEISHU_APP_SECRET is not set."""


class FeishuAPIError(FeishuError):
    """Feishu answered a request with a failure: a non-zero `code` (whatever the HTTP status) or an HTTP
    error status. Carries the code, the HTTP status, Feishu's own `msg` and the documented meaning,
    remedy and scope of the code."""

    def __init__(
        self,
        *,
        code: int | None,
        http_status: int | None,
        msg: str,
        endpoint: str,
        attempts: int = 1,
        log_id: str | None = None,
        note: str | None = None,
        violations: tuple[str, ...] = (),
        meaning: str | None = None,
        remedy: str | None = None,
    ) -> None:
        info = describe(code, http_status=http_status)
        if meaning is not None or remedy is not None:  # what this failure means here, over the code's table entry
            info = CodeInfo(meaning or info.meaning, remedy or info.remedy, info.scope)
        self.http_status = http_status
        self.msg = msg
        self.known = code in CODES  # documented: the meaning and remedy are syncer's own
        self.violations = violations  # the gateway's field_violations, as "field: description"
        self.meaning = info.meaning
        self.remedy = info.remedy
        self.scope: Scope = info.scope
        self.endpoint = endpoint
        self.attempts = attempts
        self.log_id = log_id
        super().__init__(
            _message(code, http_status, msg, endpoint, info, attempts, log_id, note, violations), code=code
        )

    @property
    def info(self) -> CodeInfo:
        return CodeInfo(self.meaning, self.remedy, self.scope)


def _message(
    code: int | None,
    http_status: int | None,
    msg: str,
    endpoint: str,
    info: CodeInfo,
    attempts: int,
    log_id: str | None,
    note: str | None,
    violations: tuple[str, ...] = (),
) -> str:
    what = [f"code {code}" if code is not None else "no code"]
    if http_status is not None:
        what.append(f"HTTP {http_status}")
    if msg:
        what.append(repr(msg))
    text = f"Feishu refused {endpoint} ({', '.join(what)}): {info.meaning}; {info.remedy}"
    if violations:
        text += f" (fields: {'; '.join(violations)})"
    if attempts > 1:
        text += f" (after {attempts} attempts)"
    if note:
        text += f". {note}"
    if log_id:
        text += f" [log id {log_id}]"
    return safe(text)  # the server's msg, violations and log id are the server's text: one inert line


class RequestRejected(FeishuAPIError):
    """The whole request (or the app, or the tenant) is refused: stop, don't split the batch."""


class AuthError(RequestRejected):
    """The tenant token could not be obtained, or Feishu kept refusing it after one refresh."""


class RateLimitedError(RequestRejected):
    """Still rate limited after the allowed number of waits."""


class RevieweeRejected(FeishuAPIError):
    """A reviewee's rows are refused (1580112, 1580304, 1580306): isolate that reviewee."""


class RowRejected(FeishuAPIError):
    """A row is refused (1580301-1580303, 1580305, 1580311, 1580312): isolate that row."""


class RequestBugError(FeishuAPIError):
    """The request holds a duplicate metric or field (1580307, 1580308): a syncer bug."""


class DuplicateTokenError(FeishuAPIError):
    """1580110: the client_token was used before. `after_retry` is true when an earlier attempt of this same
    call was sent and its outcome is unknown: then the earlier attempt landed."""

    after_retry: bool = False


class ServerError(FeishuAPIError):
    """HTTP 5xx or 1580101, still failing after the allowed number of attempts."""


class NetworkError(FeishuError):
    """The network to Feishu failed (connection, timeout, protocol), after the allowed attempts."""


class BadResponseError(FeishuError):
    """Feishu's answer is not the documented JSON (not JSON, no `code`, a missing or mistyped field)."""


_BY_SCOPE: dict[Scope, type[FeishuAPIError]] = {
    "request": RequestRejected,
    "reviewee": RevieweeRejected,
    "row": RowRejected,
    "retry": ServerError,
    "bug": RequestBugError,
    "duplicate-token": DuplicateTokenError,
}


def error_class(code: int | None, *, http_status: int | None) -> type[FeishuAPIError]:
    """The FeishuAPIError subclass for a failure, chosen by the scope of its code."""
    return _BY_SCOPE[describe(code, http_status=http_status).scope]
