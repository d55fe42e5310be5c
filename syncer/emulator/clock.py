"""Time for the emulator: wall-clock seconds (token expiry, deadlines, rate windows, record times), and a
sleep for injected latency. Both are parameters, so tests drive time by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def system_clock() -> float:
    return time.time()


def system_sleep(seconds: float) -> None:
    time.sleep(seconds)


class ManualClock:
    """A clock that moves only when told: `clock()` reads it, `advance(s)` or `sleep(s)` moves it.

    Pass `clock=c, sleep=c.sleep` to the emulator (and the same `c.sleep` to the code under test) and a
    minute of rate limiting takes no real time at all."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:  # 2026-09-21, inside 2026-H2
        self._now = float(start)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        with self._lock:
            self._now = float(when)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
