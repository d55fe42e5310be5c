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
from collections.abc import Mapping
from dataclasses import dataclass

from syncer.emulator import chat, rules
from syncer.emulator.clock import Clock, Sleep, system_clock, system_sleep
from syncer.emulator.envelope import (
    AUTH_BAD_SECRET,
    AUTH_INVALID_PARAM,
    AUTH_MSG,
    NOT_FOUND,
    RATE_LIMITED,
    TOKEN_INVALID,
    TOKEN_MALFORMED,
    TOKEN_MISSING,
    Response,
    dumps,
    echoed,
    envelope,
    error,
    ok,
    rate_limited,
)
from syncer.emulator.faults import FaultInjector, FaultPlan, ResponseLost
from syncer.emulator.loader import load_tenant
from syncer.emulator.ratelimit import SlidingWindowLimiter
from syncer.emulator.routes import ROUTES, Query, Route, parse_query
from syncer.emulator.scopes import MISSING_SCOPE, denied_message, missing_scopes
from syncer.emulator.store import ImportRecord, LogEntry, Store, StoredValue, Token, import_record
from syncer.emulator.tenant import Tenant

_TOKEN_SHAPE = re.compile(r"[tu]-[0-9A-Za-z_\-.]{4,256}")


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
        self.chat = chat.Chat()  # the chat endpoints' hooks, chats and the messages posted (syncer.emulator.chat)
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
        if method == "POST" and (path.startswith(chat.WEBHOOK_PREFIX) or path == chat.MESSAGES_PATH):
            return self._chat(path, q, h, body)
        route = ROUTES.get((method, path))
        with self._lock:
            self._seq += 1
            seq = self._seq
            plan = self.faults.plan(route.endpoint) if route else FaultPlan()
        if route is None:
            resp = envelope(seq, 404, {"code": NOT_FOUND, "msg": "404 page not found", "data": {}})
            self._log(seq, method, path, None, q, body, _Outcome(resp, None))
            return resp
        if plan.latency > 0:
            self._sleep(plan.latency)
        with self._lock:
            out = self._process(seq, route, q, h, body, plan)
            if out.code not in (None, 0, RATE_LIMITED) and self.faults.echoes(route.endpoint):
                out.response = echoed(out.response, body)  # a refusal quoting the request (`echo_body`)
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
                out.response = error(seq, 500, 1580101, rules.MSG[1580101], "injected after commit")
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

    def _chat(self, path: str, q: Mapping[str, str], h: Mapping[str, str], body: bytes) -> Response:
        endpoint = chat.MESSAGE if path == chat.MESSAGES_PATH else chat.WEBHOOK
        with self._lock:
            self._seq += 1
            seq, plan = self._seq, self.faults.plan(endpoint)
            auth = self._authenticate(h) if endpoint == chat.MESSAGE else None
            resp = self.chat.serve(path, q, body, auth=auth, fault=plan.pre, now=self._clock(), limiter=self._limiter)
            lose = resp.status == 200 and self.faults.after_success(endpoint, plan) == "lost_response"
        shown = path if endpoint == chat.MESSAGE else chat.WEBHOOK_PREFIX + "(token)"  # the token is a credential
        self._log(seq, "POST", shown, endpoint, q, body, _Outcome(resp, None, fault="lost_response" if lose else None))
        if lose:
            raise ResponseLost(endpoint)
        return resp

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
                return _Outcome(error(seq, 400, auth, AUTH_MSG[auth]), auth)
            app_id = auth
        windows = tenant.rate_limits.get(route.endpoint)
        decision = self._limiter.check(app_id or "", route.endpoint, windows.windows() if windows else ())
        if not decision.allowed:
            return _Outcome(rate_limited(seq, decision.limit, decision.reset), RATE_LIMITED, app_id)
        if plan.pre == "rate_limited":
            limit = windows.windows()[0][0] if windows and windows.windows() else 0
            o = _Outcome(rate_limited(seq, limit, plan.reset), RATE_LIMITED, app_id)
            o.fault = "rate_limited"
            return o
        if plan.pre == "refuse":
            o = _Outcome(error(seq, 400, plan.code, "refused on purpose (fault injection)"), plan.code, app_id)
            o.fault = "refuse"
            return o
        if plan.pre == "error":
            o = _Outcome(error(seq, 500, 1580101, rules.MSG[1580101], "injected"), 1580101, app_id)
            o.fault = "error"
            return o
        if route.endpoint == "auth.tenant_access_token":
            return self._issue(seq, body)
        lacking = missing_scopes(tenant.app.scopes, route.endpoint, q.get("user_id_type"))
        if lacking:
            return _Outcome(error(seq, 400, MISSING_SCOPE, denied_message(lacking)), MISSING_SCOPE, app_id)
        if route.performance and not tenant.licence:
            return _Outcome(
                _reject(seq, rules.Rejection(1580901, "the tenant has no performance licence")),
                1580901,
                app_id,
            )
        if route.endpoint == "metric_details.import":
            return self._import(seq, app_id or "", q, body)
        assert route.handler is not None
        result = route.handler(tenant, self._store, q, body)
        if isinstance(result, rules.Rejection):
            return _Outcome(_reject(seq, result), result.code, app_id)
        return _Outcome(ok(seq, result), 0, app_id, success=True)

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
            resp = envelope(seq, 200, {"code": AUTH_INVALID_PARAM, "msg": "invalid param"})
            return _Outcome(resp, AUTH_INVALID_PARAM)
        if data.get("app_secret") != app.app_secret:
            resp = envelope(seq, 200, {"code": AUTH_BAD_SECRET, "msg": "app secret invalid"})
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
        resp = envelope(seq, 200, {"code": 0, "msg": "ok", "tenant_access_token": token.token, "expire": expire})
        return _Outcome(resp, 0, app.app_id, success=True)

    def _import(self, seq: int, app_id: str, q: Mapping[str, str], body: bytes) -> _Outcome:
        tenant, store = self._tenant, self._store
        token = q.get("client_token") or None
        token_ok = token is not None and len(token) <= rules.MAX_CLIENT_TOKEN
        remember = tenant.switches.remember_rejected_tokens

        def reject(r: rules.Rejection) -> _Outcome:
            if remember and token_ok and r.code != 1580110:
                store.client_tokens.setdefault((app_id, token or ""), f"rejected:{r.code}")
            return _Outcome(_reject(seq, r), r.code, app_id, token)

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
        record = import_record(plan, record_id, now_ms)
        store.records.append(record)
        store.client_tokens[key] = record_id
        resp = ok(seq, {"import_record_id": record_id})
        return _Outcome(resp, 0, app_id, token, record=record, success=True)

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

    def add_hook(self, token: str, secret: str | None = None) -> None:
        """A custom bot webhook at /open-apis/bot/v2/hook/<token>, signed when `secret` is given."""
        with self._lock:
            self.chat.add_hook(token, secret)

    def add_chat(self, chat_id: str) -> None:
        with self._lock:
            self.chat.chats.add(chat_id)

    def chat_messages(self) -> list[chat.Message]:
        with self._lock:
            return list(self.chat.messages)

    def import_records(self) -> list[ImportRecord]:
        with self._lock:
            return list(self._store.records)

    def issue_token(self) -> str:
        """A valid tenant token for the tenant's app, without an HTTP round trip."""
        app = self._tenant.app
        body = dumps({"app_id": app.app_id, "app_secret": app.app_secret})
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
            self.chat = chat.Chat()
            self._limiter.reset()
            self.faults.clear()
            self.faults.configure(self._tenant.faults)

    def rate_count(self, endpoint: str, window: float = 60.0) -> int:
        with self._lock:
            return self._limiter.count(self._tenant.app.app_id, endpoint, window)


def _reject(seq: int, r: rules.Rejection) -> Response:
    return error(seq, r.http_status, r.code, r.msg, r.detail, r.field)
