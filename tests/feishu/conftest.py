"""Fixtures: the scripted fake Feishu, a fake clock and a client factory wired to both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syncer.feishu.auth import Credentials
from syncer.feishu.client import ReadClient
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.write import WriteClient
from tests.feishu.fakefeishu import APP_ID, APP_SECRET, BASE, FakeFeishu, FakeTime


@pytest.fixture
def server() -> FakeFeishu:
    return FakeFeishu()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(server: FakeFeishu, fake_time: FakeTime) -> Iterator[MakeClient]:
    made: list[ReadClient] = []

    def make(cls: type[ReadClient] = WriteClient, **options: Any) -> Any:
        options.setdefault("base_url", BASE)
        options.setdefault("credentials", Credentials(APP_ID, APP_SECRET))
        options.setdefault("transport", server.transport())
        options.setdefault("clock", fake_time.clock)
        options.setdefault("sleep", fake_time.sleep)
        options.setdefault("random", lambda: 0.5)
        options.setdefault("retry", RetryPolicy())
        client = cls(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
