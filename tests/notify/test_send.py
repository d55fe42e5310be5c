"""Posting (syncer.notify.send) against httpx mock transports: the custom bot's signature, the app bot's uuid set
once before its one retry, at most two attempts, and every failure one warning that holds no URL or secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from syncer.i18n import translations
from syncer.load.settings import NotifySettings
from syncer.notify.send import deliver, post, sign

HOOK = "https://open.feishu.cn/open-apis/bot/v2/hook/tok-123"
ENV = {"HOOK": HOOK, "HOOK_SECRET": "sec", "FEISHU_APP_ID": "cli_x", "FEISHU_APP_SECRET": "app-secret"}
CARD: dict[str, Any] = {"header": {}, "elements": []}


def test_sign_is_hmac_sha256_keyed_with_timestamp_newline_secret_over_nothing() -> None:
    expected = base64.b64encode(hmac.new(b"1599360473\nsec", b"", hashlib.sha256).digest()).decode()
    assert sign(1599360473, "sec") == expected
    assert sign(1599360473, "sec") != sign(1599360474, "sec")


def send(settings: NotifySettings, handler: Any, env: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    warned: list[str] = []
    said: list[str] = []
    post(
        CARD,
        settings,
        env=ENV if env is None else env,
        base_url="https://open.feishu.cn",
        warn=warned.append,
        info=said.append,
        transport=httpx.MockTransport(handler),
        clock=lambda: 1700000000.5,
    )
    return warned, said


def test_the_webhook_body_is_signed_when_a_secret_is_set() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {}})

    warned, said = send(NotifySettings(webhook_env="HOOK", secret_env="HOOK_SECRET"), handler)
    assert warned == [] and said == ["Feishu notification posted (custom bot webhook)."]
    assert seen == [
        {"timestamp": "1700000000", "sign": sign(1700000000, "sec"), "msg_type": "interactive", "card": CARD}
    ]
    seen.clear()
    send(NotifySettings(webhook_env="HOOK"), handler)
    assert seen == [{"msg_type": "interactive", "card": CARD}]


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        (httpx.ReadTimeout("read timed out to " + HOOK), "no answer in time (ReadTimeout)"),
        (httpx.ConnectError("cannot reach " + HOOK), "no connection (ConnectError)"),
        (httpx.Response(503), "HTTP 503"),
    ],
)
def test_a_failing_chat_gets_one_retry_then_one_warning_without_the_url(failure: Any, why: str) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if isinstance(failure, Exception):
            raise failure
        return failure  # type: ignore[no-any-return]

    warned, said = send(NotifySettings(webhook_env="HOOK"), handler)
    assert len(calls) == 2 and said == []
    assert warned == [
        f"warning: Feishu notification (custom bot webhook) not posted: {why}; syncer's outcome is unchanged"
    ]
    assert "tok-123" not in warned[0]


def test_a_refusal_is_not_retried_and_feishus_words_are_escaped() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"code": 19021, "msg": "sign match fail\n::error::x"})

    warned, _ = send(NotifySettings(webhook_env="HOOK"), handler)
    assert len(calls) == 1
    assert warned[0].endswith("code 19021 (sign match fail\\n::error::x); syncer's outcome is unchanged")


def test_the_app_bot_sends_the_card_as_a_string_with_one_uuid_for_both_attempts() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("tenant_access_token/internal"):
            return httpx.Response(200, json={"code": 0, "tenant_access_token": "t-abcdef", "expire": 7200})
        assert request.url.params["receive_id_type"] == "chat_id"
        assert request.headers["authorization"] == "Bearer t-abcdef"
        bodies.append(json.loads(request.content))
        return httpx.Response(500 if len(bodies) == 1 else 200, json={"code": 0, "data": {"message_id": "om_1"}})

    warned, said = send(NotifySettings(chat_id="oc_abc"), handler)
    assert warned == [] and said == ["Feishu notification posted (app bot to oc_abc)."]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[0]["receive_id"] == "oc_abc" and json.loads(bodies[0]["content"]) == CARD
    assert len(bodies[0]["uuid"]) == 36


def test_missing_variables_and_a_plain_http_url_are_said_without_their_values() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    warned, _ = send(NotifySettings(webhook_env="HOOK", chat_id="oc_abc"), handler, env={})
    assert "the variable HOOK (notify.webhook_env) is not set" in warned[0]
    assert "FEISHU_APP_ID and FEISHU_APP_SECRET are not set" in warned[1]
    warned, _ = send(NotifySettings(webhook_env="HOOK"), handler, env={"HOOK": "http://chat.example/hook/tok-9"})
    assert warned == [
        "warning: Feishu notification (custom bot webhook) not posted: the variable HOOK does not hold an https URL; "
        "syncer's outcome is unchanged"
    ]
    warned, _ = send(NotifySettings(webhook_env="HOOK", secret_env="NOPE"), handler)
    assert "the variable NOPE (notify.secret_env) is not set" in warned[0]


def test_deliver_posts_only_the_events_the_settings_ask_for() -> None:
    from syncer.notify.event import Event, failed_event

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"code": 0})

    def deliver_to(settings: NotifySettings, event: Event) -> None:
        deliver(event, settings, values_allowed=False, env=ENV, base_url="https://open.feishu.cn",
                warn=lambda _: None, info=lambda _: None, t=translations("en"),
                transport=httpx.MockTransport(handler))  # fmt: skip

    failed = failed_event("boom", commit="abc")
    drift = Event(outcome="drift", semesters=(), rows=(), commit="abc")
    deliver_to(NotifySettings(webhook_env="HOOK", events=frozenset({"drift"})), failed)
    deliver_to(NotifySettings(webhook_env="", events=frozenset({"drift", "apply"})), drift)
    assert sent == []
    deliver_to(NotifySettings(webhook_env="HOOK", events=frozenset({"drift"})), drift)
    deliver_to(NotifySettings(webhook_env="HOOK", events=frozenset({"apply"})), failed)
    assert len(sent) == 2
