"""The write client tests and benchmarks point at an in-process emulator: loopback URL, the emulator's own
app, its transport, and (when given) a ManualClock for time and sleep, with the retry jitter pinned."""

from __future__ import annotations

import dataclasses
import random as _random
import time
from collections.abc import Callable

import httpx

from syncer.emulator import Emulator, EmulatorTransport, ManualClock, Tenant
from syncer.emulator.tenant import Activity
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


def in_one_project(tenant: Tenant, semester_id: str, project: Activity) -> Tenant:
    """`tenant` with every reviewee of the semester in `project` (and in no other)."""
    semester = tenant.semesters[semester_id]
    reviewees = {k: dataclasses.replace(r, activity_ids=(project.id,)) for k, r in semester.reviewees.items()}
    changed = dataclasses.replace(semester, reviewees=reviewees, activities={project.id: project})
    return dataclasses.replace(tenant, semesters={**tenant.semesters, semester_id: changed})


def granted(tenant: Tenant, scopes: frozenset[str]) -> Tenant:
    """`tenant` whose app is granted exactly `scopes`."""
    return dataclasses.replace(tenant, app=dataclasses.replace(tenant.app, scopes=scopes))
