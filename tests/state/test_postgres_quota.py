"""The shared import quota's slot arithmetic (syncer.state.postgres.quota), without a database: the slot a
claim reserves, its bounds, and its agreement with the pacer's own rule (syncer.feishu.pacing.first_slot)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncer.feishu.pacing import first_slot
from syncer.state.postgres.quota import MAX_AHEAD, next_slot

TIMES = st.floats(min_value=0.0, max_value=4e9, allow_nan=False, allow_infinity=False)
INTERVALS = st.floats(min_value=0.01, max_value=120.0, allow_nan=False, allow_infinity=False)
OFFSETS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_the_first_claim_goes_now() -> None:
    assert next_slot(now=100.0, last=None, interval=6.0) == 100.0


def test_a_claim_after_a_recent_one_waits_an_interval() -> None:
    assert next_slot(now=100.0, last=97.0, interval=6.0) == 103.0
    assert next_slot(now=100.0, last=50.0, interval=6.0) == 100.0  # long ago: at once


def test_claims_queue_up_one_interval_apart() -> None:
    slots: list[float] = []
    last = None
    for _ in range(5):
        last = next_slot(now=100.0, last=last, interval=6.0)
        slots.append(last)
    assert slots == [100.0, 106.0, 112.0, 118.0, 124.0]


def test_a_slot_too_far_ahead_is_a_clock_that_jumped() -> None:
    assert next_slot(now=100.0, last=100.0 + MAX_AHEAD - 6.0, interval=6.0) == 100.0 + MAX_AHEAD
    assert next_slot(now=100.0, last=100.0 + MAX_AHEAD, interval=6.0) == 100.0
    assert next_slot(now=100.0, last=10_000.0, interval=6.0, max_ahead=20_000.0) == 10_006.0


@given(now=TIMES, ago=st.floats(min_value=0.0, max_value=1e6, allow_nan=False), interval=INTERVALS)
def test_a_last_slot_not_ahead_of_now_gives_the_pacers_slot(now: float, ago: float, interval: float) -> None:
    """The shared quota and the pacer agree wherever the last request is not in the future."""
    last = now - ago
    assert next_slot(now=now, last=last, interval=interval) == first_slot(
        now=now, last_request_at=last, interval=interval
    )


@given(now=TIMES, interval=INTERVALS)
def test_no_last_slot_agrees_with_the_pacer(now: float, interval: float) -> None:
    assert next_slot(now=now, last=None, interval=interval) == first_slot(
        now=now, last_request_at=None, interval=interval
    )


@given(now=TIMES, offset=OFFSETS, interval=INTERVALS)
def test_a_slot_is_never_before_now_nor_more_than_max_ahead_after_it(
    now: float, offset: float, interval: float
) -> None:
    slot = next_slot(now=now, last=now + offset, interval=interval)
    assert now <= slot <= now + MAX_AHEAD


@given(now=TIMES, offset=OFFSETS, interval=INTERVALS)
def test_a_slot_keeps_the_interval_after_the_last_unless_the_last_was_a_jumped_clock(
    now: float, offset: float, interval: float
) -> None:
    last = now + offset
    slot = next_slot(now=now, last=last, interval=interval)
    if last + interval - now > MAX_AHEAD:
        assert slot == now
    else:
        assert slot == max(now, last + interval) and slot >= last + interval


@given(now=TIMES, offset=st.floats(min_value=-1e6, max_value=MAX_AHEAD - 120.0, allow_nan=False), interval=INTERVALS)
def test_consecutive_claims_are_one_interval_apart(now: float, offset: float, interval: float) -> None:
    """Two claims at the same moment, within the horizon: the second is exactly one interval after the first."""
    first = next_slot(now=now, last=now + offset, interval=interval)
    second = next_slot(now=now, last=first, interval=interval)
    assert second == first + interval or second == now  # now: the queue reached MAX_AHEAD


@given(now=TIMES, offset=OFFSETS, interval=INTERVALS)
def test_ahead_of_now_the_quota_queues_where_the_pacer_sees_a_skewed_clock(
    now: float, offset: float, interval: float
) -> None:
    """Ahead of now the pacer takes the last request for a skewed clock (one interval from now at most), the
    quota for a queue (up to MAX_AHEAD); behind now they agree."""
    last = now + offset
    quota = next_slot(now=now, last=last, interval=interval)
    pacer = first_slot(now=now, last_request_at=last, interval=interval)
    if offset <= 0:
        assert quota == pacer
    else:
        assert pacer == now + interval
        assert quota == now or quota >= pacer
