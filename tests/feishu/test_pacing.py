"""Pacing: pure arithmetic and the Pacer on a fake clock (no real sleeps)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.feishu.pacing import Pacer, WaitAbandoned, eta, first_slot, interval_for

EPS = 1e-6  # float rounding at epoch magnitudes (~1.7e9 s)


class FakeTime:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def test_interval() -> None:
    assert interval_for(10) == 6.0
    assert interval_for(20) == 3.0
    assert interval_for(0.5) == 120.0
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            interval_for(bad)


def test_first_slot() -> None:
    assert first_slot(now=100.0, last_request_at=None, interval=6.0) == 100.0
    assert first_slot(now=100.0, last_request_at=97.0, interval=6.0) == 103.0  # the last apply's request
    assert first_slot(now=100.0, last_request_at=50.0, interval=6.0) == 100.0  # long ago: at once
    assert first_slot(now=100.0, last_request_at=10_000.0, interval=6.0) == 106.0  # skew: one interval at most


def schedule(n: int, *, now: float, last_request_at: float | None, interval: float) -> list[float]:
    """The start times of `n` requests sent as early as the pace allows: the model `eta` is checked against."""
    start = first_slot(now=now, last_request_at=last_request_at, interval=interval)
    return [start + i * interval for i in range(n)]


def test_schedule_and_eta() -> None:
    assert schedule(3, now=100.0, last_request_at=None, interval=6.0) == [100.0, 106.0, 112.0]
    assert schedule(2, now=100.0, last_request_at=98.0, interval=6.0) == [104.0, 110.0]
    assert schedule(0, now=100.0, last_request_at=None, interval=6.0) == []
    assert eta(0, now=100.0, last_request_at=98.0, interval=6.0) == 0.0
    assert eta(1, now=100.0, last_request_at=None, interval=6.0) == 0.0
    assert eta(100, now=100.0, last_request_at=None, interval=6.0) == 594.0  # 1,000 rows at 10/min
    assert eta(2, now=100.0, last_request_at=98.0, interval=6.0) == 10.0


@given(
    st.integers(0, 50),
    st.floats(0, 1e6),
    st.none() | st.floats(0, 2e6),
    st.floats(0.01, 600),
)
def test_schedule_properties(n: int, now: float, last: float | None, interval: float) -> None:
    times = schedule(n, now=now, last_request_at=last, interval=interval)
    assert len(times) == n
    if times:
        assert times[0] >= now
        if last is not None:
            assert times[0] >= min(last, now) + interval - 1e-6
        assert eta(n, now=now, last_request_at=last, interval=interval) == pytest.approx(times[-1] - now)
    for a, b in itertools.pairwise(times):
        assert b - a == pytest.approx(interval)


def test_pacer_spacing_is_exact() -> None:
    t = FakeTime()
    pacer = Pacer.per_minute(10, clock=t.clock, sleep=t.sleep)
    start = t.now
    sent = [pacer.wait_turn() for _ in range(5)]
    assert sent == [start + 6.0 * i for i in range(5)]
    assert t.sleeps == [6.0] * 4
    assert pacer.last_request_at == sent[-1]


def test_first_request_of_a_new_apply_waits_for_the_last_one() -> None:
    t = FakeTime()
    pacer = Pacer(interval=6.0, last_request_at=t.now - 2.0, clock=t.clock, sleep=t.sleep)
    assert pacer.next_slot() == t.now + 4.0
    assert pacer.eta(3) == pytest.approx(16.0)
    first = pacer.wait_turn()
    assert t.sleeps == [4.0] and first == t.now


def test_work_between_requests_counts() -> None:
    t = FakeTime()
    pacer = Pacer(interval=6.0, clock=t.clock, sleep=t.sleep)
    pacer.wait_turn()
    t.now += 4.5  # the request itself took 4.5 s
    pacer.wait_turn()
    t.now += 10.0  # longer than the interval: no wait, and no catching up either
    pacer.wait_turn()
    assert t.sleeps == [1.5]


def test_429_reset_pushes_the_schedule() -> None:
    t = FakeTime()
    pacer = Pacer(interval=6.0, clock=t.clock, sleep=t.sleep)
    first = pacer.wait_turn()
    pacer.defer(20.0)  # the request was answered 429, reset 20 s
    second = pacer.wait_turn()
    third = pacer.wait_turn()
    assert second == first + 20.0
    assert third == second + 6.0
    pacer.defer(0.0)
    pacer.defer(-5.0)
    assert pacer.wait_turn() == third + 6.0


class Queue:
    """A shared quota as the postgres backend keeps it: each claim reserves the next free slot."""

    def __init__(self) -> None:
        self.last: float | None = None

    def claim(self, now: float, interval: float) -> float:
        slot = now if self.last is None else max(now, self.last + interval)
        self.last = slot
        return slot - now


def test_pacers_sharing_a_quota_take_turns() -> None:
    """Two applies of one app, one clock: each pacer waits its own interval, then the shared slot; together
    they send one request an interval, alternating (first come, first served)."""
    t, q = FakeTime(), Queue()
    a = Pacer(interval=6.0, clock=t.clock, sleep=t.sleep, shared=q.claim)
    b = Pacer(interval=6.0, clock=t.clock, sleep=t.sleep, shared=q.claim)
    start = t.now
    sent = [(p, p.wait_turn()) for p in (a, b, a, b)]
    assert [when - start for _, when in sent] == [0.0, 6.0, 12.0, 18.0]
    assert a.last_request_at == start + 12.0 and b.last_request_at == start + 18.0


def test_a_stop_while_waiting_for_a_shared_slot_sends_nothing() -> None:
    t, q = FakeTime(), Queue()
    q.last = t.now + 30.0  # others queued ahead
    pacer = Pacer(interval=6.0, clock=t.clock, sleep=t.sleep, shared=q.claim)
    asked = iter([False, False, True])
    with pytest.raises(WaitAbandoned):
        pacer.wait_turn(give_up=lambda: next(asked, True))
    assert pacer.last_request_at is None and t.sleeps == [1.0]


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("send"), st.just(0.0)),
            st.tuples(st.just("work"), st.floats(0, 30)),
            st.tuples(st.just("defer"), st.floats(0, 90)),
        ),
        max_size=40,
    ),
    st.floats(0.5, 60),
    st.none() | st.floats(-100, 100),
)
def test_pacer_never_bursts(ops: list[tuple[str, float]], interval: float, last_offset: float | None) -> None:
    t = FakeTime()
    start = t.now
    last = None if last_offset is None else start + last_offset
    pacer = Pacer(interval=interval, last_request_at=last, clock=t.clock, sleep=t.sleep)
    sent: list[float] = []
    not_before = t.now
    for op, value in ops:
        if op == "send":
            at = pacer.wait_turn()
            assert at >= not_before - EPS
            if sent:
                assert at - sent[-1] >= interval - EPS
            elif last is not None:
                assert at >= min(last, start) + interval - EPS
            sent.append(at)
        elif op == "work":
            t.now += value
        else:
            pacer.defer(value)
            not_before = max(not_before, t.now + value)


def test_pacer_validates() -> None:
    with pytest.raises(ValueError):
        Pacer(interval=0)
    assert eta(-1, now=0.0, last_request_at=None, interval=1.0) == 0.0  # no requests: no wait
