"""Fault injection, deterministic from a seed.

Two sources of faults, both per endpoint:

- *random* faults from `FaultSettings` (latency, a share of 5xx, 429 storms, committed imports whose
  response is lost or answered 5xx). A `random.Random(seed)` draws the same five numbers for every
  request, so a given seed and request sequence always gives the same faults.
- *scripted* faults for tests: `inject("lost_response", times=2)` makes the next two successful imports
  lose their response; `inject("error")` fails the next request. Scripted faults go first, in the order
  they were scripted (faults before processing and faults after a commit queue separately).

Kinds, and when they strike:

| kind                 | when                       | what the client sees                                 |
|----------------------|----------------------------|------------------------------------------------------|
| `error`              | before anything is done    | HTTP 500, code 1580101 (nothing stored)              |
| `rate_limited`       | before anything is done    | HTTP 429, code 99991400, `x-ogw-ratelimit-*` headers |
| `lost_response`      | after a success is stored  | no response: the connection closes / transport raises |
| `error_after_commit` | after a success is stored  | HTTP 500, code 1580101 (but the import is stored)    |
| `refuse`             | before anything is done    | HTTP 400 with the scripted `code` (nothing stored)   |

With the setting `echo_body`, every refusal of an endpoint the faults apply to repeats the request body, as
a gateway that quotes what it refused does (see syncer.emulator.envelope.echoed).

Deterministic kill points: `hold_next()` parks the next committed import until the test releases it, and
`add_commit_hook(fn)` calls `fn(record)` right after a commit, in the request's thread (raise from it to
simulate a crash at that exact instant).
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from syncer.emulator.store import ImportRecord
from syncer.emulator.tenant import FaultSettings

FaultKind = Literal["error", "rate_limited", "lost_response", "error_after_commit", "refuse"]
PRE_KINDS = frozenset({"error", "rate_limited", "refuse"})
REFUSE_CODE = 99992402  # a scripted refusal's default code: the gateway's field validation
POST_KINDS = frozenset({"lost_response", "error_after_commit"})
AUTH_ENDPOINT = "auth.tenant_access_token"


class ResponseLost(Exception):
    """Raised by `Emulator.handle` when a response must never reach the client (the request was
    processed). The HTTP server closes the connection; the httpx transport raises a transport error."""

    def __init__(self, endpoint: str, record: ImportRecord | None = None) -> None:
        super().__init__(f"response of {endpoint} lost on purpose (fault injection)")
        self.endpoint = endpoint
        self.record = record


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What happens to one request: latency first, then maybe a fault before or after processing."""

    latency: float = 0.0  # seconds
    pre: str | None = None  # "error" | "rate_limited" | "refuse"
    reset: int = 1  # x-ogw-ratelimit-reset of an injected 429
    code: int = REFUSE_CODE  # the code of an injected refusal
    post: str | None = None  # "lost_response" | "error_after_commit", applied only on success


class Hold:
    """A committed import's response, parked until the test says so.

    `wait_committed()` returns once the import is stored (its record in `record`); `release()` lets the
    response go, `release(lose=True)` drops it instead (the client sees the connection close). If nobody
    releases it, it goes after `timeout` seconds so a forgotten hold can't hang a test run forever."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.committed = threading.Event()
        self.record: ImportRecord | None = None
        self._released = threading.Event()
        self._lose = False

    def wait_committed(self, timeout: float | None = 10.0) -> bool:
        return self.committed.wait(timeout)

    def release(self, *, lose: bool = False) -> None:
        self._lose = lose
        self._released.set()

    def _park(self, record: ImportRecord | None) -> bool:
        """Called in the request's thread: signal the commit, wait for release; True means lose it."""
        self.record = record
        self.committed.set()
        self._released.wait(self.timeout)
        return self._lose


class FaultInjector:
    """Decides the faults of each request; thread-safe (hooks and holds run outside any lock)."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.RLock()
        self._settings = settings or FaultSettings()
        self._rng = random.Random(self._settings.seed)
        self._pre: dict[str, deque[tuple[str, float, int]]] = {}  # scripted, by endpoint
        self._post: dict[str, deque[str]] = {}
        self._storms: dict[str, int] = {}
        self._holds: dict[str, deque[Hold]] = {}
        self._hooks: list[Callable[[ImportRecord], None]] = []

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def configure(self, settings: FaultSettings | None = None, **changes: Any) -> FaultSettings:
        """Change the random-fault settings named (`configure(error_rate=0.2, seed=7)`; the others keep their
        value), or put `settings` in place whole; re-seeds the generator."""
        with self._lock:
            base = settings or self._settings
            lat = changes.get("latency_ms")
            if isinstance(lat, int | float):
                changes["latency_ms"] = (int(lat), int(lat))
            elif isinstance(lat, list | tuple):
                changes["latency_ms"] = (int(lat[0]), int(lat[1]))
            if "endpoints" in changes:
                changes["endpoints"] = tuple(changes["endpoints"])
            self._settings = dataclasses.replace(base, **changes)
            self._rng = random.Random(self._settings.seed)
            self._storms.clear()
            return self._settings

    def inject(
        self,
        kind: FaultKind,
        *,
        endpoint: str = "metric_details.import",
        times: int = 1,
        reset: float = 1,
        code: int = REFUSE_CODE,
    ) -> None:
        """Script `times` faults of `kind` for the next requests of `endpoint` (pre-kinds strike the next
        requests whatever they are; post-kinds the next successful ones). `code`: a `refuse`'s code."""
        with self._lock:
            if kind not in PRE_KINDS | POST_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(PRE_KINDS | POST_KINDS)}")
            if kind in PRE_KINDS:
                self._pre.setdefault(endpoint, deque()).extend([(kind, reset, code)] * times)
            else:
                self._post.setdefault(endpoint, deque()).extend([kind] * times)

    def hold_next(self, endpoint: str = "metric_details.import", *, timeout: float = 30.0) -> Hold:
        with self._lock:
            hold = Hold(endpoint, timeout)
            self._holds.setdefault(endpoint, deque()).append(hold)
            return hold

    def add_commit_hook(self, hook: Callable[[ImportRecord], None]) -> None:
        with self._lock:
            self._hooks.append(hook)

    def remove_commit_hook(self, hook: Callable[[ImportRecord], None]) -> None:
        with self._lock:
            self._hooks.remove(hook)

    def clear(self) -> None:
        """Drop scripted faults, storms, holds (released) and hooks; keep the random settings."""
        with self._lock:
            self._pre.clear()
            self._post.clear()
            self._storms.clear()
            self.release_holds()
            self._hooks.clear()

    def release_holds(self) -> None:
        """Let every parked response go (a server shutting down must not leave threads waiting)."""
        with self._lock:
            for q in self._holds.values():
                for h in q:
                    h.release()
            self._holds.clear()

    def pending(self) -> dict[str, list[str]]:
        with self._lock:
            out: dict[str, list[str]] = {}
            for ep, pre in self._pre.items():
                out.setdefault(ep, []).extend(k for k, _, _ in pre)
            for ep, post in self._post.items():
                out.setdefault(ep, []).extend(post)
            return {ep: kinds for ep, kinds in out.items() if kinds}

    # -- decisions, per request ----------------------------------------------------------------------------

    def plan(self, endpoint: str) -> FaultPlan:
        with self._lock:
            s = self._settings
            # Always the same five draws per request: changing one rate never shifts the others.
            u_latency, u_error, u_storm, u_lost, u_eac = (self._rng.random() for _ in range(5))
            applies = self._applies(endpoint)
            latency = 0.0
            pre: str | None = None
            reset = max(0, s.storm_reset_seconds)
            post: str | None = None
            if applies:
                lo, hi = s.latency_ms
                latency = (lo + u_latency * (hi - lo)) / 1000.0
                if self._storms.get(endpoint, 0) > 0:
                    self._storms[endpoint] -= 1
                    pre = "rate_limited"
                elif u_storm < s.storm_rate:
                    self._storms[endpoint] = s.storm_length - 1
                    pre = "rate_limited"
                elif u_error < s.error_rate:
                    pre = "error"
                if u_lost < s.lost_response_rate:
                    post = "lost_response"
                elif u_eac < s.error_after_commit_rate:
                    post = "error_after_commit"
            code = REFUSE_CODE
            q = self._pre.get(endpoint)
            if q:
                kind, r, code = q.popleft()
                pre, reset = kind, int(r)
            return FaultPlan(latency=latency, pre=pre, reset=reset, post=post, code=code)

    def echoes(self, endpoint: str) -> bool:
        """Whether the refusals of `endpoint` repeat the request body (the setting `echo_body`)."""
        with self._lock:
            return self._settings.echo_body and self._applies(endpoint)

    def _applies(self, endpoint: str) -> bool:
        s = self._settings
        return endpoint in s.endpoints if s.endpoints else endpoint != AUTH_ENDPOINT

    def after_success(self, endpoint: str, plan: FaultPlan) -> str | None:
        """The post-commit fault of a successful request, if any (a scripted one is consumed)."""
        with self._lock:
            q = self._post.get(endpoint)
            if q:
                return q.popleft()
            return plan.post

    def take_hold(self, endpoint: str) -> Hold | None:
        with self._lock:
            q = self._holds.get(endpoint)
            return q.popleft() if q else None

    def hooks(self) -> list[Callable[[ImportRecord], None]]:
        with self._lock:
            return list(self._hooks)
