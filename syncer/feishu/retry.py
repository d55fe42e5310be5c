"""Retry arithmetic, pure: capped exponential backoff with full jitter, the wait a 429 asks for, and when
a call stops waiting for rate limits."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

RESET_HEADER = "x-ogw-ratelimit-reset"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try.

    `max_attempts` bounds the attempts of one call that fail transiently (network, timeout, 5xx,
    1580101); `max_rate_limited` bounds the 429 waits of one call, counted apart so that a quota shared
    with another job does not eat the failure budget. A 429 without a usable reset header waits
    `rate_limit_fallback` seconds (a whole one-minute window: the safe reading); a reset above
    `max_rate_limit_wait`, or waits adding up past `max_rate_limit_total`, are refused rather than slept
    through: one call never sleeps long enough for a git lock lease (900 s by default, renewed as the
    apply writes) to run out under a live apply.
    """

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_rate_limited: int = 5
    rate_limit_fallback: float = 60.0
    max_rate_limit_wait: float = 300.0
    max_rate_limit_total: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_rate_limited < 0:
            raise ValueError("max_attempts must be >= 1 and max_rate_limited >= 0")
        if self.backoff_base <= 0 or self.backoff_cap < self.backoff_base:
            raise ValueError("backoff_base must be > 0 and backoff_cap >= backoff_base")


def backoff_delay(retry: int, *, base: float, cap: float, rand: float) -> float:
    """The wait before retry number `retry` (1 for the first retry): full jitter, `rand` in [0, 1), over
    min(cap, base * 2**(retry-1))."""
    if retry < 1:
        raise ValueError("retry counts from 1")
    ceiling = cap if retry > 64 else min(cap, base * 2 ** (retry - 1))
    return max(0.0, min(1.0, rand)) * ceiling


def rate_limit_reset(headers: Mapping[str, str]) -> float | None:
    """The seconds `x-ogw-ratelimit-reset` asks to wait, when it is a finite number >= 0; else None."""
    raw = headers.get(RESET_HEADER)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def rate_limit_wait(headers: Mapping[str, str], *, fallback: float) -> float:
    """Seconds to wait after a 429: `x-ogw-ratelimit-reset` when it is a finite number >= 0, else
    `fallback`. A reset of 0 still waits a second so that the retry does not land in the same instant."""
    value = rate_limit_reset(headers)
    return fallback if value is None else max(value, 1.0)


def rate_limit_refusal(policy: RetryPolicy, *, waits: int, wait: float, waited: float) -> str | None:
    """Why a rate-limited call stops instead of waiting `wait` s more, or None to wait. `waits` counts the
    429s of the call so far, this one included; `waited` is the seconds already waited for them."""
    if waits > policy.max_rate_limited:
        return f"still rate limited after {policy.max_rate_limited} waits"
    if wait > policy.max_rate_limit_wait:
        return f"Feishu asked to wait {wait:g} s, more than the {policy.max_rate_limit_wait:g} s allowed"
    if waited + wait > policy.max_rate_limit_total:
        return f"waiting {wait:g} s more would pass {policy.max_rate_limit_total:g} s of waits in all"
    return None


def rate_limit_remedy(reset: float | None, *, now: float) -> str:
    """What to do when syncer stops waiting out a 429: how long Feishu asked to wait (`reset` seconds, None:
    it did not say) and until when, in UTC, from the wall clock's `now`."""
    if reset is None:
        return (
            f"Feishu gave no time to wait ({RESET_HEADER}); wait a minute and run again; another job may be "
            "sharing the app's quota"
        )
    until = datetime.fromtimestamp(now + reset, tz=UTC)
    day = "" if reset < 12 * 3600 else f"{until:%Y-%m-%d} "
    return (
        f"Feishu asked to wait {reset:g} s: run again after {day}{until:%H:%M:%S} UTC; another job may be "
        "sharing the app's quota"
    )
