"""The write client tests and benchmarks point at an in-process emulator: loopback URL, the emulator's own
app, its transport, and (when given) a ManualClock for time and sleep, with the retry jitter pinned."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable

import httpx

from syncer.emulator import Emulator, EmulatorTransport, ManualClock
from syncer.feishu.auth import Credentials
from syncer.feishu.write import WriteClient

EMULATOR_CREDENTIALS = Credentials("cli_emulator", "emulator_secret")


def pinned() -> float:
    return 0.5


def emulator_client(
    emu: Emulator,
    clock: ManualClock | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    random: Callable[[], float] = pinned,
) -> WriteClient:
    """`clock`: the emulator's ManualClock (None: real time); `random`: the jitter (random.random: real)."""
    return WriteClient(
        base_url="http://127.0.0.1",
        credentials=EMULATOR_CREDENTIALS,
        transport=transport if transport is not None else EmulatorTransport(emu),
        clock=clock if clock is not None else time.monotonic,
        sleep=clock.sleep if clock is not None else time.sleep,
        random=random,
    )


REAL_JITTER = _random.random
