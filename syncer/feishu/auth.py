"""App credentials (from the environment only) and the tenant-token cache (pure: time is passed in)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from syncer.feishu.errors import MissingCredentialsError

APP_ID_ENV = "FEISHU_APP_ID"
APP_SECRET_ENV = "FEISHU_APP_SECRET"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"

# Feishu hands out a new token when less than 30 minutes are left; refresh then (or at half the lifetime
# of a shorter-lived token), never at the last second.
REFRESH_MARGIN_SECONDS = 30 * 60


@dataclass(frozen=True, slots=True)
class Credentials:
    app_id: str
    app_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(app_id={self.app_id!r}, app_secret=<hidden>)"

    __str__ = __repr__


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials:
    """FEISHU_APP_ID and FEISHU_APP_SECRET, both required; never from a file."""
    environ = os.environ if env is None else env
    app_id = environ.get(APP_ID_ENV, "").strip()
    secret = environ.get(APP_SECRET_ENV, "").strip()
    missing = [name for name, value in ((APP_ID_ENV, app_id), (APP_SECRET_ENV, secret)) if not value]
    if missing:
        raise MissingCredentialsError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: syncer reads the "
            f"Feishu app credentials only from the environment variables {APP_ID_ENV} and {APP_SECRET_ENV}"
        )
    return Credentials(app_id, secret)


def refresh_at(*, fetched_at: float, expire: float) -> float:
    """When a token fetched at `fetched_at`, valid `expire` seconds, should be replaced."""
    margin = min(REFRESH_MARGIN_SECONDS, expire / 2)
    return fetched_at + expire - margin


class TokenCache:
    """The tenant token and when to replace it. Its repr never shows the token."""

    __slots__ = ("_refresh_at", "_token")

    def __init__(self) -> None:
        self._token: str | None = None
        self._refresh_at = 0.0

    def get(self, now: float) -> str | None:
        """The cached token, or None when there is none or it is due for a refresh."""
        if self._token is None or now >= self._refresh_at:
            return None
        return self._token

    def store(self, token: str, *, expire: float, now: float) -> None:
        self._token = token
        self._refresh_at = refresh_at(fetched_at=now, expire=expire)

    def drop(self) -> None:
        self._token = None
        self._refresh_at = 0.0

    def __repr__(self) -> str:
        state = "empty" if self._token is None else f"token=<hidden>, refresh_at={self._refresh_at}"
        return f"TokenCache({state})"
