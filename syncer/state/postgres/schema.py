"""The tables of the postgres backend, versioned: `syncer_schema` records the versions applied, and
`MIGRATIONS[n]` takes the schema from version n-1 to n. `ensure_schema` applies what is missing, in one
transaction, under a transaction-level advisory lock (two first runs at once do not both create them).
A database whose schema is newer than this syncer's is refused; a role that may not create tables can use
tables a DBA created from `schema_sql()` (docs/state.md, "The postgres backend")."""

from __future__ import annotations

import hashlib

import psycopg

from syncer.errors import StateError

#: The schema version this syncer writes.
SCHEMA_VERSION = 1

#: Statements taking the schema from version n-1 to n.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE syncer_states (
            name text PRIMARY KEY,
            format integer NOT NULL,
            lineage text NOT NULL,
            serial bigint NOT NULL,
            generation integer NOT NULL DEFAULT 0,
            created text NOT NULL,
            host text NOT NULL,
            app_id text,
            user_id_type text NOT NULL,
            next_batch integer NOT NULL,
            last_import_request text,
            last_apply_at text,
            last_apply_commit text,
            last_apply_batch integer,
            plan_key text,
            people text
        )""",
        """CREATE TABLE syncer_batches (
            state text NOT NULL REFERENCES syncer_states (name) ON DELETE CASCADE,
            id integer NOT NULL,
            semester text NOT NULL,
            at text NOT NULL,
            import_record_id text NOT NULL,
            commit_sha text NOT NULL,
            client_token text NOT NULL,
            import_record_name text NOT NULL,
            row_count integer NOT NULL,
            PRIMARY KEY (state, id)
        )""",
        """CREATE TABLE syncer_values (
            state text NOT NULL REFERENCES syncer_states (name) ON DELETE CASCADE,
            semester text NOT NULL,
            reviewee text NOT NULL,
            metric text NOT NULL,
            field text NOT NULL,
            value text NOT NULL,
            batch integer NOT NULL,
            PRIMARY KEY (state, semester, reviewee, metric, field)
        )""",
        """CREATE TABLE syncer_rejections (
            state text NOT NULL REFERENCES syncer_states (name) ON DELETE CASCADE,
            semester text NOT NULL,
            reviewee text NOT NULL,
            metric text NOT NULL,
            code integer NOT NULL,
            at text NOT NULL,
            digest text NOT NULL,
            message text NOT NULL,
            client_token text NOT NULL,
            PRIMARY KEY (state, semester, reviewee, metric)
        )""",
        """CREATE TABLE syncer_journal (
            state text NOT NULL REFERENCES syncer_states (name) ON DELETE CASCADE,
            client_token text NOT NULL,
            semester text NOT NULL,
            opened text NOT NULL,
            body text NOT NULL,
            entries text NOT NULL,
            import_record_name text NOT NULL,
            commit_sha text NOT NULL,
            PRIMARY KEY (state, client_token)
        )""",
        """CREATE TABLE syncer_history (
            state text NOT NULL REFERENCES syncer_states (name) ON DELETE CASCADE,
            seq bigint GENERATED ALWAYS AS IDENTITY,
            serial bigint NOT NULL,
            at text NOT NULL,
            op text NOT NULL CHECK (op IN ('set', 'forget')),
            semester text NOT NULL,
            reviewee text NOT NULL,
            metric text NOT NULL,
            field text NOT NULL,
            value text,
            batch integer,
            reason text NOT NULL DEFAULT '',
            PRIMARY KEY (state, seq)
        )""",
        "CREATE INDEX syncer_history_key ON syncer_history (state, semester, reviewee, metric, field, seq)",
        """CREATE TABLE syncer_locks (
            state text PRIMARY KEY,
            pid integer NOT NULL,
            host text NOT NULL,
            at text NOT NULL,
            command text NOT NULL,
            id text NOT NULL,
            backend_pid integer NOT NULL
        )""",
        """CREATE TABLE syncer_quota (
            host text NOT NULL,
            app_id text NOT NULL,
            last_request double precision,
            PRIMARY KEY (host, app_id)
        )""",
    ),
}

VERSION_TABLE = """CREATE TABLE IF NOT EXISTS syncer_schema (
    version integer PRIMARY KEY,
    applied text NOT NULL
)"""


def schema_sql() -> str:
    """Every statement of the current schema, for a DBA who creates the tables (then grants them)."""
    out = [VERSION_TABLE + ";"]
    for version in range(1, SCHEMA_VERSION + 1):
        out += [s.strip() + ";" for s in MIGRATIONS[version]]
        out.append(f"INSERT INTO syncer_schema (version, applied) VALUES ({version}, 'by hand');")
    return "\n".join(out) + "\n"


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for a name (as pg_advisory_lock(bigint) takes it)."""
    digest = hashlib.sha256("\0".join(("syncer", *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def installed_version(conn: psycopg.Connection[tuple[object, ...]]) -> int | None:
    """The schema version of the database (None: no syncer tables in this schema)."""
    row = conn.execute("SELECT to_regclass('syncer_schema') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    got = conn.execute("SELECT max(version) FROM syncer_schema").fetchone()
    return None if got is None or got[0] is None else int(str(got[0]))


def check_version(version: int | None) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StateError(
            f"the database's syncer tables are of schema version {version}, newer than this syncer's "
            f"({SCHEMA_VERSION}); upgrade syncer (pip install -U 'feishu-syncer[postgres]')"
        )


def ensure_schema(conn: psycopg.Connection[tuple[object, ...]], *, now: str) -> int:
    """Create or migrate the tables to SCHEMA_VERSION; returns the version found before (0: none)."""
    version = installed_version(conn)
    check_version(version)
    if version == SCHEMA_VERSION:
        return version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("schema"),))
        conn.execute(VERSION_TABLE)
        found = installed_version(conn) or 0
        check_version(found)
        for step in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement.encode("utf-8"))
            conn.execute("INSERT INTO syncer_schema (version, applied) VALUES (%s, %s)", (step, now))
    return found
