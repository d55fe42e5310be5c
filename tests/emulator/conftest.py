"""Fixtures for the emulator's tests: an emulator on a manual clock and a client wired to it in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncer.emulator import Emulator, ManualClock, Tenant, load_tenant

from .helpers import Api


@pytest.fixture(scope="session")
def tenant() -> Tenant:
    return load_tenant()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # 2026-09-21: inside 2026-H2, after 2026-H1's deadline


@pytest.fixture
def emu(tenant: Tenant, clock: ManualClock) -> Emulator:
    return Emulator(tenant, clock=clock, sleep=clock.sleep, import_per_minute=10_000)


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    a = Api(emu)
    yield a
    a.client.close()
