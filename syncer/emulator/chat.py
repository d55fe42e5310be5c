"""The chat endpoints a notifier uses: a group's custom bot webhook (`POST /open-apis/bot/v2/hook/<token>`) and
the app bot's `POST /open-apis/im/v1/messages?receive_id_type=chat_id`. Each answers with its documented checks
(docs/emulator.md, "Chat"; the codes marked there as guesses are guesses) and records what it posted, for
tests: `Emulator.chat.messages`, `GET /_emulator/messages`.

- Webhook: the token must be a registered hook (`add_hook`); a hook with a secret wants `timestamp` (seconds,
  within an hour of now) and `sign` = base64(HMAC-SHA256(key "timestamp\\nsecret", empty message)), else
  19021; a body over 20 KB is refused; 100 requests a minute and 5 a second per hook.
- App bot: a tenant token; `receive_id_type=chat_id` and a chat the bot is in (`add_chat`; `oc_emulatorgroup` by
  default); `content` a JSON string of at most 30 KB; 5 messages a second per chat. A `uuid` seen in the last
  hour answers the first message again and posts nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer.emulator.envelope import Response, dumps
from syncer.emulator.ratelimit import SlidingWindowLimiter

WEBHOOK_PREFIX = "/open-apis/bot/v2/hook/"  # + the hook's token
MESSAGES_PATH = "/open-apis/im/v1/messages"
WEBHOOK = "bot.webhook"
MESSAGE = "im.message.create"
DEFAULT_CHAT = "oc_emulatorgroup"

WEBHOOK_BODY_LIMIT = 20 * 1024
CONTENT_LIMIT = 30 * 1024
SIGN_WINDOW_SECONDS = 3600
UUID_WINDOW_SECONDS = 3600
WEBHOOK_WINDOWS = ((100, 60.0), (5, 1.0))
CHAT_WINDOWS = ((5, 1.0),)

SIGN_FAILED = 19021  # documented
HOOK_UNKNOWN = 19001  # guess
BODY_TOO_LARGE = 9499  # guess
HOOK_RATE_LIMITED = 11232  # guess
BAD_REQUEST = 230001  # guess: a malformed message request
BOT_NOT_IN_CHAT = 230002  # guess
CONTENT_TOO_LONG = 230025  # guess


@dataclass(frozen=True, slots=True)
class Message:
    via: str  # "webhook" | "app"
    to: str  # the hook's token or the chat_id
    msg_type: str
    card: Any  # the card as posted (parsed)
    uuid: str | None
    message_id: str


@dataclass(slots=True)
class Chat:
    """Not thread-safe on its own: the emulator calls it under its lock."""

    hooks: dict[str, str | None] = field(default_factory=dict)  # token -> signing secret
    chats: set[str] = field(default_factory=lambda: {DEFAULT_CHAT})
    messages: list[Message] = field(default_factory=list)
    uuids: dict[str, tuple[float, str]] = field(default_factory=dict)  # uuid -> (posted at, message_id)

    def add_hook(self, token: str, secret: str | None = None) -> None:
        self.hooks[token] = secret

    def _record(self, via: str, to: str, msg_type: str, card: Any, uid: str | None) -> str:
        message_id = f"om_{len(self.messages) + 1:032x}"
        self.messages.append(Message(via, to, msg_type, card, uid, message_id))
        return message_id

    def serve(
        self,
        path: str,
        q: Mapping[str, str],
        body: bytes,
        *,
        auth: str | int | None,
        fault: str | None,
        now: float,
        limiter: SlidingWindowLimiter,
    ) -> Response:
        """One request to either endpoint: a scripted fault first (`error`: HTTP 500; `rate_limited`: 429;
        `refuse`: 400), then the app bot's token (`auth`: the app, or the token's error code), then the checks."""
        if fault == "error":
            return _answer(500, 500, "internal error (fault injection)")
        if fault in ("rate_limited", "refuse"):
            return _answer(429 if fault == "rate_limited" else 400, 99991400, "refused (fault injection)")
        if path.startswith(WEBHOOK_PREFIX):
            return self.webhook(path.removeprefix(WEBHOOK_PREFIX), body, now=now, limiter=limiter)
        if isinstance(auth, int):
            return _answer(400, auth, "invalid tenant access token")
        return self.message(q, body, now=now, limiter=limiter)

    def webhook(self, token: str, body: bytes, *, now: float, limiter: SlidingWindowLimiter) -> Response:
        if token not in self.hooks:
            return _answer(404, HOOK_UNKNOWN, "param invalid: incoming webhook access token invalid")
        if len(body) > WEBHOOK_BODY_LIMIT:
            return _answer(400, BODY_TOO_LARGE, f"request body larger than {WEBHOOK_BODY_LIMIT} bytes")
        if not limiter.check(token, WEBHOOK, WEBHOOK_WINDOWS).allowed:
            return _answer(200, HOOK_RATE_LIMITED, "frequency limited")
        data = _json(body)
        if data is None:
            return _answer(400, BAD_REQUEST, "body is not a JSON object")
        secret = self.hooks[token]
        if secret is not None and not _signed(data, secret, now):
            return _answer(200, SIGN_FAILED, "sign match fail or timestamp is not within one hour from current time")
        msg_type = data.get("msg_type")
        card = data.get("card")
        if msg_type != "interactive" or not isinstance(card, dict):
            return _answer(400, BAD_REQUEST, "msg_type interactive needs a card object")
        self._record("webhook", token, msg_type, card, None)
        return Response(200, {"Content-Type": "application/json"}, dumps(_ok({})))

    def message(self, q: Mapping[str, str], body: bytes, *, now: float, limiter: SlidingWindowLimiter) -> Response:
        data = _json(body)
        if q.get("receive_id_type") != "chat_id" or data is None:
            return _answer(400, BAD_REQUEST, "receive_id_type=chat_id and a JSON object body are required")
        chat, content, uid = data.get("receive_id"), data.get("content"), data.get("uuid")
        if not isinstance(chat, str) or not isinstance(content, str) or data.get("msg_type") != "interactive":
            return _answer(400, BAD_REQUEST, "receive_id, msg_type interactive and content (a JSON string) needed")
        if chat not in self.chats:
            return _answer(400, BOT_NOT_IN_CHAT, "the bot is not in the chat")
        if len(content.encode("utf-8")) > CONTENT_LIMIT:
            return _answer(400, CONTENT_TOO_LONG, f"content larger than {CONTENT_LIMIT} bytes")
        if isinstance(uid, str) and uid in self.uuids and now - self.uuids[uid][0] < UUID_WINDOW_SECONDS:
            return Response(200, {"Content-Type": "application/json"}, dumps(_ok({"message_id": self.uuids[uid][1]})))
        if not limiter.check(chat, MESSAGE, CHAT_WINDOWS).allowed:
            return _answer(429, 99991400, "request trigger frequency limit")
        try:
            card = json.loads(content)
        except json.JSONDecodeError:
            return _answer(400, BAD_REQUEST, "content is not JSON")
        message_id = self._record("app", chat, "interactive", card, uid if isinstance(uid, str) else None)
        if isinstance(uid, str):
            self.uuids[uid] = (now, message_id)
        return Response(200, {"Content-Type": "application/json"}, dumps(_ok({"message_id": message_id})))


def _ok(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": dict(data)}


def _answer(status: int, code: int, msg: str) -> Response:
    return Response(status, {"Content-Type": "application/json"}, dumps({"code": code, "msg": msg, "data": {}}))


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _signed(data: Mapping[str, Any], secret: str, now: float) -> bool:
    stamp, sign = data.get("timestamp"), data.get("sign")
    if not isinstance(stamp, str | int) or not isinstance(sign, str) or not str(stamp).isdigit():
        return False
    if abs(now - int(stamp)) > SIGN_WINDOW_SECONDS:
        return False
    key = f"{stamp}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")
    return hmac.compare_digest(expected, sign)
