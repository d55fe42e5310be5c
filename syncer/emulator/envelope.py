"""The emulator's answers as bytes: Feishu's JSON envelope `{"code", "msg", "data"}`, its error object and
its headers (the log ID, the rate-limit headers of a 429), and the authentication codes with their messages.

Every function takes the request's sequence number, from which the log ID is made, and returns a `Response`;
nothing here reads the tenant or the store."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

JSON_TYPE = "application/json; charset=utf-8"
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
RATE_LIMITED = 99991400
TOKEN_MISSING = 99991661
TOKEN_INVALID = 99991663
TOKEN_MALFORMED = 99991671
AUTH_INVALID_PARAM = 10003
AUTH_BAD_SECRET = 10014
NOT_FOUND = 404  # paths the emulator does not serve: a JSON envelope, as clients expect from Feishu
AUTH_MSG = {
    TOKEN_MISSING: "Missing access token for authorization. Please make a request with token attached.",
    TOKEN_INVALID: "Invalid access token for authorization. Please make a request with token attached.",
    TOKEN_MALFORMED: "Invalid access token format. The token must look like 't-...'.",
}


class Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def dumps(obj: Any) -> bytes:
    """Compact JSON in UTF-8, as Feishu sends it."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a test's hostile message): JSON's own escapes carry it
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def log_id(seq: int) -> str:
    """The log ID of the request numbered `seq` (Feishu's `X-Tt-Logid`, also in an error's `log_id`)."""
    return f"20260101000000EMULATOR{seq:010d}"


def envelope(seq: int, status: int, payload: Mapping[str, Any], extra: Mapping[str, str] | None = None) -> Response:
    headers = {"Content-Type": JSON_TYPE, "X-Tt-Logid": log_id(seq), "X-Request-Id": log_id(seq)}
    headers.update(extra or {})
    return Response(status, headers, dumps(payload))


def ok(seq: int, data: Mapping[str, Any]) -> Response:
    return envelope(seq, 200, {"code": 0, "msg": "success", "data": data})


def error(seq: int, status: int, code: int, msg: str, detail: str | None = None, field: str | None = None) -> Response:
    """An error envelope with Feishu's `error` object: the log ID, the reason and the offending field."""
    err: dict[str, Any] = {"log_id": log_id(seq)}
    if detail:
        err["details"] = [{"key": "reason", "value": detail}]
    if field:
        err["field_violations"] = [{"field": field, "description": detail or msg}]
    return envelope(seq, status, {"code": code, "msg": msg, "data": {}, "error": err})


def echoed(response: Response, body: bytes) -> Response:
    """A refusal that repeats the request it refused, as a gateway quoting what it checked does: `msg` ends
    with the body as received, `error.details` holds it once more, and `error.field_violations` quote each
    field value of an import (`imported_metrics[].fields[]`): a number with one decimal place more (`95` as
    `95.0`), any other text as a JSON string in ASCII escapes cut in two entries at its middle."""
    payload = response.json()
    text = body.decode("utf-8", errors="replace")
    payload["msg"] = f"{payload.get('msg', '')}: {text}"
    error = payload.setdefault("error", {})
    error["details"] = [*error.get("details", []), {"key": "request_body", "value": text}]
    try:
        items = json.loads(text).get("imported_metrics", [])
    except (ValueError, AttributeError):
        items = []
    violations = list(error.get("field_violations", []))
    for i, item in enumerate(items if isinstance(items, list) else []):
        for j, f in enumerate(item.get("fields", []) if isinstance(item, dict) else []):
            for key in ("field_value", "field_value_person"):
                value = f.get(key) if isinstance(f, dict) else None
                if not isinstance(value, str) or not value:
                    continue
                where = f"imported_metrics[{i}].fields[{j}].{key}"
                if _NUMBER.fullmatch(value):
                    violations.append(
                        {"field": where, "description": f"invalid value {value}{'' if '.' in value else '.'}0"}
                    )
                    continue
                quoted = json.dumps(value)
                half = len(quoted) // 2
                violations += [
                    {"field": where, "description": f"invalid value {quoted[:half]}"},
                    {"field": where, "description": quoted[half:]},
                ]
    error["field_violations"] = violations
    return Response(response.status, response.headers, dumps(payload))


def rate_limited(seq: int, limit: int, reset: int) -> Response:
    """HTTP 429 with the gateway's headers: the window's limit and the seconds until it resets."""
    headers = {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(reset)}
    payload = {"code": RATE_LIMITED, "msg": "request trigger frequency limit", "data": {}}
    return envelope(seq, 429, payload, headers)
