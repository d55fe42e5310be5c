"""The session's decisions, pure: what an answer calls for (syncer.feishu.answer.next_step), in the order
the checks are made. The loop that acts on them is covered end to end in test_feishu_client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from syncer.feishu.answer import HttpAnswer, Step, next_step
from syncer.feishu.codes import RATE_LIMITED


def answer(status: int, body: dict[str, Any] | None) -> HttpAnswer:
    return HttpAnswer(status, httpx.Headers(), body)


@pytest.mark.parametrize(
    ("status", "body", "authed", "step"),
    [
        (200, {"code": 0, "data": {}}, True, "done"),
        (200, {"code": 0}, False, "done"),
        (429, None, True, "rate-limited"),
        (200, {"code": RATE_LIMITED}, True, "rate-limited"),  # the code says so whatever the status
        (401, {"code": 99991663}, True, "reauth"),
        (401, {"code": 99991663}, False, "fail"),  # fetching the token itself: no new token to fetch
        (200, None, True, "not-json"),
        (404, None, True, "not-json"),
        (200, {"msg": "ok"}, True, "no-code"),
        (200, {"code": True}, True, "no-code"),  # a boolean is not an integer code
        (502, None, True, "retry"),
        (500, {"code": 0}, True, "retry"),  # success code, server error: the status decides
        (200, {"code": 1580101}, True, "retry"),
        (200, {"code": 1580110}, True, "fail"),
        (400, {"code": 0}, True, "fail"),
    ],
)
def test_next_step(status: int, body: dict[str, Any] | None, authed: bool, step: Step) -> None:
    assert next_step(answer(status, body), authed=authed) == step


def test_a_rate_limit_comes_before_a_token_refusal() -> None:
    """A 429 carrying a token code is waited out, not taken for a refused token."""
    assert next_step(answer(429, {"code": 99991663}), authed=True) == "rate-limited"
