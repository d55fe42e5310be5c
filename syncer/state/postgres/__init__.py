"""The postgres state backend: many states in one PostgreSQL database, a lock that ends with its holder's
session, every change kept, and one import quota shared by every state of an app (docs/state.md, "The
postgres backend"). psycopg 3 is an optional extra (`pip install 'feishu-syncer[postgres]'`): this
package is the only one that imports it, and only when a postgres state is opened."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from syncer.errors import StateError
from syncer.load.settings import Settings
from syncer.state.model import Clock, utc_now

if TYPE_CHECKING:
    from syncer.state.postgres.store import PostgresStateStore

MISSING = "state.backend postgres needs psycopg 3, which is not installed: pip install 'feishu-syncer[postgres]'"


def open_postgres_store(
    settings: Settings, *, environ: Mapping[str, str] | None = None, clock: Clock = utc_now
) -> PostgresStateStore:
    """The state `state.name` of the database whose DSN is in the variable `state.dsn_env`."""
    env = os.environ if environ is None else environ
    st = settings.state
    if not st.name:
        raise StateError(
            "state.backend postgres needs state.name in syncer.yaml: the name of this root's state in the "
            "database (one database holds the states of many roots; each needs its own)"
        )
    dsn = env.get(st.dsn_env, "")
    if not dsn.strip():
        raise StateError(
            f"state.backend postgres reads the database's connection string from ${st.dsn_env}, which is not "
            "set (a libpq DSN or a postgresql:// URI; keep it in the environment or a CI secret, never in a file)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StateError(MISSING) from None
    from syncer.state.postgres.db import Database
    from syncer.state.postgres.store import PostgresStateStore

    return PostgresStateStore(Database(dsn, variable=st.dsn_env), st.name, clock=clock)
