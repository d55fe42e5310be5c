"""The test interface over HTTP, under `/_emulator/` (never a Feishu path; no token needed).

| method and path                 | does                                                              |
|---------------------------------|-------------------------------------------------------------------|
| GET  /_emulator/health          | `{"ok": true, "app_id": ...}`                                     |
| GET  /_emulator/requests        | the request log (`?endpoint=metric_details.import` to filter)     |
| GET  /_emulator/values          | stored values (`?semester_id=`, `?reviewee_user_id=` open_id)     |
| GET  /_emulator/import_records  | accepted imports with their rows                                  |
| GET  /_emulator/faults          | the fault settings and the scripted faults still pending          |
| POST /_emulator/faults          | `{"kind", "endpoint", "times", "reset", "code"}` scripts a fault; |
|                                 | `{"settings": {...}}` replaces the random-fault settings          |
| POST /_emulator/tokens/expire   | expire every tenant token (the next call answers 99991663)        |
| POST /_emulator/reset           | back to the tenant as loaded                                      |
| GET  /_emulator/messages        | the chat messages posted (custom bot webhooks and the app bot)    |
| POST /_emulator/chat/hooks      | `{"token", "secret"}` registers a custom bot webhook              |
| POST /_emulator/chat/chats      | `{"chat_id"}` puts the app bot in a chat                          |

Answers are plain JSON (no Feishu envelope); errors are `{"error": "..."}` with HTTP 400 or 404.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syncer.emulator.envelope import Response
from syncer.emulator.faults import REFUSE_CODE

if TYPE_CHECKING:
    from syncer.emulator.app import Emulator


def _json(status: int, payload: Any) -> Response:
    body = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(status, {"content-type": "application/json; charset=utf-8"}, body)


def handle_admin(emu: Emulator, method: str, path: str, q: Mapping[str, str], body: bytes) -> Response:
    route = (method, path.rstrip("/"))
    if route == ("GET", "/_emulator/health"):
        return _json(200, {"ok": True, "app_id": emu.tenant.app.app_id})
    if route == ("GET", "/_emulator/requests"):
        entries = emu.requests(q.get("endpoint") or None)
        return _json(200, {"requests": [dataclasses.asdict(e) for e in entries]})
    if route == ("GET", "/_emulator/values"):
        values = emu.values(q.get("semester_id") or None)
        if q.get("reviewee_user_id"):
            values = [v for v in values if v.reviewee_user_id == q["reviewee_user_id"]]
        return _json(200, {"values": [dataclasses.asdict(v) for v in values]})
    if route == ("GET", "/_emulator/import_records"):
        return _json(200, {"import_records": [dataclasses.asdict(r) for r in emu.import_records()]})
    if route == ("GET", "/_emulator/faults"):
        return _json(200, {"settings": dataclasses.asdict(emu.faults.settings), "pending": emu.faults.pending()})
    if route == ("POST", "/_emulator/faults"):
        return _post_faults(emu, body)
    if route == ("POST", "/_emulator/tokens/expire"):
        return _json(200, {"expired": emu.expire_tokens()})
    if route == ("GET", "/_emulator/messages"):
        return _json(200, {"messages": [dataclasses.asdict(m) for m in emu.chat_messages()]})
    if route in (("POST", "/_emulator/chat/hooks"), ("POST", "/_emulator/chat/chats")):
        return _post_chat(emu, route[1], body)
    if route == ("POST", "/_emulator/reset"):
        emu.reset()
        return _json(200, {"ok": True})
    return _json(404, {"error": f"no emulator endpoint {method} {path}; see docs/emulator.md"})


def _post_faults(emu: Emulator, body: bytes) -> Response:
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _json(400, {"error": "the body must be JSON"})
    if not isinstance(data, dict):
        return _json(400, {"error": "the body must be a JSON object"})
    try:
        if "settings" in data:
            if not isinstance(data["settings"], dict):
                return _json(400, {"error": "settings must be an object"})
            settings = emu.faults.configure(**data["settings"])
            return _json(200, {"settings": dataclasses.asdict(settings)})
        emu.faults.inject(
            data.get("kind", ""),
            endpoint=str(data.get("endpoint", "metric_details.import")),
            times=int(data.get("times", 1)),
            reset=float(data.get("reset", 1)),
            code=int(data.get("code", REFUSE_CODE)),
        )
    except (TypeError, ValueError) as exc:
        return _json(400, {"error": str(exc)})
    return _json(200, {"pending": emu.faults.pending()})


def _post_chat(emu: Emulator, path: str, body: bytes) -> Response:
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    key = "token" if path.endswith("hooks") else "chat_id"
    if not isinstance(data, dict) or not isinstance(data.get(key), str) or not data[key]:
        return _json(400, {"error": f"the body must be a JSON object with {key}"})
    secret = data.get("secret")
    if secret is not None and not isinstance(secret, str):
        return _json(400, {"error": "secret must be a string"})
    if key == "token":
        emu.add_hook(data[key], secret)
    else:
        emu.add_chat(data[key])
    return _json(200, {"ok": True})
