"""The emulator's chat endpoints (syncer.emulator.chat) through `Emulator.handle`: the custom bot webhook's
signature (19021), its body limit and rate limit; the app bot's token, chat, content limit, rate limit and the
uuid that posts a message once; the recorded messages over /_emulator/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from syncer.emulator import Emulator, ManualClock
from syncer.emulator.chat import DEFAULT_CHAT

HOOK = "/open-apis/bot/v2/hook/h1"
MESSAGES = "/open-apis/im/v1/messages"
CARD = {"header": {"title": {"tag": "plain_text", "content": "hi"}}, "elements": []}


def emulator() -> tuple[Emulator, ManualClock]:
    clock = ManualClock(start=1_700_000_000.0)
    emu = Emulator(clock=clock, sleep=clock.sleep)
    emu.add_hook("h1", "sec")
    return emu, clock


def signed(stamp: int, secret: str = "sec", **more: Any) -> bytes:
    sign = base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    return json.dumps({"timestamp": str(stamp), "sign": sign, "msg_type": "interactive", "card": CARD, **more}).encode()


def answer(resp: Any) -> tuple[int, int]:
    return resp.status, json.loads(resp.body)["code"]


def test_a_signed_card_is_posted_and_recorded() -> None:
    emu, clock = emulator()
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock())))) == (200, 0)
    (m,) = emu.chat_messages()
    assert (m.via, m.to, m.card) == ("webhook", "h1", CARD)
    listed = json.loads(emu.handle("GET", "/_emulator/messages").body)["messages"]
    assert listed[0]["card"] == CARD


def test_a_wrong_secret_or_an_old_timestamp_answers_19021_and_posts_nothing() -> None:
    emu, clock = emulator()
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock()), "other"))) == (200, 19021)
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock()) - 3601))) == (200, 19021)
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock()) - 3600))) == (200, 0)  # within the hour
    unsigned = json.dumps({"msg_type": "interactive", "card": CARD}).encode()
    assert answer(emu.handle("POST", HOOK, body=unsigned)) == (200, 19021)
    assert len(emu.chat_messages()) == 1


def test_an_unknown_hook_a_body_over_20_kb_and_the_rate_limit_are_refused() -> None:
    emu, clock = emulator()
    assert answer(emu.handle("POST", "/open-apis/bot/v2/hook/nope", body=signed(int(clock())))) == (404, 19001)
    big = signed(int(clock()), pad="x" * (20 * 1024))
    assert answer(emu.handle("POST", HOOK, body=big)) == (400, 9499)
    codes = [answer(emu.handle("POST", HOOK, body=signed(int(clock()))))[1] for _ in range(6)]
    assert codes == [0, 0, 0, 0, 0, 11232]  # 5 a second
    clock.advance(1.0)
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock())))) == (200, 0)


def message(emu: Emulator, *, chat: str = DEFAULT_CHAT, uuid: str = "u-1", content: str | None = None) -> Any:
    token = emu.issue_token()
    body = {"receive_id": chat, "msg_type": "interactive", "content": content or json.dumps(CARD), "uuid": uuid}
    return emu.handle(
        "POST",
        MESSAGES,
        {"receive_id_type": "chat_id"},
        {"Authorization": f"Bearer {token}"},
        json.dumps(body).encode(),
    )


def test_the_app_bot_posts_once_per_uuid_within_an_hour() -> None:
    emu, clock = emulator()
    first = json.loads(message(emu).body)["data"]["message_id"]
    again = json.loads(message(emu).body)["data"]["message_id"]
    assert first == again and len(emu.chat_messages()) == 1
    clock.advance(3600)
    assert json.loads(message(emu).body)["data"]["message_id"] != first
    assert len(emu.chat_messages()) == 2


def test_the_app_bot_needs_a_token_a_chat_it_is_in_and_content_within_30_kb() -> None:
    emu, _ = emulator()
    body = json.dumps({"receive_id": DEFAULT_CHAT, "msg_type": "interactive", "content": "{}"}).encode()
    assert answer(emu.handle("POST", MESSAGES, {"receive_id_type": "chat_id"}, {}, body))[0] == 400
    assert answer(message(emu, chat="oc_other")) == (400, 230002)
    big = json.dumps({"pad": "x" * (30 * 1024)})
    assert answer(message(emu, uuid="u-2", content=big)) == (400, 230025)
    assert emu.chat_messages() == []


def test_the_app_bot_is_limited_to_5_messages_a_second_per_chat() -> None:
    emu, _ = emulator()
    codes = [answer(message(emu, uuid=f"u-{i}"))[1] for i in range(6)]
    assert codes == [0, 0, 0, 0, 0, 99991400]


def test_faults_and_the_admin_endpoints() -> None:
    emu, clock = emulator()
    emu.faults.inject("error", endpoint="bot.webhook")
    assert answer(emu.handle("POST", HOOK, body=signed(int(clock())))) == (500, 500)
    assert emu.handle("POST", "/_emulator/chat/hooks", body=b'{"token": "h2"}').status == 200
    assert answer(emu.handle("POST", "/open-apis/bot/v2/hook/h2", body=signed(0))) == (200, 0)  # unsigned hook
    assert emu.handle("POST", "/_emulator/chat/chats", body=b'{"chat_id": "oc_more"}').status == 200
    assert answer(message(emu, chat="oc_more")) == (200, 0)
    assert emu.handle("POST", "/_emulator/chat/hooks", body=b'{"secret": 1}').status == 400
    assert {e.path for e in emu.requests("bot.webhook")} == {"/open-apis/bot/v2/hook/(token)"}
