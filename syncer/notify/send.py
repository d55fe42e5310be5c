"""Posting a card: the custom bot's webhook (signed when a secret is set) and the app bot (`im/v1/messages` to a
chat, with a `uuid` so a retried message is posted once). Facts and sources: docs/notify.md.

A chat never fails an apply: each transport makes at most two attempts of `timeout` seconds each (the second
only after a refusal that can pass on retry: no connection, 429, 5xx), with no pause between them, so the
cost is bounded by 2 x timeout per transport (plus one token request for the app bot). Whatever goes wrong
is one line for `warn`, naming the transport and never the webhook URL, a secret or a token."""

from __future__ import annotations

import base64
import gettext
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from syncer.errors import InsecureBaseURLError, SyncerError
from syncer.feishu.auth import credentials_from_env
from syncer.load.settings import NotifySettings
from syncer.notify.cards import card
from syncer.notify.event import Event
from syncer.notify.links import ci_links
from syncer.text import safe
from syncer.urls import check_base_url

#: Documented request-body limit of a custom bot (docs/notify.md); the card budget leaves room for the rest.
WEBHOOK_BODY_LIMIT = 20 * 1024
CARD_LIMIT = WEBHOOK_BODY_LIMIT - 1024
MESSAGES_PATH = "/open-apis/im/v1/messages"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
Warn = Callable[[str], None]


class NotPosted(Exception):
    """Why a post failed, in words fit for the log (escaped, no URL, no secret)."""

    def __init__(self, why: str, *, retry: bool = False) -> None:
        super().__init__(why)
        self.retry = retry


def sign(timestamp: int, secret: str) -> str:
    """The custom bot's signature: HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message, base64."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def _answer(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        data = None
    code = data.get("code", data.get("StatusCode")) if isinstance(data, dict) else None
    if resp.status_code == 429 or resp.status_code >= 500:
        raise NotPosted(f"HTTP {resp.status_code}", retry=True)
    if not isinstance(data, dict) or code not in (0, None) or resp.status_code != 200:
        msg = str(data.get("msg", "")) if isinstance(data, dict) else ""
        said = f" ({safe(msg[:200])})" if msg else ""
        raise NotPosted(f"Feishu answered HTTP {resp.status_code}, code {code}{said}")
    return data


def _post(client: httpx.Client, url: str, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Any:
    try:
        resp = client.post(url, content=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers=headers)
    except httpx.TimeoutException as exc:
        raise NotPosted(f"no answer in time ({type(exc).__name__})", retry=True) from None
    except httpx.HTTPError as exc:  # its text may hold the URL: only its kind is told
        raise NotPosted(f"no connection ({type(exc).__name__})", retry=True) from None
    return _answer(resp)


def _twice(attempt: Callable[[], object]) -> None:
    try:
        attempt()
    except NotPosted as exc:
        if not exc.retry:
            raise
        attempt()


def post_webhook(
    client: httpx.Client, card: dict[str, Any], settings: NotifySettings, env: Mapping[str, str], now: int
) -> None:
    url = env.get(settings.webhook_env, "").strip()
    if not url:
        raise NotPosted(f"the variable {settings.webhook_env} (notify.webhook_env) is not set")
    try:
        check_base_url(url)
    except InsecureBaseURLError:
        raise NotPosted(f"the variable {settings.webhook_env} does not hold an https URL") from None
    body: dict[str, Any] = {"msg_type": "interactive", "card": card}
    if settings.secret_env:
        secret = env.get(settings.secret_env, "")
        if not secret:
            raise NotPosted(f"the variable {settings.secret_env} (notify.secret_env) is not set")
        body = {"timestamp": str(now), "sign": sign(now, secret), **body}
    _twice(lambda: _post(client, url, body))


def post_app_bot(
    client: httpx.Client, card: dict[str, Any], settings: NotifySettings, env: Mapping[str, str], base_url: str
) -> None:
    try:
        creds = credentials_from_env(env)
    except SyncerError as exc:
        raise NotPosted(str(exc)) from None
    key = str(uuid.uuid4())  # once per message, before any retry: Feishu posts a uuid once
    body = {"receive_id": settings.chat_id, "msg_type": "interactive", "content": json.dumps(card, ensure_ascii=False)}
    body["uuid"] = key

    def attempt() -> None:
        auth = _post(client, base_url + TOKEN_PATH, {"app_id": creds.app_id, "app_secret": creds.app_secret})
        token = auth.get("tenant_access_token")
        if not isinstance(token, str):
            raise NotPosted("no tenant token in Feishu's answer")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"}
        _post(client, f"{base_url}{MESSAGES_PATH}?receive_id_type=chat_id", body, headers)

    _twice(attempt)


def post(
    card: dict[str, Any],
    settings: NotifySettings,
    *,
    env: Mapping[str, str],
    base_url: str,
    warn: Warn,
    info: Warn,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Post `card` through every configured transport; never raises for a chat's failure."""
    jobs: list[tuple[str, Callable[[httpx.Client], None]]] = []
    if settings.webhook_env:
        jobs.append(("custom bot webhook", lambda c: post_webhook(c, card, settings, env, int(clock()))))
    if settings.chat_id:
        jobs.append((f"app bot to {settings.chat_id}", lambda c: post_app_bot(c, card, settings, env, base_url)))
    with httpx.Client(timeout=settings.timeout_seconds, transport=transport, follow_redirects=False) as client:
        for name, job in jobs:
            try:
                job(client)
            except NotPosted as exc:
                warn(f"warning: Feishu notification ({name}) not posted: {exc}; syncer's outcome is unchanged")
            else:
                info(f"Feishu notification posted ({name}).")


def deliver(
    event: Event,
    settings: NotifySettings,
    *,
    values_allowed: bool,
    env: Mapping[str, str],
    base_url: str,
    warn: Warn,
    info: Warn,
    t: gettext.NullTranslations,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """The event's card in the language of `t` (syncer.i18n.translations), with the CI's links, posted where the
    settings say (nowhere when the event is not one of `notify.events`)."""
    kind = "drift" if event.outcome == "drift" else "apply"
    if kind not in settings.events:  # no transport set: `post` has nothing to do
        return
    the_card = card(event, ci_links(env), values_allowed=values_allowed, limit=CARD_LIMIT, t=t)
    post(the_card, settings, env=env, base_url=base_url, warn=warn, info=info, transport=transport, clock=clock)
