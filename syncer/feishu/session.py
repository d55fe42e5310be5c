"""The HTTP core under both clients: tenant token, envelope check, retries, rate-limit waits.

One call = one logical request. Everything that makes up the request (path, query, body, and so the
client_token a caller put in the query) is fixed before the retry loop and re-sent unchanged.
"""

from __future__ import annotations

import json
import logging
import random as _random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx

from syncer import __version__
from syncer.errors import FeishuError
from syncer.feishu.answer import HttpAnswer, Step, next_step
from syncer.feishu.auth import TOKEN_PATH, Credentials, TokenCache
from syncer.feishu.codes import DUPLICATE_TOKEN, RATE_LIMITED
from syncer.feishu.echoes import mask_echoes
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
from syncer.feishu.retry import (
    RetryPolicy,
    backoff_delay,
    rate_limit_refusal,
    rate_limit_remedy,
    rate_limit_reset,
    rate_limit_wait,
)

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


@dataclass(slots=True)
class _Tally:
    """What one call went through so far: the loop's counters (mutable, one per call)."""

    echoes: tuple[str, ...] = ()  # values it sent, masked out of what Feishu says (none unless redacting)
    failures: int = 0  # transient failures so far
    rate_waits: int = 0
    rate_waited: float = 0.0  # seconds waited for rate limits in this call
    reauthed: bool = False
    maybe_landed: bool = False  # an earlier attempt may have reached Feishu


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
        wall: Clock = time.time,
        redact: bool = False,
    ) -> None:
        """`clock` measures intervals (monotonic); `wall` is the time of day (seconds since the epoch), for
        messages that say until when Feishu asked to wait. `redact` (--redact-values): the values a call
        sends (its `echoes`) are masked out of Feishu's `msg` and field violations as they are received."""
        self.base_url = base_url
        self._credentials = credentials
        self._allowed = allowed_paths | {TOKEN_PATH}
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._random = random
        self._redact = redact
        self._retry = retry or RetryPolicy()
        self._tokens = TokenCache()
        self._had_token = False  # a token was obtained in this run: a later refusal is not a wrong secret
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
        self._had_token = True
        return token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        gate: RequestGate | None = None,
        echoes: Collection[str] = (),
    ) -> Mapping[str, Any]:
        """Send one logical request and return the envelope's `data` ({} when absent). `echoes`: the
        per-employee values it carries, masked out of Feishu's words when values are redacted."""
        if path not in self._allowed:
            raise PermissionError(f"this client may not call {method} {path} (a ReadClient cannot write)")
        body = self._loop(method, path, params=params, payload=payload, authed=True, gate=gate, echoes=echoes)
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
        echoes: Collection[str] = (),
    ) -> Mapping[str, Any]:
        """One logical request: attempts until an answer settles it (next_step), each step named below. The
        error that ends it says whether an earlier attempt may have landed (`maybe_landed`)."""
        tally = _Tally(echoes=tuple(echoes) if self._redact else ())
        try:
            return self._attempts(method, path, params=params, payload=payload, authed=authed, gate=gate, tally=tally)
        except FeishuError as exc:
            exc.maybe_landed = exc.maybe_landed or tally.maybe_landed  # whatever ended the call, after a lost answer
            raise

    def _attempts(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        payload: Mapping[str, Any] | None,
        authed: bool,
        gate: RequestGate | None,
        tally: _Tally,
    ) -> Mapping[str, Any]:
        """The attempts of `_loop`, counted in `tally`."""
        endpoint = f"{method} {path}"
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} if authed else {}
            if gate is not None:
                gate.wait_turn()
            try:
                answer = self._send(method, path, params=params, payload=payload, headers=headers)
            except _RETRYABLE_TRANSPORT as exc:
                self._transport_failed(endpoint, exc, tally)
                continue
            except httpx.HTTPError as exc:
                raise NetworkError(f"{endpoint} failed: {type(exc).__name__}: {self._scrub(str(exc))}") from None
            step = next_step(answer, authed=authed)
            if step == "done":
                assert answer.body is not None
                return answer.body
            if step == "rate-limited":
                self._wait_rate_limit(endpoint, answer, tally, gate)
            elif step == "reauth":
                self._reauthenticate(endpoint, answer, tally)
            elif step == "retry":
                self._server_failed(endpoint, answer, tally)
            else:
                raise self._failure(endpoint, answer, step, tally, authed=authed)

    def _transport_failed(self, endpoint: str, exc: Exception, tally: _Tally) -> None:
        """A network failure or timeout: back off and try again, or raise NetworkError when attempts are spent."""
        tally.failures += 1
        tally.maybe_landed = tally.maybe_landed or not isinstance(exc, _UNSENT)
        reason = f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
        if tally.failures >= self._retry.max_attempts:
            raise NetworkError(
                f"{endpoint} failed after {tally.failures} attempts; last: {reason}. Check the network "
                f"to {self.base_url} and run again"
            ) from None  # not chained: the text of an httpx exception is not ours to vouch for
        self._backoff(endpoint, tally.failures, reason)

    def _wait_rate_limit(self, endpoint: str, answer: HttpAnswer, tally: _Tally, gate: RequestGate | None) -> None:
        """A 429: wait what Feishu asks (through the gate when there is one), or raise RateLimitedError when
        the call's rate-limit budget would be passed."""
        policy = self._retry
        tally.rate_waits += 1
        wait = rate_limit_wait(answer.headers, fallback=policy.rate_limit_fallback)
        note = rate_limit_refusal(policy, waits=tally.rate_waits, wait=wait, waited=tally.rate_waited)
        if note is not None:
            code = answer.code
            raise RateLimitedError(
                code=code if code is not None else RATE_LIMITED,
                http_status=answer.status,
                msg=self._msg(answer, tally),
                endpoint=endpoint,
                attempts=tally.failures + tally.rate_waits,
                log_id=answer.headers.get(LOG_ID_HEADER),
                note=note,
                remedy=self._rate_limit_remedy(answer),
            )
        tally.rate_waited += wait
        logger.warning("%s rate limited (HTTP %s); waiting %.1f s", endpoint, answer.status, wait)
        if gate is not None:
            gate.defer(wait)
        else:
            self._sleep(wait)

    def _rate_limit_remedy(self, answer: HttpAnswer) -> str:
        """What to do when syncer stops waiting: how long Feishu asked to wait, and until when (UTC)."""
        return rate_limit_remedy(rate_limit_reset(answer.headers), now=self._wall())

    def _reauthenticate(self, endpoint: str, answer: HttpAnswer, tally: _Tally) -> None:
        """The tenant token was refused: drop it (the next attempt fetches a new one), once per call."""
        if tally.reauthed:
            raise AuthError(
                code=answer.code,
                http_status=answer.status,
                msg=self._msg(answer, tally),
                endpoint=endpoint,
                log_id=answer.headers.get(LOG_ID_HEADER),
                note="refused again right after fetching a new tenant token",
            )
        tally.reauthed = True
        logger.info("%s: tenant token refused (code %s); fetching a new one", endpoint, answer.code)
        self._tokens.drop()

    def _server_failed(self, endpoint: str, answer: HttpAnswer, tally: _Tally) -> None:
        """A transient failure Feishu reported (5xx, 1580101): back off and try again, or raise ServerError
        when attempts are spent. The attempt may have landed."""
        code, status = answer.code, answer.status
        tally.failures += 1
        tally.maybe_landed = True
        if tally.failures >= self._retry.max_attempts:
            raise ServerError(
                code=code or None,
                http_status=status,
                msg=self._msg(answer, tally),
                endpoint=endpoint,
                attempts=tally.failures,
                log_id=answer.headers.get(LOG_ID_HEADER),
            )
        self._backoff(endpoint, tally.failures, f"code {code}, HTTP {status}")

    def _failure(self, endpoint: str, answer: HttpAnswer, step: Step, tally: _Tally, *, authed: bool) -> Exception:
        """The error that ends a call: an answer that is not the envelope, no token for an unauthed call, or
        the error class of the code (1580110 saying whether an earlier attempt may have landed)."""
        status, log_id, msg = answer.status, answer.headers.get(LOG_ID_HEADER), self._msg(answer, tally)
        if step == "not-json":
            return BadResponseError(f"{endpoint}: HTTP {status} with an answer that is not a JSON object")
        if step == "no-code":
            return BadResponseError(f"{endpoint}: HTTP {status} with an answer that has no integer `code`")
        code = answer.code or None  # an HTTP error with a success (or no) code has none
        if not authed and self._had_token:
            # The same credentials were accepted earlier in this run: whatever the code says, the secret was
            # right then. The app was disabled or its secret reset meanwhile, or something on the way answers.
            return AuthError(
                code=code,
                http_status=status,
                msg=msg,
                endpoint=endpoint,
                log_id=log_id,
                meaning="re-authentication failed after the first tenant token of this run was obtained",
                remedy=(
                    "FEISHU_APP_ID and FEISHU_APP_SECRET were accepted earlier in this run, so check the app's "
                    "status in the developer console (disabled, or its secret reset since) and the network to "
                    f"{self.base_url}, then run again"
                ),
            )
        if not authed:
            return AuthError(
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
            attempts=tally.failures + 1,
            log_id=log_id,
            violations=answer.violations(lambda parts: self._said(parts, tally)),
        )
        if code == DUPLICATE_TOKEN and isinstance(err, DuplicateTokenError):
            err.after_retry = tally.maybe_landed
        return err

    def _msg(self, answer: HttpAnswer, tally: _Tally) -> str:
        """The envelope's `msg`, as the error may show it."""
        return self._said([str(answer.body.get("msg", ""))], tally)[0] if answer.body is not None else ""

    def _said(self, parts: Sequence[str], tally: _Tally) -> tuple[str, ...]:
        """Feishu's words (its `msg`, or the parts of its field violations read as one text) as an error may
        show them: the secrets scrubbed and, with values redacted, the values of the call masked out."""
        return mask_echoes([self._scrub(p) for p in parts], tally.echoes)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        payload: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> HttpAnswer:
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
        return HttpAnswer(response.status_code, response.headers, body)

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

    def _scrub(self, text: str) -> str:
        """Hide the secret and the token should Feishu (or a proxy) ever echo them."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "<hidden>")
        return text
