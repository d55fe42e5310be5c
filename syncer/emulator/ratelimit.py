"""Rate limits: a sliding window over accepted requests, per (app, endpoint).

The model (docs/emulator.md, "Rate limits"):

- A request is *accepted* by the limiter when, for every window of its endpoint (60 s for a per-minute
  limit, 1 s for a per-second one), fewer than `limit` accepted requests lie in the last `window`
  seconds. Accepted requests are recorded, whatever the endpoint then answers (a 1580102 uses quota
  too); refused ones (429) are not recorded, so hammering a limited endpoint doesn't extend the wait.
- A refused request gets `x-ogw-ratelimit-limit` (the limit of the window that refused it) and
  `x-ogw-ratelimit-reset`: the whole seconds until the oldest request of that window leaves it (at least 1).
  Waiting that long and retrying is always enough for one more request.

The clock is injected, so tests run in milliseconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int = 0
    reset: int = 0  # seconds to wait (refused only)


class SlidingWindowLimiter:
    """Not thread-safe on its own: the emulator calls it under its lock. Times are kept in whole
    milliseconds so that the window arithmetic is exact (no float drift at the edges)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[int]] = {}

    def _now(self) -> int:
        return round(self._clock() * 1000)

    def reset(self) -> None:
        self._hits.clear()

    def check(self, app_id: str, endpoint: str, windows: Sequence[tuple[int, float]]) -> Decision:
        """Accept and record the request, or refuse it with the limit and reset to report."""
        if not windows:
            return Decision(True)
        now = self._now()
        hits = self._hits.setdefault((app_id, endpoint), deque())
        widest = max(round(w * 1000) for _, w in windows)
        while hits and hits[0] <= now - widest:
            hits.popleft()
        for limit, window in windows:
            span = round(window * 1000)
            in_window = [t for t in hits if t > now - span]
            if len(in_window) >= limit:
                oldest = in_window[len(in_window) - limit]
                reset = max(1, -(-(oldest + span - now) // 1000))  # whole seconds, rounded up
                return Decision(False, limit=limit, reset=reset)
        hits.append(now)
        return Decision(True, limit=windows[0][0])

    def count(self, app_id: str, endpoint: str, window: float = 60.0) -> int:
        """Accepted requests in the last `window` seconds (for inspection)."""
        now, span = self._now(), round(window * 1000)
        return sum(1 for t in self._hits.get((app_id, endpoint), ()) if t > now - span)
