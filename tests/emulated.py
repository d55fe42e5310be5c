"""The write client tests and benchmarks point at an in-process emulator: loopback URL, the emulator's own
app, its transport, and (when given) a ManualClock for time and sleep, with the retry jitter pinned. The CLI
tests serve it on loopback instead (`serving`), most of them with the example root beside it
(`served_example`)."""

from __future__ import annotations

import dataclasses
import random as _random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from syncer.emulator import Emulator, EmulatorServer, EmulatorTransport, ManualClock, Tenant
from syncer.emulator.tenant import Activity
from syncer.feishu.auth import Credentials
from syncer.feishu.write import WriteClient
from tests.example import copy_example, fast_imports

if TYPE_CHECKING:  # the benchmarks import this module without pytest
    import pytest

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


@contextmanager
def serving(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`emu` served on loopback, with FEISHU_BASE_URL and the emulator app's credentials set; yields the URL."""
    with EmulatorServer(emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", EMULATOR_CREDENTIALS.app_id)
        monkeypatch.setenv("FEISHU_APP_SECRET", EMULATOR_CREDENTIALS.app_secret)
        yield server.url


@dataclasses.dataclass(frozen=True)
class Served:
    root: Path
    emu: Emulator
    url: str


@contextmanager
def served_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, root: Path | None = None, emulator: Emulator | None = None
) -> Iterator[Served]:
    """The example root (`root`, already copied and edited; default: copied to tmp_path/metrics) allowing
    1000 imports a minute, against `emulator` (default: the default tenant, at the same rate) served on
    loopback, with the working directory tmp_path."""
    root = fast_imports(root if root is not None else copy_example(tmp_path / "metrics"))
    emu = emulator if emulator is not None else Emulator(import_per_minute=1000)
    with serving(emu, monkeypatch) as url:
        monkeypatch.chdir(tmp_path)
        yield Served(root, emu, url)


BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
H2 = "7293040702907514899"
REVENUE = "7272580325522276372"


def import_by_hand(
    url: str, reviewee: str = BOB, *, field_id: str = "5", value: str = "1500000", params: dict[str, str] | None = None
) -> None:
    """One 2026-H2 revenue value of `reviewee` imported into the served emulator by someone else, with a plain
    HTTP client (by default bob's actual, set to 1500000: the example's YAML holds 1499000)."""
    with httpx.Client(base_url=url) as http:
        token = http.post(
            "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": EMULATOR_CREDENTIALS.app_id, "app_secret": EMULATOR_CREDENTIALS.app_secret},
        ).json()["tenant_access_token"]
        answer = http.post(
            "/open-apis/performance/v2/metric_details/import",
            params={"client_token": "by-hand", **(params or {})},
            headers={"Authorization": f"Bearer {token}"},
            json={
                "semester_id": H2,
                "imported_metrics": [
                    {
                        "reviewee_user_id": reviewee,
                        "metric_id": REVENUE,
                        "fields": [{"field_id": field_id, "field_value": value}],
                    }
                ],
            },
        ).json()
    assert answer["code"] == 0, answer
