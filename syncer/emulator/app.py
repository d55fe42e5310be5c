"""The emulator core: a plain object with one entry point, no sockets.

    emu = Emulator()                       # the default tenant, the real clock
    status, headers, body = emu.handle("POST", "/open-apis/...", {"client_token": "..."}, headers, body)

`handle` routes the request and answers it as Feishu would: auth (tenant tokens), rate limits, faults,
the licence, then the endpoint (`rules` for the import, `reads` for the rest). The envelope is
`{"code", "msg", "data"}`; HTTP statuses are the documented ones. The same object serves the in-process
httpx transport (`transport.py`) and the loopback HTTP server (`server.py`); a lock keeps it consistent
across threads. Paths under `/_emulator/` are the test interface (`admin.py`), never Feishu's.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from syncer.emulator import reads, rules
from syncer.emulator.clock import Clock, Sleep, system_clock, system_sleep
from syncer.emulator.faults import FaultInjector, FaultPlan, ResponseLost
from syncer.emulator.loader import load_tenant
from syncer.emulator.ratelimit import SlidingWindowLimiter
from syncer.emulator.store import ImportRecord, LogEntry, Store, StoredValue, Token
from syncer.emulator.tenant import Tenant

JSON_TYPE = "application/json; charset=utf-8"
RATE_LIMITED = 99991400
TOKEN_MISSING = 99991661
TOKEN_INVALID = 99991663
TOKEN_MALFORMED = 99991671
AUTH_INVALID_PARAM = 10003
AUTH_BAD_SECRET = 10014
NOT_FOUND = 404  # paths the emulator does not serve: a JSON envelope, as clients expect from Feishu
AUTH_MSG = {
    TOKEN_MISSING: "Missing access token for authorization. Please make a request with token attached.",
    TOKEN_INVALID: "Invalid access token for authorization. Please make a request with token attached.",
    TOKEN_MALFORMED: "Invalid access token format. The token must look like 't-...'.",
}
_TOKEN_SHAPE = re.compile(r"[tu]-[0-9A-Za-z_\-.]{4,256}")

Query = str | Mapping[str, str] | Sequence[tuple[str, str]] | None


class Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Handler = Callable[[Tenant, Store, Mapping[str, str], bytes], "reads.Data | rules.Rejection"]


@dataclass(frozen=True, slots=True)
class Route:
    endpoint: str
    performance: bool  # subject to the licence
    handler: Handler | None  # None: handled by the emulator itself


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal"): Route("auth.tenant_access_token", False, None),
    ("POST", "/open-apis/performance/v2/metric_details/import"): Route("metric_details.import", True, None),
    ("POST", "/open-apis/performance/v2/metric_details/query"): Route(
        "metric_details.query", True, reads.metric_details_query
    ),
    ("POST", "/open-apis/performance/v2/metric_fields/query"): Route(
        "metric_fields.query", True, reads.metric_fields_query
    ),
    ("POST", "/open-apis/performance/v2/metric_libs/query"): Route("metric_libs.query", True, reads.metric_libs_query),
    ("POST", "/open-apis/performance/v2/reviewees/query"): Route("reviewees.query", True, reads.reviewees_query),
    ("GET", "/open-apis/performance/v1/semesters"): Route("semesters.list", True, reads.semesters_list),
    ("POST", "/open-apis/contact/v3/users/batch_get_id"): Route("users.batch_get_id", False, reads.batch_get_id),
}


@dataclass(slots=True)
class _Outcome:
    """What processing decided, before the response leaves (post-commit faults may still change it)."""

    response: Response
    code: int | None
    app_id: str | None = None
    client_token: str | None = None
    record: ImportRecord | None = None
    success: bool = False
    fault: str | None = None


def _dumps(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a test's hostile message): JSON's own escapes carry it
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def parse_query(query: Query) -> dict[str, str]:
    """The first value of each parameter."""
    if query is None:
        return {}
    pairs = (
        parse_qsl(query, keep_blank_values=True)
        if isinstance(query, str)
        else (list(query.items()) if isinstance(query, Mapping) else list(query))
    )
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(str(k), str(v))
    return out


class Emulator:
    """A Feishu tenant in memory. Thread-safe; every public method may be called from any thread.

    `tenant`: a `Tenant` (default: the shipped default tenant). `clock`/`sleep`: time, injectable (see
    `ManualClock`). `import_per_minute`: overrides the import's rate limit (like the CLI flag)."""

    def __init__(
        self,
        tenant: Tenant | None = None,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        import_per_minute: int | None = None,
    ) -> None:
        tenant = tenant if tenant is not None else load_tenant()
        if import_per_minute is not None:
            tenant = tenant.with_rate_limit("metric_details.import", per_minute=import_per_minute)
        self._tenant = tenant
        self._clock = clock or system_clock
        self._sleep = sleep or system_sleep
        self._lock = threading.RLock()
        self._store = Store(tenant)
        self._limiter = SlidingWindowLimiter(self._clock)
        self.faults = FaultInjector(tenant.faults)
        self._seq = 0

    # -- the entry point -------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        """Answer one HTTP request. Raises `ResponseLost` when a fault drops the response (the request
        was processed) and lets exceptions of commit hooks through (a simulated crash)."""
        if "?" in path:
            path, _, qs = path.partition("?")
            merged = parse_query(qs)
            merged.update(parse_query(query))
            q = merged
        else:
            q = parse_query(query)
        h = {k.lower(): v for k, v in (headers or {}).items()}
        method = method.upper()
        if path == "/_emulator" or path.startswith("/_emulator/"):
            from syncer.emulator.admin import handle_admin

            return handle_admin(self, method, path, q, body)
        route = ROUTES.get((method, path))
        with self._lock:
            self._seq += 1
            seq = self._seq
            plan = self.faults.plan(route.endpoint) if route else FaultPlan()
        if route is None:
            resp = self._envelope(seq, 404, {"code": NOT_FOUND, "msg": "404 page not found", "data": {}})
            self._log(seq, method, path, None, q, body, _Outcome(resp, None))
            return resp
        if plan.latency > 0:
            self._sleep(plan.latency)
        with self._lock:
            out = self._process(seq, route, q, h, body, plan)
            hold = self.faults.take_hold(route.endpoint) if out.success else None
            post = self.faults.after_success(route.endpoint, plan) if out.success else None
        lose = False
        try:
            if hold is not None:
                lose = hold._park(out.record)
            if out.record is not None:
                for hook in self.faults.hooks():
                    hook(out.record)
            if post == "error_after_commit":
                out.response = self._error(seq, 500, 1580101, rules.MSG[1580101], "injected after commit")
                out.code, out.fault = 1580101, post
            elif post == "lost_response" or lose:
                lose, out.fault = True, "lost_response"
        except BaseException:
            out.fault = "crash_in_commit_hook"
            raise
        finally:
            self._log(seq, method, path, route.endpoint, q, body, out)
        if lose:
            raise ResponseLost(route.endpoint, out.record)
        return out.response

    # -- processing (under the lock) -------------------------------------------------------------------

    def _process(
        self, seq: int, route: Route, q: Mapping[str, str], h: Mapping[str, str], body: bytes, plan: FaultPlan
    ) -> _Outcome:
        tenant = self._tenant
        if route.endpoint == "auth.tenant_access_token":
            app_id: str | None = tenant.app.app_id
        else:
            auth = self._authenticate(h)
            if isinstance(auth, int):
                return _Outcome(self._error(seq, 400, auth, AUTH_MSG[auth]), auth)
            app_id = auth
        windows = tenant.rate_limits.get(route.endpoint)
        decision = self._limiter.check(app_id or "", route.endpoint, windows.windows() if windows else ())
        if not decision.allowed:
            return _Outcome(self._rate_limited(seq, decision.limit, decision.reset), RATE_LIMITED, app_id)
        if plan.pre == "rate_limited":
            limit = windows.windows()[0][0] if windows and windows.windows() else 0
            o = _Outcome(self._rate_limited(seq, limit, plan.reset), RATE_LIMITED, app_id)
            o.fault = "rate_limited"
            return o
        if plan.pre == "error":
            o = _Outcome(self._error(seq, 500, 1580101, rules.MSG[1580101], "injected"), 1580101, app_id)
            o.fault = "error"
            return o
        if route.endpoint == "auth.tenant_access_token":
            return self._issue(seq, body)
        if route.performance and not tenant.licence:
            return _Outcome(
                self._reject(seq, rules.Rejection(1580901, "the tenant has no performance licence")),
                1580901,
                app_id,
            )
        if route.endpoint == "metric_details.import":
            return self._import(seq, app_id or "", q, body)
        assert route.handler is not None
        result = route.handler(tenant, self._store, q, body)
        if isinstance(result, rules.Rejection):
            return _Outcome(self._reject(seq, result), result.code, app_id)
        return _Outcome(self._ok(seq, result), 0, app_id, success=True)

    def _authenticate(self, h: Mapping[str, str]) -> str | int:
        """The app of the request's tenant token, or the error code."""
        header = h.get("authorization", "").strip()
        if not header:
            return TOKEN_MISSING
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer":
            return TOKEN_MALFORMED
        if not token:
            return TOKEN_MISSING
        if not _TOKEN_SHAPE.fullmatch(token):
            return TOKEN_MALFORMED
        known = self._store.tokens.get(token)
        if known is None or known.expires_at <= self._clock():
            return TOKEN_INVALID
        return known.app_id

    def _issue(self, seq: int, body: bytes) -> _Outcome:
        app = self._tenant.app
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("app_id"), str) or data.get("app_id") != app.app_id:
            resp = self._envelope(seq, 200, {"code": AUTH_INVALID_PARAM, "msg": "invalid param"})
            return _Outcome(resp, AUTH_INVALID_PARAM)
        if data.get("app_secret") != app.app_secret:
            resp = self._envelope(seq, 200, {"code": AUTH_BAD_SECRET, "msg": "app secret invalid"})
            return _Outcome(resp, AUTH_BAD_SECRET, app.app_id)
        now = self._clock()
        current = self._store.tokens.get(self._store.latest_token.get(app.app_id, ""))
        if current is not None and current.expires_at - now >= app.token_refresh_window_seconds:
            token = current
        else:
            token = Token("t-" + secrets.token_hex(20), app.app_id, now + app.token_ttl_seconds)
            self._store.tokens[token.token] = token
            self._store.latest_token[app.app_id] = token.token
        expire = max(0, int(token.expires_at - now))
        resp = self._envelope(seq, 200, {"code": 0, "msg": "ok", "tenant_access_token": token.token, "expire": expire})
        return _Outcome(resp, 0, app.app_id, success=True)

    def _import(self, seq: int, app_id: str, q: Mapping[str, str], body: bytes) -> _Outcome:
        tenant, store = self._tenant, self._store
        token = q.get("client_token") or None
        token_ok = token is not None and len(token) <= rules.MAX_CLIENT_TOKEN
        remember = tenant.switches.remember_rejected_tokens

        def reject(r: rules.Rejection) -> _Outcome:
            if remember and token_ok and r.code != 1580110:
                store.client_tokens.setdefault((app_id, token or ""), f"rejected:{r.code}")
            return _Outcome(self._reject(seq, r), r.code, app_id, token)

        parsed = rules.parse_import(q, body, tenant.switches)
        if isinstance(parsed, rules.Rejection):
            return reject(parsed)
        key = (app_id, parsed.client_token)
        if key in store.client_tokens:
            return reject(rules.Rejection(1580110, "this client_token was used before", "client_token"))
        now_ms = int(self._clock() * 1000)
        record_id = str(store.next_record_id)
        plan = rules.check_import(tenant, store, parsed, now_ms=now_ms, record_id=record_id)
        if isinstance(plan, rules.Rejection):
            return reject(plan)
        # Commit: all rows of the request, or (above) none.
        store.new_record_id()
        for open_id, metric_id, row in plan.new_rows:
            store.replace_row(parsed.semester_id, open_id, metric_id, row)
        record = rules_record(plan, record_id, now_ms)
        store.records.append(record)
        store.client_tokens[key] = record_id
        resp = self._ok(seq, {"import_record_id": record_id})
        return _Outcome(resp, 0, app_id, token, record=record, success=True)

    # -- responses ---------------------------------------------------------------------------------------

    def _envelope(
        self, seq: int, status: int, payload: Mapping[str, Any], extra: Mapping[str, str] | None = None
    ) -> Response:
        headers = {
            "Content-Type": JSON_TYPE,
            "X-Tt-Logid": self._log_id(seq),
            "X-Request-Id": self._log_id(seq),
        }
        headers.update(extra or {})
        return Response(status, headers, _dumps(payload))

    def _ok(self, seq: int, data: Mapping[str, Any]) -> Response:
        return self._envelope(seq, 200, {"code": 0, "msg": "success", "data": data})

    def _error(
        self, seq: int, status: int, code: int, msg: str, detail: str | None = None, field: str | None = None
    ) -> Response:
        error: dict[str, Any] = {"log_id": self._log_id(seq)}
        if detail:
            error["details"] = [{"key": "reason", "value": detail}]
        if field:
            error["field_violations"] = [{"field": field, "description": detail or msg}]
        return self._envelope(seq, status, {"code": code, "msg": msg, "data": {}, "error": error})

    def _reject(self, seq: int, r: rules.Rejection) -> Response:
        return self._error(seq, r.http_status, r.code, r.msg, r.detail, r.field)

    def _rate_limited(self, seq: int, limit: int, reset: int) -> Response:
        headers = {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(reset)}
        payload = {"code": RATE_LIMITED, "msg": "request trigger frequency limit", "data": {}}
        return self._envelope(seq, 429, payload, headers)

    @staticmethod
    def _log_id(seq: int) -> str:
        return f"20260101000000EMULATOR{seq:010d}"

    def _log(
        self,
        seq: int,
        method: str,
        path: str,
        endpoint: str | None,
        q: Mapping[str, str],
        body: bytes,
        out: _Outcome,
    ) -> None:
        text = body.decode("utf-8", "replace")
        if endpoint == "auth.tenant_access_token":
            text = "(credentials redacted)"
        entry = LogEntry(
            seq=seq,
            time=self._clock(),
            method=method,
            path=path,
            endpoint=endpoint,
            client_token=q.get("client_token"),
            status=out.response.status,
            code=out.code,
            fault=out.fault,
            app_id=out.app_id,
            body=text,
        )
        with self._lock:
            self._store.log.append(entry)

    # -- the Python inspection API -----------------------------------------------------------------------

    @property
    def tenant(self) -> Tenant:
        return self._tenant

    @property
    def clock(self) -> Clock:
        return self._clock

    def requests(self, endpoint: str | None = None) -> list[LogEntry]:
        """The request log, oldest first (optionally of one endpoint, e.g. "metric_details.import")."""
        with self._lock:
            return [e for e in self._store.log if endpoint is None or e.endpoint == endpoint]

    def values(self, semester_id: str | None = None) -> list[StoredValue]:
        """Every stored value (admin-entered and imported), sorted by semester, reviewee, metric, field."""
        with self._lock:
            return list(self._store.iter_values(semester_id))

    def value(self, semester_id: str, reviewee_open_id: str, metric_id: str, field_id: str) -> StoredValue | None:
        with self._lock:
            return self._store.row(semester_id, reviewee_open_id, metric_id).get(field_id)

    def import_records(self) -> list[ImportRecord]:
        with self._lock:
            return list(self._store.records)

    def issue_token(self) -> str:
        """A valid tenant token for the tenant's app, without an HTTP round trip."""
        app = self._tenant.app
        body = _dumps({"app_id": app.app_id, "app_secret": app.app_secret})
        with self._lock:
            out = self._issue(0, body)
        token: str = json.loads(out.response.body)["tenant_access_token"]
        return token

    def expire_tokens(self) -> int:
        """Make every issued tenant token expired (the next call answers 99991663); returns how many."""
        with self._lock:
            n = len(self._store.tokens)
            self._store.tokens.clear()
            self._store.latest_token.clear()
            return n

    def reset(self) -> None:
        """Back to the tenant as loaded: values, records, tokens, client tokens, the log, rate windows and
        scripted faults are cleared (admin-entered values come back), and the random-fault settings are the
        tenant file's again."""
        with self._lock:
            self._store = Store(self._tenant)
            self._limiter.reset()
            self.faults.clear()
            self.faults.configure(self._tenant.faults)

    def rate_count(self, endpoint: str, window: float = 60.0) -> int:
        with self._lock:
            return self._limiter.count(self._tenant.app.app_id, endpoint, window)


def rules_record(plan: rules.ImportPlan, record_id: str, now_ms: int) -> ImportRecord:
    p = plan.parsed
    return ImportRecord(
        import_record_id=record_id,
        semester_id=p.semester_id,
        name=p.name,
        created_at=now_ms,
        client_token=p.client_token,
        user_id_type=p.user_id_type,
        rows=plan.rows,
    )
