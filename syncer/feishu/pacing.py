"""Pacing of import requests: evenly spaced at 60/import_per_minute seconds, never in bursts.

Times are wall-clock seconds (epoch), because the time of the last request is kept in the state and read
back by the next apply, maybe on another machine: the first request of an apply waits until
last + interval. A recorded time in the future (clock skew) counts as "now", so a skewed clock delays an
apply by at most one interval.

The arithmetic is pure; `Pacer` adds an injected clock and sleep, and is the `RequestGate` the Feishu
client calls before every attempt (retries included) and tells about 429 waits.

A quota shared with other processes (`SharedQuota`: the postgres state backend keeps one per app) is
claimed once the pacer's own slot has come: the claim reserves the next free slot of everyone sharing it
(first come, first served, so that concurrent applies take turns) and says how long until it; the request
goes then, without claiming again. Without one, each apply paces itself alone, as above.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def interval_for(import_per_minute: float) -> float:
    """Seconds between two requests at `import_per_minute` requests a minute."""
    if not math.isfinite(import_per_minute) or import_per_minute <= 0:
        raise ValueError(f"import_per_minute must be a positive number, not {import_per_minute!r}")
    return 60.0 / import_per_minute


def first_slot(*, now: float, last_request_at: float | None, interval: float) -> float:
    """The earliest time the next request may start."""
    if last_request_at is None:
        return now
    return max(now, min(last_request_at, now) + interval)


def eta(n: int, *, now: float, last_request_at: float | None, interval: float) -> float:
    """Seconds from `now` until the last of `n` requests starts (0 for none); add one request's own
    duration for the time it is done."""
    if n <= 0:
        return 0.0
    return first_slot(now=now, last_request_at=last_request_at, interval=interval) + (n - 1) * interval - now


#: A claim on a shared quota: (now, interval) -> the seconds from now until the slot it reserved for this
#: request (0: it may start now), for every process sharing the quota.
SharedQuota = Callable[[float, float], float]


class WaitAbandoned(Exception):
    """A wait for the next slot was given up (a stop was asked for): no request was sent."""


class Pacer:
    """Spaces requests `interval` seconds apart, starting from `last_request_at` (from the state), and, with
    `shared`, apart from the requests of every process sharing that quota too."""

    def __init__(
        self,
        *,
        interval: float,
        last_request_at: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        shared: SharedQuota | None = None,
    ) -> None:
        if not math.isfinite(interval) or interval <= 0:
            raise ValueError("interval must be a positive number of seconds")
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._shared = shared
        now = clock()
        self._last = None if last_request_at is None else min(last_request_at, now)
        self._not_before = now

    @classmethod
    def per_minute(
        cls,
        import_per_minute: float,
        *,
        last_request_at: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        shared: SharedQuota | None = None,
    ) -> Pacer:
        return cls(
            interval=interval_for(import_per_minute),
            last_request_at=last_request_at,
            clock=clock,
            sleep=sleep,
            shared=shared,
        )

    @property
    def last_request_at(self) -> float | None:
        """When the last request started: what the state keeps for the next apply."""
        return self._last

    def next_slot(self) -> float:
        """The earliest time the next request may start."""
        slot = first_slot(now=self._clock(), last_request_at=self._last, interval=self.interval)
        return max(slot, self._not_before)

    def eta(self, n: int) -> float:
        """Seconds from now until the last of `n` more requests starts."""
        if n <= 0:
            return 0.0
        return self.next_slot() + (n - 1) * self.interval - self._clock()

    def wait_turn(self, *, give_up: Callable[[], bool] | None = None) -> float:
        """Sleep until the next slot (ours, then the shared quota's), record the request as sent now, and return
        that time. With `give_up`, the wait is checked every second and abandoned (WaitAbandoned, nothing
        recorded) once it says so."""
        while True:
            now = self._clock()
            slot = max(first_slot(now=now, last_request_at=self._last, interval=self.interval), self._not_before)
            if give_up is not None and give_up():
                raise WaitAbandoned()
            if now >= slot:
                if self._shared is not None:
                    now = self._wait_until(now + self._shared(now, self.interval), give_up)
                break
            self._sleep(slot - now if give_up is None else min(slot - now, 1.0))
        self._last = now
        return now

    def _wait_until(self, reserved: float, give_up: Callable[[], bool] | None) -> float:
        """Sleep until a slot reserved on the shared quota; the time it came. A slot given up is lost (the
        others start one interval later, no more)."""
        while True:
            now = self._clock()
            if now >= reserved:
                return now
            if give_up is not None and give_up():
                raise WaitAbandoned()
            self._sleep(reserved - now if give_up is None else min(reserved - now, 1.0))

    def defer(self, seconds: float) -> None:
        """Feishu said to wait (429 `x-ogw-ratelimit-reset`): no request before now + seconds."""
        if seconds > 0:
            self._not_before = max(self._not_before, self._clock() + seconds)
