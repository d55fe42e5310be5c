"""Connections to the database, and the one place psycopg's errors become StateErrors.

The DSN comes from the environment only and is a secret (it may hold a password): no message syncer writes
contains it, nor its password, user or host. psycopg's own messages do (a failed connection names the host,
the port and the user; a malformed DSN quotes it), so they never reach the user as they are: a connection
failure is told in syncer's words, and a server error by its SQLSTATE and its primary message, scrubbed of
every part of the DSN all the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import conninfo

from syncer.errors import StateError, StateUnavailable

#: Seconds to wait for the server when connecting (libpq's connect_timeout).
CONNECT_TIMEOUT = 10

_CONNECT_REASONS = (
    ("password authentication failed", "the password was refused"),
    ("no password supplied", "the server wants a password and the DSN holds none"),
    ("authentication failed", "authentication failed"),
    ("does not exist", "the database or role does not exist"),
    ("Connection refused", "the connection was refused (is the server running, on that host and port?)"),
    ("timeout expired", "the connection timed out"),
    ("could not translate host name", "the host name does not resolve"),
    ("No such file or directory", "no server listens on that unix socket"),
    ("too many connections", "the server has too many connections"),
    ("SSL", "the TLS negotiation failed"),
    ("pg_hba.conf", "the server's pg_hba.conf does not let this client in"),
    ("starting up", "the server is starting up"),
    ("shutting down", "the server is shutting down"),
)


class Secrets:
    """The parts of a DSN that no message may contain."""

    def __init__(self, dsn: str) -> None:
        words = [dsn]
        try:
            parts = conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            parts = {}
        for key in ("password", "user", "host", "hostaddr", "dbname", "port", "passfile", "sslpassword"):
            value = parts.get(key)
            if isinstance(value, str) and value:
                words.extend(v for v in value.split(",") if v)
        self._words = sorted({w for w in words if len(w) >= 3 or w == parts.get("password")}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for word in self._words:
            text = re.sub(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", "***", text)
        return text


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in _CONNECT_REASONS:
        if needle in text:
            return reason
    return "the server could not be reached"


def describe(exc: psycopg.Error, secrets: Secrets) -> str:
    """A psycopg error in words safe to show: SQLSTATE and the server's primary message, scrubbed."""
    state = exc.sqlstate
    primary = exc.diag.message_primary if state else None
    if state and primary:
        return f"{secrets.scrub(primary.strip())} (SQLSTATE {state})"
    if isinstance(exc, psycopg.OperationalError):
        return _reason(exc)
    return type(exc).__name__


class Database:
    """Where connections come from: the DSN (held here, never shown) and the variable it came from."""

    def __init__(self, dsn: str, *, variable: str) -> None:
        self._dsn = dsn
        self.variable = variable
        self.secrets = Secrets(dsn)

    def __repr__(self) -> str:  # never the DSN, in a traceback or a debugger
        return f"Database(from ${self.variable})"

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A new connection in autocommit mode (transactions are explicit: `with conn.transaction()`)."""
        try:
            return psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="syncer"
            )
        except psycopg.ProgrammingError:
            raise StateError(
                f"${self.variable} is not a PostgreSQL connection string (a libpq key=value DSN or a postgresql:// URI)"
            ) from None
        except psycopg.Error as exc:  # unreachable, not damaged: validation's people cache does without it
            raise StateUnavailable(
                f"cannot connect to the PostgreSQL server of ${self.variable}: {describe(exc, self.secrets)}"
            ) from None

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn any psycopg error of the body into a StateError saying what was being done."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if exc.sqlstate is None or exc.sqlstate.startswith(("08", "57")):
                raise StateError(
                    f"{doing}: the connection to the PostgreSQL server of ${self.variable} was lost "
                    f"({describe(exc, self.secrets)}); nothing more was written. Run the command again"
                ) from None
            raise StateError(f"{doing}: {describe(exc, self.secrets)}") from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StateError(
                f"{doing}: {describe(exc, self.secrets)}; the role needs the grants of docs/state.md "
                '("The postgres backend")'
            ) from None
        except psycopg.Error as exc:
            raise StateError(f"{doing}: {describe(exc, self.secrets)}") from None
