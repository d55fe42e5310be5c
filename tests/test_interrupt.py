"""syncer.interrupt.deferred: a signal that arrives during a step that must not be cut in two is held back and
then delivered as the handler in place would have had it."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from syncer import interrupt


@pytest.fixture
def seen() -> Iterator[list[int]]:
    """SIGTERM handled by recording it (the test's stand-in for `stop_at_once`), restored afterwards."""
    got: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        got.append(signum)

    previous = signal.signal(signal.SIGTERM, record)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_in_a_deferred_step_is_delivered_once_it_is_over(seen: list[int]) -> None:
    with interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == []
    assert seen == [signal.SIGTERM]
    os.kill(os.getpid(), signal.SIGTERM)  # the handler is back in place
    assert seen == [signal.SIGTERM, signal.SIGTERM]


def test_a_second_signal_in_a_deferred_step_is_delivered_at_once(seen: list[int]) -> None:
    """A step that waits on the network must not make a stop wait on it twice: the second signal goes through at
    once, and the first is not delivered again after the step."""
    with interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == []
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    assert seen == [signal.SIGTERM]


def test_a_second_stop_that_raises_ends_the_step_at_once(seen: list[int]) -> None:
    signal.signal(signal.SIGTERM, interrupt.stop_at_once)
    done: list[str] = []
    with pytest.raises(interrupt.Terminated), interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("the step")
    assert done == []
    assert signal.getsignal(signal.SIGTERM) == interrupt.stop_at_once


def test_a_stop_that_raises_raises_after_the_step(seen: list[int]) -> None:
    signal.signal(signal.SIGTERM, interrupt.stop_at_once)
    done: list[str] = []
    with pytest.raises(interrupt.Terminated), interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("the step")
    assert done == ["the step"]


def test_an_ignored_signal_stays_ignored(seen: list[int]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


def test_outside_the_main_thread_the_step_simply_runs(seen: list[int]) -> None:
    errors: list[BaseException] = []

    def step() -> None:
        try:
            with interrupt.deferred():
                pass
        except BaseException as exc:  # signal.signal outside the main thread raises ValueError
            errors.append(exc)

    worker = threading.Thread(target=step)
    worker.start()
    worker.join()
    assert errors == []
