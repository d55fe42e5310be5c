"""Reading the live tenant: a `ReadClient` whose requests are paced per endpoint at Feishu's quotas, with
progress and an ETA, and the canonical form of the values Feishu answers.

Every read endpoint is rate-limited (20 a minute; semesters 10). The pacing sits in the HTTP transport, in
front of the client: each request to a limited path waits its turn on that endpoint's `Pacer` (pages of a
paged read and retries included), so no command bursts past a quota; a 429 is still waited out by the
client. Commands say how many requests they plan (`expect`), and every answered request produces a
`ReadProgress` with what is left and when it should be done.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Self

import httpx

from syncer.feishu.auth import Credentials
from syncer.feishu.client import (
    ACTIVITY_QUERY,
    BATCH_GET_ID,
    DEFAULT_PAGE_SIZE,
    METRIC_DETAILS_QUERY,
    METRIC_FIELDS_QUERY,
    METRIC_LIBS_QUERY,
    METRIC_TEMPLATES_QUERY,
    QUERY_CHUNK,
    REVIEWEES_QUERY,
    SEMESTERS_LIST,
    ReadClient,
)
from syncer.feishu.pacing import Pacer

#: Requests a minute of each read endpoint (docs/feishu-api.md); the short names are what progress shows.
READ_QUOTAS: Mapping[str, tuple[str, int]] = {
    METRIC_DETAILS_QUERY: ("metric_details/query", 20),
    METRIC_FIELDS_QUERY: ("metric_fields/query", 20),
    METRIC_LIBS_QUERY: ("metric_libs/query", 20),
    METRIC_TEMPLATES_QUERY: ("metric_templates/query", 20),
    ACTIVITY_QUERY: ("activity/query", 10),
    REVIEWEES_QUERY: ("reviewees/query", 20),
    SEMESTERS_LIST: ("semesters", 10),
    BATCH_GET_ID: ("users/batch_get_id", 1000),  # and 50 a second: 1000 a minute is 17 a second
}
PAGE_SIZE = DEFAULT_PAGE_SIZE  # pages of reviewees/query and metric_libs/query: 50, the documented maximum


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """One answered read request: which endpoint, how many of its planned requests are done, and the
    seconds until the last planned request of every endpoint has started (at the paced rate)."""

    endpoint: str
    done: int
    total: int
    requests_left: int
    eta_seconds: float


ProgressFn = Callable[[ReadProgress], None]


def requests_for(items: int, per_request: int = QUERY_CHUNK) -> int:
    """How many requests `items` IDs take at `per_request` a request (at least one page for a paged read)."""
    return max(1, math.ceil(items / per_request))


class PacedTransport(httpx.BaseTransport):
    """Waits for the endpoint's turn before each request to a rate-limited read path, then forwards it."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        quotas: Mapping[str, tuple[str, int]] = READ_QUOTAS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_answer: Callable[[str, int], None] | None = None,
    ) -> None:
        self._inner = inner
        self.pacers = {
            path: Pacer.per_minute(per_minute, clock=clock, sleep=sleep) for path, (_, per_minute) in quotas.items()
        }
        self._on_answer = on_answer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        pacer = self.pacers.get(path)
        if pacer is not None:
            pacer.wait_turn()
        response = self._inner.handle_request(request)
        if pacer is not None and self._on_answer is not None:
            self._on_answer(path, response.status_code)
        return response

    def close(self) -> None:
        self._inner.close()


class LiveReader:
    """A paced `ReadClient` (`.client`) and the bookkeeping of planned and answered requests."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        progress: ProgressFn | None = None,
        redact: bool = False,
    ) -> None:
        inner = transport if transport is not None else httpx.HTTPTransport(trust_env=False)
        self._paced = PacedTransport(inner, clock=clock, sleep=sleep, on_answer=self._answered)
        self.client = ReadClient(
            base_url=base_url, credentials=credentials, transport=self._paced, clock=clock, sleep=sleep, redact=redact
        )
        self._progress = progress
        self.planned: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    @property
    def requests(self) -> int:
        """Read requests answered so far (429s not counted)."""
        return sum(self.done.values())

    def expect(self, path: str, requests: int) -> None:
        """Plan `requests` more requests to `path` (for the progress and ETA)."""
        self.planned[path] = self.planned.get(path, 0) + max(0, requests)

    def eta(self) -> float:
        """Seconds until the last planned request starts, endpoint after endpoint, at the paced rates."""
        total = 0.0
        for path, planned in self.planned.items():
            left = planned - self.done.get(path, 0)
            pacer = self._paced.pacers.get(path)
            if left > 0 and pacer is not None:
                total += max(0.0, pacer.eta(left))
        return total

    def _answered(self, path: str, status: int) -> None:
        if status == 429:
            return
        self.done[path] = self.done.get(path, 0) + 1
        self.planned[path] = max(self.planned.get(path, 0), self.done[path])
        if self._progress is not None:
            left = sum(max(0, n - self.done.get(p, 0)) for p, n in self.planned.items())
            self._progress(
                ReadProgress(
                    endpoint=READ_QUOTAS.get(path, (path, 0))[0],
                    done=self.done[path],
                    total=self.planned[path],
                    requests_left=left,
                    eta_seconds=self.eta(),
                )
            )
