"""One HTTP answer of Feishu's, and what it calls for: the pure decision at the heart of the session's retry
loop (syncer.feishu.session), tested apart from any transport."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from syncer.feishu.codes import RATE_LIMITED, REAUTH_CODES, describe


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """One HTTP answer, its body parsed."""

    status: int
    headers: httpx.Headers
    body: Mapping[str, Any] | None  # None: not a JSON object

    @property
    def code(self) -> int | None:
        """The envelope's integer `code` (None: absent, or not an integer)."""
        raw = self.body.get("code") if self.body is not None else None
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None

    @property
    def success(self) -> bool:
        return self.code == 0 and 200 <= self.status < 300 and self.body is not None

    def violations(self, said: Callable[[Sequence[str]], Sequence[str]] = tuple) -> tuple[str, ...]:
        """The gateway's `error.field_violations` (99992402 and others), as "field: description", at most 10.
        `said` makes Feishu's words showable (the session's scrubbing and masking): it is given the names,
        then the descriptions, each list as one text cut in parts (a value may be cut across entries)."""
        error = self.body.get("error") if self.body is not None else None
        found = error.get("field_violations") if isinstance(error, Mapping) else None
        if not isinstance(found, list):
            return ()
        entries = [v for v in found[:10] if isinstance(v, Mapping)]
        names = said([str(v.get("field", "?")) for v in entries])
        whys = said([str(v.get("description", "") or v.get("value", "")) for v in entries])
        return tuple(f"{name}: {why}" if why else name for name, why in zip(names, whys, strict=True))


#: What to do with an answer, in the order the checks are made.
Step = Literal["done", "rate-limited", "reauth", "not-json", "no-code", "retry", "fail"]


def next_step(answer: HttpAnswer, *, authed: bool) -> Step:
    """What an answer calls for: done (the envelope says success), wait out a rate limit, fetch a new
    tenant token (only for calls that carry one), refuse an answer that is not the envelope, retry a
    transient failure, or fail with the code's error. Pure: the order of the checks is the decision."""
    status, code = answer.status, answer.code
    if answer.success:
        return "done"
    if status == 429 or code == RATE_LIMITED:
        return "rate-limited"
    if authed and code in REAUTH_CODES:
        return "reauth"
    if answer.body is None and status < 500:
        return "not-json"
    if code is None and 200 <= status < 300:
        return "no-code"
    if describe(code if code != 0 else None, http_status=status).scope == "retry":
        return "retry"
    return "fail"
