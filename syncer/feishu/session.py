"""The HTTP core under both clients: tenant token, envelope check, retries, rate-limit waits.

One call = one logical request. Everything that makes up the request (path, query, body, and so the
client_token a caller put in the query) is fixed before the retry loop and re-sent unchanged.
"""

from __future__ import annotations

import json
import logging
import random as _random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx

from syncer import __version__
from syncer.feishu.auth import TOKEN_PATH, Credentials, TokenCache
from syncer.feishu.codes import DUPLICATE_TOKEN, RATE_LIMITED, REAUTH_CODES, describe
from syncer.feishu.errors import (
    AuthError,
    BadResponseError,
    DuplicateTokenError,
    FeishuAPIError,
    NetworkError,
    RateLimitedError,
    ServerError,
    error_class,
)
from syncer.feishu.retry import RetryPolicy, backoff_delay, rate_limit_wait

logger = logging.getLogger("syncer.feishu")

USER_AGENT = f"feishu-syncer/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
LOG_ID_HEADER = "x-tt-logid"

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Random = Callable[[], float]

# Not sent at all: nothing can have landed. Every other transport failure may have reached Feishu.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class RequestGate(Protocol):
    """Paces the attempts of a call (syncer.feishu.pacing.Pacer is one): `wait_turn` before every attempt,
    `defer` when Feishu says to wait (429) instead of sleeping in the client."""

    def wait_turn(self) -> float: ...

    def defer(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: httpx.Headers
    body: Mapping[str, Any] | None  # None: not a JSON object


class Session:
    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        allowed_paths: frozenset[str],
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        random: Random = _random.random,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url
        self._credentials = credentials
        self._allowed = allowed_paths | {TOKEN_PATH}
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._retry = retry or RetryPolicy()
        self._tokens = TokenCache()
        self._secrets = {credentials.app_secret}  # and every token fetched: scrubbed from any message
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"Session(base_url={self.base_url!r}, app_id={self._credentials.app_id!r})"

    # --- public --------------------------------------------------------------------------------------

    def token(self) -> str:
        """The cached tenant token, fetched or refreshed when due."""
        now = self._clock()
        cached = self._tokens.get(now)
        if cached is not None:
            return cached
        body = self._loop("POST", TOKEN_PATH, params=None, payload=self._auth_body(), authed=False, gate=None)
        token = body.get("tenant_access_token")
        expire = body.get("expire")
        if not isinstance(token, str) or not token or not isinstance(expire, int | Decimal) or expire <= 0:
            raise BadResponseError(f"POST {TOKEN_PATH}: the answer has no tenant_access_token or expire")
        self._secrets.add(token)
        self._tokens.store(token, expire=float(expire), now=now)
        return token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        gate: RequestGate | None = None,
    ) -> Mapping[str, Any]:
        """Send one logical request and return the envelope's `data` ({} when absent)."""
        if path not in self._allowed:
            raise PermissionError(f"this client may not call {method} {path} (a ReadClient cannot write)")
        body = self._loop(method, path, params=params, payload=payload, authed=True, gate=gate)
        data = body.get("data")
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise BadResponseError(f"{method} {path}: the answer's data is not an object")
        return data

    # --- the loop ------------------------------------------------------------------------------------

    def _auth_body(self) -> dict[str, str]:
        return {"app_id": self._credentials.app_id, "app_secret": self._credentials.app_secret}

    def _loop(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        payload: Mapping[str, Any] | None,
        authed: bool,
        gate: RequestGate | None,
    ) -> Mapping[str, Any]:
        endpoint = f"{method} {path}"
        policy = self._retry
        failures = 0  # transient failures so far
        rate_waits = 0
        rate_waited = 0.0  # seconds slept for rate limits in this call
        reauthed = False
        maybe_landed = False  # an earlier attempt may have reached Feishu
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} if authed else {}
            if gate is not None:
                gate.wait_turn()
            try:
                answer = self._send(method, path, params=params, payload=payload, headers=headers)
            except _RETRYABLE_TRANSPORT as exc:
                failures += 1
                maybe_landed = maybe_landed or not isinstance(exc, _UNSENT)
                reason = f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
                if failures >= policy.max_attempts:
                    raise NetworkError(
                        f"{endpoint} failed after {failures} attempts; last: {reason}. Check the network "
                        f"to {self.base_url} and run again"
                    ) from None  # not chained: the text of an httpx exception is not ours to vouch for
                self._backoff(endpoint, failures, reason)
                continue
            except httpx.HTTPError as exc:
                raise NetworkError(f"{endpoint} failed: {type(exc).__name__}: {self._scrub(str(exc))}") from None

            body, status = answer.body, answer.status
            raw_code = body.get("code") if body is not None else None
            code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
            msg = self._scrub(str(body.get("msg", ""))) if body is not None else ""
            log_id = answer.headers.get(LOG_ID_HEADER)

            if code == 0 and 200 <= status < 300 and body is not None:
                return body

            if status == 429 or code == RATE_LIMITED:
                rate_waits += 1
                wait = rate_limit_wait(answer.headers, fallback=policy.rate_limit_fallback)
                note = None
                if rate_waits > policy.max_rate_limited:
                    note = f"still rate limited after {policy.max_rate_limited} waits"
                elif wait > policy.max_rate_limit_wait:
                    limit = policy.max_rate_limit_wait
                    note = f"Feishu asked to wait {wait:g} s, more than the {limit:g} s allowed"
                elif rate_waited + wait > policy.max_rate_limit_total:
                    note = f"waiting {wait:g} s more would pass {policy.max_rate_limit_total:g} s of waits in all"
                if note is not None:
                    raise RateLimitedError(
                        code=code if code is not None else RATE_LIMITED,
                        http_status=status,
                        msg=msg,
                        endpoint=endpoint,
                        attempts=failures + rate_waits,
                        log_id=log_id,
                        note=note,
                    )
                rate_waited += wait
                logger.warning("%s rate limited (HTTP %s); waiting %.1f s", endpoint, status, wait)
                if gate is not None:
                    gate.defer(wait)
                else:
                    self._sleep(wait)
                continue

            if authed and code in REAUTH_CODES:
                if reauthed:
                    raise AuthError(
                        code=code,
                        http_status=status,
                        msg=msg,
                        endpoint=endpoint,
                        log_id=log_id,
                        note="refused again right after fetching a new tenant token",
                    )
                reauthed = True
                logger.info("%s: tenant token refused (code %s); fetching a new one", endpoint, code)
                self._tokens.drop()
                continue

            if body is None and status < 500:
                raise BadResponseError(f"{endpoint}: HTTP {status} with an answer that is not a JSON object")
            if code is None and 200 <= status < 300:
                raise BadResponseError(f"{endpoint}: HTTP {status} with an answer that has no integer `code`")

            if describe(code if code != 0 else None, http_status=status).scope == "retry":
                failures += 1
                maybe_landed = True
                if failures >= policy.max_attempts:
                    raise ServerError(
                        code=code or None,
                        http_status=status,
                        msg=msg,
                        endpoint=endpoint,
                        attempts=failures,
                        log_id=log_id,
                    )
                self._backoff(endpoint, failures, f"code {code}, HTTP {status}")
                continue

            if code == 0 or code is None:
                code = None  # an HTTP error with a success (or no) code
            if not authed:
                raise AuthError(
                    code=code,
                    http_status=status,
                    msg=msg,
                    endpoint=endpoint,
                    log_id=log_id,
                    note="could not get a tenant access token",
                )
            cls = error_class(code, http_status=status)
            err: FeishuAPIError = cls(
                code=code,
                http_status=status,
                msg=msg,
                endpoint=endpoint,
                attempts=failures + 1,
                log_id=log_id,
                violations=self._violations(body),
            )
            if code == DUPLICATE_TOKEN and isinstance(err, DuplicateTokenError):
                err.after_retry = maybe_landed
            raise err

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        payload: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> _Answer:
        content = None
        all_headers = dict(headers)
        if payload is not None:
            content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        response = self._http.request(method, path, params=params, content=content, headers=all_headers)
        try:
            parsed = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        body = parsed if isinstance(parsed, Mapping) else None
        return _Answer(response.status_code, response.headers, body)

    def _backoff(self, endpoint: str, failures: int, reason: str) -> None:
        policy = self._retry
        delay = backoff_delay(failures, base=policy.backoff_base, cap=policy.backoff_cap, rand=self._random())
        logger.warning(
            "%s failed (%s); retry %d of %d in %.1f s",
            endpoint,
            reason,
            failures,
            policy.max_attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _violations(self, body: Mapping[str, Any] | None) -> tuple[str, ...]:
        """The gateway's `error.field_violations` (99992402 and others), as "field: description" (scrubbed)."""
        error = body.get("error") if body is not None else None
        found = error.get("field_violations") if isinstance(error, Mapping) else None
        if not isinstance(found, list):
            return ()
        out = []
        for v in found[:10]:
            if isinstance(v, Mapping):
                name, why = str(v.get("field", "?")), str(v.get("description", "") or v.get("value", ""))
                out.append(self._scrub(f"{name}: {why}" if why else name))
        return tuple(out)

    def _scrub(self, text: str) -> str:
        """Hide the secret and the token should Feishu (or a proxy) ever echo them."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "<hidden>")
        return text
