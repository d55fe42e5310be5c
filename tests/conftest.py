from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import FIXTURES
from tests.pgserver import pg_dsn, pg_server

__all__ = ["pg_dsn", "pg_server"]  # PostgreSQL for the postgres backend's tests (tests/pgserver.py)


@pytest.fixture
def fixture_root(tmp_path: Path) -> Path:
    """A small valid metrics root (catalog only) in a temporary directory."""
    root = tmp_path / "m"
    shutil.copytree(FIXTURES / "root", root)
    return root


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see the developer's or CI's Feishu settings, GitHub Actions, GitLab CI's job variables or
    redaction switches, or locale (which picks the readers' language: English here unless a test says
    otherwise), and each has a check cache of its own (never the developer's ~/.cache/syncer)."""
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(tmp_path_factory.mktemp("check-cache")))
    monkeypatch.setenv("LANG", "C.UTF-8")
    for var in (
        "SYNCER_CACHE",
        "FEISHU_APP_ID",
        "FEISHU_APP_SECRET",
        "FEISHU_BASE_URL",
        "GITHUB_ACTIONS",
        "SYNCER_REDACT",
        "SYNCER_DEBUG",
        "NO_COLOR",
        "GITHUB_STEP_SUMMARY",
        "SYNCER_PG_DSN",
        "LC_ALL",
        "LC_MESSAGES",
        "GITLAB_TOKEN",
        "CI_API_V4_URL",
        "CI_PROJECT_ID",
        "CI_MERGE_REQUEST_IID",
        "CI_JOB_TOKEN",
        "CI_SERVER_URL",
    ):
        monkeypatch.delenv(var, raising=False)


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    host = host.strip("[]").lower()
    return host in _LOOPBACK_NAMES or host.startswith("127.")


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """The test run opens no socket except to loopback: anything else fails the test loudly."""
    import socket

    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(address: object) -> None:
        if isinstance(address, tuple) and address and not _is_loopback(address[0]):
            raise RuntimeError(f"test tried to reach {address[0]!r}: tests may only use loopback")

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _is_loopback(host):
            raise RuntimeError(f"test tried to resolve {host!r}: tests may only use loopback")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
