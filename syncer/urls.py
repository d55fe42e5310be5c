"""Which Feishu host to talk to: `--base-url`, then FEISHU_BASE_URL, then syncer.yaml; https only, except
to loopback (the emulator, tests)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from syncer.errors import InsecureBaseURLError

BASE_URL_ENV = "FEISHU_BASE_URL"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost` (nothing else: a name could resolve anywhere)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bad_host(host: str, *, bracketed: bool, port: int | None) -> str | None:
    """Why a URL's host (and port) cannot be connected to, or None."""
    if port == 0:
        return "port 0"
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} in brackets is not an IPv6 address"
        return None
    try:
        host.encode("idna").decode("idna")
    except UnicodeError as exc:
        return f"host name {host[:40]!r}: {exc}"
    return None


def check_base_url(url: str, *, origin: str = "base URL") -> str:
    """Return `url` normalised (no trailing slash) or raise InsecureBaseURLError saying why it is refused.

    `origin` names where the value came from (the flag, the variable, the file) for the message."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed or out-of-range port
    except ValueError as exc:  # an unclosed IPv6 bracket, a port that is not a number
        raise InsecureBaseURLError(
            f"{origin} {text!r} is not a URL like https://open.feishu.cn ({exc})", insecure=False
        ) from None
    scheme = parts.scheme.lower()
    if host and (why := _bad_host(host, bracketed="[" in parts.netloc, port=parts.port)):
        raise InsecureBaseURLError(
            f"{origin} {text!r} is not a URL like https://open.feishu.cn ({why})", insecure=False
        )
    if scheme not in ("http", "https") or not host:
        raise InsecureBaseURLError(
            f"{origin} {text!r} is not a URL like https://open.feishu.cn (scheme and host required)", insecure=False
        )
    if parts.username is not None or parts.password is not None:
        raise InsecureBaseURLError(
            f"{origin} must not hold credentials (user:password@); use FEISHU_APP_ID and FEISHU_APP_SECRET"
        )
    if parts.query or parts.fragment:
        raise InsecureBaseURLError(f"{origin} {text!r} must not have a query or a fragment", insecure=False)
    if scheme == "http" and not is_loopback_host(host):
        raise InsecureBaseURLError(
            f"{origin} {text!r} uses plain http: credentials and tokens would travel unencrypted. "
            "Use https (plain http is allowed only to loopback: 127.0.0.1, ::1, localhost)"
        )
    return f"{scheme}://{parts.netloc}{parts.path}".rstrip("/")


def resolve_base_url(*, flag: str | None, settings_base_url: str, env: Mapping[str, str] | None = None) -> str:
    """The `--base-url` flag, then FEISHU_BASE_URL, then `target.base_url`; checked by `check_base_url`."""
    environ = os.environ if env is None else env
    if flag:
        return check_base_url(flag, origin="--base-url")
    from_env = environ.get(BASE_URL_ENV, "")
    if from_env.strip():
        return check_base_url(from_env, origin=BASE_URL_ENV)
    return check_base_url(settings_base_url, origin="target.base_url in syncer.yaml")


def host_of(base_url: str) -> str:
    """The host a base URL points at, as recorded in a state's identity: `open.feishu.cn`, or
    `127.0.0.1:8080` when a non-default port is given."""
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    if port is not None and port != default:
        return f"{host}:{port}"
    return host
