"""Base URL resolution and https enforcement; the code table; retry arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.errors import ConfigError, InsecureBaseURLError
from syncer.feishu.auth import Credentials
from syncer.feishu.client import ReadClient
from syncer.feishu.codes import CODES, describe
from syncer.feishu.retry import backoff_delay, rate_limit_wait
from syncer.urls import check_base_url, is_loopback_host, resolve_base_url
from tests.feishu.fakefeishu import APP_SECRET


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://open.feishu.cn", "https://open.feishu.cn"),
        ("https://open.larksuite.com/", "https://open.larksuite.com"),
        ("HTTPS://Open.Feishu.cn:443", "https://Open.Feishu.cn:443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.5.6.7", "http://127.5.6.7"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("http://localhost:1234", "http://localhost:1234"),
        ("http://LOCALHOST", "http://LOCALHOST"),
    ],
)
def test_accepted_base_urls(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://open.feishu.cn", "plain http"),
        ("http://10.0.0.1", "plain http"),
        ("http://localhost.example.com", "plain http"),
        ("http://128.0.0.1", "plain http"),
        ("http://[::2]", "plain http"),
        ("ftp://open.feishu.cn", "not a URL"),
        ("open.feishu.cn", "not a URL"),
        ("https://", "not a URL"),
        ("https://user:pw@open.feishu.cn", "credentials"),
        ("https://open.feishu.cn/?x=1", "query"),
        ("https://open.feishu.cn:99999", "not a URL"),
    ],
)
def test_refused_base_urls(url: str, match: str) -> None:
    with pytest.raises(InsecureBaseURLError, match=match) as info:
        check_base_url(url)
    assert isinstance(info.value, ConfigError)


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("example.com")


def test_base_url_precedence() -> None:
    env = {"FEISHU_BASE_URL": "https://env.example"}
    assert resolve_base_url(flag="https://flag.example", settings_base_url="https://file.example", env=env) == (
        "https://flag.example"
    )
    assert resolve_base_url(flag=None, settings_base_url="https://file.example", env=env) == "https://env.example"
    assert resolve_base_url(flag=None, settings_base_url="https://file.example", env={}) == "https://file.example"
    assert resolve_base_url(flag="", settings_base_url="https://file.example", env={"FEISHU_BASE_URL": " "}) == (
        "https://file.example"
    )
    with pytest.raises(InsecureBaseURLError, match="FEISHU_BASE_URL"):
        resolve_base_url(flag=None, settings_base_url="https://f.example", env={"FEISHU_BASE_URL": "http://x.cn"})
    with pytest.raises(InsecureBaseURLError, match="--base-url"):
        resolve_base_url(flag="http://x.cn", settings_base_url="https://f.example", env={})
    with pytest.raises(InsecureBaseURLError, match=r"syncer\.yaml"):
        resolve_base_url(flag=None, settings_base_url="http://x.cn", env={})


def test_client_refuses_plain_http() -> None:
    with pytest.raises(InsecureBaseURLError):
        ReadClient(base_url="http://open.feishu.cn", credentials=Credentials("cli_x", APP_SECRET))


# Every code of docs/feishu-api.md with the scope the apply stage acts on.
EXPECTED_SCOPES = {
    1580101: "retry",
    1580102: "request",
    1580105: "request",
    1580110: "duplicate-token",
    1580112: "reviewee",
    1580301: "row",
    1580302: "row",
    1580303: "row",
    1580304: "reviewee",
    1580305: "row",
    1580306: "reviewee",
    1580307: "bug",
    1580308: "bug",
    1580309: "request",
    1580310: "request",
    1580311: "row",
    1580312: "row",
    1580901: "request",
    10003: "request",
    10014: "request",
    99991400: "request",
    99991672: "request",
    99992402: "request",
    99991661: "request",
    99991663: "request",
    99991671: "request",
}


def test_code_table_is_complete() -> None:
    assert {code: info.scope for code, info in CODES.items()} == EXPECTED_SCOPES
    for info in CODES.values():
        assert info.meaning and info.remedy


def test_describe_fallbacks() -> None:
    assert describe(None, http_status=502).scope == "retry"
    assert describe(123, http_status=500).scope == "retry"
    assert describe(123, http_status=400).scope == "request"
    assert describe(1580304, http_status=500).scope == "reviewee"  # a known code wins over the status
    assert describe(1580101).remedy == "retry later"


def test_backoff_examples() -> None:
    assert [backoff_delay(n, base=1.0, cap=30.0, rand=1.0) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff_delay(3, base=1.0, cap=30.0, rand=0.0) == 0.0
    assert backoff_delay(10_000, base=1.0, cap=30.0, rand=0.5) == 15.0


@given(st.integers(1, 200), st.floats(0, 1, exclude_max=True), st.floats(0.01, 5), st.floats(1, 120))
def test_backoff_full_jitter_is_bounded(retry: int, rand: float, base: float, cap: float) -> None:
    delay = backoff_delay(retry, base=base, cap=max(cap, base), rand=rand)
    assert 0 <= delay <= min(max(cap, base), base * 2 ** min(retry - 1, 64))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ogw-ratelimit-reset": "7"}, 7.0),
        ({"x-ogw-ratelimit-reset": " 2.5 "}, 2.5),
        ({"x-ogw-ratelimit-reset": "0"}, 1.0),
        ({"x-ogw-ratelimit-reset": "-3"}, 60.0),
        ({"x-ogw-ratelimit-reset": "soon"}, 60.0),
        ({"x-ogw-ratelimit-reset": "nan"}, 60.0),
        ({}, 60.0),
    ],
)
def test_rate_limit_wait(headers: dict[str, str], expected: float) -> None:
    wait = rate_limit_wait(headers, fallback=60.0)
    assert wait == expected and math.isfinite(wait)
