"""Every error code of docs/feishu-api.md: what it means, what the user must do, and how far it reaches.

The scope decides what `apply` does with a failure:

- ``request``: the whole request is wrong (or the tenant/app is); stop the semester, never split the batch.
- ``reviewee``: one reviewee's rows are refused; isolate them, the rest applies.
- ``row``: one row is refused; isolate it, the rest applies.
- ``retry``: transient; the client retries it with the same client_token.
- ``bug``: syncer built a request it must never build.
- ``duplicate-token``: the client_token was seen before; on a retry of the same body it means an earlier
  attempt landed (the original result is not replayed).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Scope = Literal["request", "reviewee", "row", "retry", "bug", "duplicate-token"]


class CodeInfo(NamedTuple):
    meaning: str
    remedy: str
    scope: Scope


DUPLICATE_TOKEN = 1580110
RATE_LIMITED = 99991400
# The tenant token is missing, invalid or malformed: drop it, fetch a new one, retry once.
REAUTH_CODES = frozenset({99991661, 99991663, 99991671})

CODES: dict[int, CodeInfo] = {
    # metric_details/import (the import endpoint's documentation page)
    1580101: CodeInfo("internal error on Feishu's side", "retry later", "retry"),
    1580102: CodeInfo("a request parameter is invalid (type or size)", "fix the request", "request"),
    1580105: CodeInfo("the semester ID does not exist", "fix the semester ID in catalog.yaml", "request"),
    1580110: CodeInfo(
        "client_token repeated: a request with this token was received before",
        "a retry of a batch whose earlier attempt Feishu received (not necessarily accepted): syncer reads the "
        "values back before recording anything; never reuse a token for different content",
        "duplicate-token",
    ),
    1580112: CodeInfo(
        "no data permission for this reviewee", "widen the app's reviewee data scope in Feishu", "reviewee"
    ),
    1580301: CodeInfo("a field value has the wrong type", "fix the value", "row"),
    1580302: CodeInfo("a required field value is empty", "fill it in", "row"),
    1580303: CodeInfo("a field value is too long", "shorten it", "row"),
    1580304: CodeInfo(
        "the sum of this reviewee's metric weights is over 100%",
        "fix the weights of that reviewee (Feishu counts metrics the YAML may not hold)",
        "reviewee",
    ),
    1580305: CodeInfo("the field ID is not part of that metric", "fix the field in catalog.yaml", "row"),
    1580306: CodeInfo(
        "the reviewee is not in the evaluation, or its project has not started",
        "check the reviewee and the semester",
        "reviewee",
    ),
    1580307: CodeInfo(
        "the same metric twice for one reviewee in the request",
        "this is a syncer bug: please report it",
        "bug",
    ),
    1580308: CodeInfo(
        "the same field twice in one metric in the request", "this is a syncer bug: please report it", "bug"
    ),
    1580309: CodeInfo(
        "the input deadline of the semester has passed",
        "nothing can be done through the API; mark the semester closed in catalog.yaml",
        "request",
    ),
    1580310: CodeInfo("old-version metrics cannot be imported", "nothing can be done through the API", "request"),
    1580311: CodeInfo(
        "a value entered by an admin cannot be overwritten",
        "drop the field from the YAML or ask the admin",
        "row",
    ),
    1580312: CodeInfo(
        "the reviewee's metric was not found",
        "check the metric ID in catalog.yaml, and that the metric is in the reviewee's metric template",
        "row",
    ),
    1580901: CodeInfo(
        "the tenant has no performance licence", "ask the tenant admin to enable Performance seats", "request"
    ),
    # auth and gateway
    10003: CodeInfo(
        "the tenant_access_token request was refused (invalid parameters)",
        "check FEISHU_APP_ID and FEISHU_APP_SECRET",
        "request",
    ),
    10014: CodeInfo(
        "the app secret is invalid",
        "set FEISHU_APP_SECRET to the app secret of the app in FEISHU_APP_ID (developer console: Credentials)",
        "request",
    ),
    99991672: CodeInfo(
        "the app lacks a permission (scope) this API needs",
        "grant the permission Feishu names in its message to the app in the developer console, and publish a "
        "new version of the app",
        "request",
    ),
    99992402: CodeInfo(
        "the request failed the gateway's field validation",
        "fix the fields it names; this is a bug in syncer if the request came from syncer: please report it",
        "request",
    ),
    RATE_LIMITED: CodeInfo(
        "request trigger frequency limit (rate limited)",
        "wait and run again; another job may be sharing the app's quota",
        "request",
    ),
    99991661: CodeInfo("the tenant access token is missing", "check FEISHU_APP_ID and FEISHU_APP_SECRET", "request"),
    99991663: CodeInfo("the tenant access token is invalid", "check FEISHU_APP_ID and FEISHU_APP_SECRET", "request"),
    99991671: CodeInfo("the tenant access token is malformed", "check FEISHU_APP_ID and FEISHU_APP_SECRET", "request"),
}

_SERVER_ERROR = CodeInfo("Feishu answered with a server error", "retry later", "retry")
_UNKNOWN = CodeInfo("an error code syncer does not know", "read Feishu's message; report it if it persists", "request")


def describe(code: int | None, *, http_status: int | None = None) -> CodeInfo:
    """The table entry for `code`; an HTTP 5xx without a known code is retryable; anything else unknown is
    request-wide (the safe reading: stop, never split)."""
    if code is not None and code in CODES:
        return CODES[code]
    if http_status is not None and http_status >= 500:
        return _SERVER_ERROR
    return _UNKNOWN
