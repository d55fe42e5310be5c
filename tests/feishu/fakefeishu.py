"""A scripted fake Feishu on httpx.MockTransport (no sockets) and a fake clock. (Not syncer.emulator.)"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx

from syncer.feishu.auth import TOKEN_PATH

BASE = "https://open.feishu.test"
APP_ID = "cli_test_app"
APP_SECRET = "SUPERSECRET-app-secret-0123456789"

Scripted = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(data: dict[str, Any] | None = None, *, status: int = 200) -> httpx.Response:
    body: dict[str, Any] = {"code": 0, "msg": "success"}
    if data is not None:
        body["data"] = data
    return httpx.Response(status, json=body)


def fail(code: int, msg: str = "failed", *, status: int = 400, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "msg": msg}, headers=headers)


class FakeFeishu:
    """Routes by path. A path's script (a queue) answers first; then the default: the token endpoint issues
    `T-SECRET-TOKEN-<n>`, every other path checks the Bearer token and answers `defaults[path]`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.scripts: dict[str, list[Scripted]] = defaultdict(list)
        self.defaults: dict[str, dict[str, Any]] = {}
        self.expire = 7200
        self.issued: list[str] = []
        self.valid: set[str] = set()

    def script(self, path: str, *answers: Scripted) -> None:
        self.scripts[path].extend(answers)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def token_fetches(self) -> int:
        return len(self.calls(TOKEN_PATH))

    def revoke_all(self) -> None:
        self.valid.clear()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.scripts[path]:
            answer = self.scripts[path].pop(0)
            if isinstance(answer, Exception):
                raise answer
            if callable(answer) and not isinstance(answer, httpx.Response):
                return answer(request)
            return answer
        if path == TOKEN_PATH:
            body = json.loads(request.content)
            if body != {"app_id": APP_ID, "app_secret": APP_SECRET}:
                return fail(10003, "invalid param", status=200)
            token = f"T-SECRET-TOKEN-{len(self.issued) + 1}"
            self.issued.append(token)
            self.valid.add(token)
            return httpx.Response(
                200, json={"code": 0, "msg": "ok", "tenant_access_token": token, "expire": self.expire}
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.valid:
            return fail(99991663, "Invalid access token for authorization", status=400)
        return ok(self.defaults.get(path, {}))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


class FakeTime:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
