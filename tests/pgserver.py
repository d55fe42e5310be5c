"""A PostgreSQL server for the tests of the postgres state backend.

`SYNCER_TEST_PG_DSN` names one (CI's `.ci/run` starts its own with `.ci/postgres.sh` and exports it); without
it, a throwaway server is started with `.ci/postgres.sh` when PostgreSQL's binaries are installed, and
stopped at the end of the session. With neither, the tests that need a server are skipped, saying how to run
them, unless `SYNCER_REQUIRE_PG=1` (CI), where they fail instead. Each test gets a schema of its own (the DSN
it is given sets search_path), so tests never see each other's tables, locks or quotas."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres.sh"
HOW = (
    "no PostgreSQL server for the postgres backend's tests: set SYNCER_TEST_PG_DSN to a DSN of a server the "
    "tests may create schemas in, or install PostgreSQL (initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/"
    "bin) and they start one with .ci/postgres.sh"
)


class Dsn(str):
    """A DSN that pytest's reports (fixture values, locals) show without its password."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Dsn(***)"


class PgServer:
    def __init__(self, dsn: str) -> None:
        self.dsn = Dsn(dsn)

    def __repr__(self) -> str:
        return "PgServer(***)"

    def new_schema(self) -> str:
        """A new, empty schema; returns a DSN whose search_path is it."""
        import psycopg
        from psycopg import conninfo

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}".encode())
        return Dsn(conninfo.make_conninfo(self.dsn, options=f"-c search_path={name}"))

    def drop_schema(self, dsn: str) -> None:
        import psycopg
        from psycopg import conninfo

        options = conninfo.conninfo_to_dict(dsn).get("options", "")
        name = str(options).rpartition("=")[2]
        if name.startswith("t_"):
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".encode())


def _unavailable(why: str) -> None:
    if os.environ.get("SYNCER_REQUIRE_PG") == "1":
        pytest.fail(f"SYNCER_REQUIRE_PG=1 but {why}", pytrace=False)
    pytest.skip(why)


def _binaries() -> bool:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return True
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    dsn = os.environ.get("SYNCER_TEST_PG_DSN", "")
    started: str | None = None
    if not dsn:
        if not _binaries():
            _unavailable(HOW)
        p = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, check=False)
        if p.returncode != 0:
            _unavailable(f"{SCRIPT.name} start failed: {p.stderr.strip()[-500:]}; {HOW}")
        started = p.stdout.strip()
        env_text = (Path(started) / "env").read_text()
        dsn = env_text.split("=", 1)[1].strip().strip("'")
    try:
        try:
            with psycopg.connect(dsn, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            _unavailable(f"cannot connect to SYNCER_TEST_PG_DSN ({type(exc).__name__}); {HOW}")
        yield PgServer(dsn)
    finally:
        if started is not None:
            subprocess.run([str(SCRIPT), "stop", started], capture_output=True, check=False)


@pytest.fixture
def pg_dsn(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A DSN of a fresh schema, also in SYNCER_PG_DSN (the backend's default variable)."""
    dsn = pg_server.new_schema()
    monkeypatch.setenv("SYNCER_PG_DSN", dsn)
    try:
        yield dsn
    finally:
        pg_server.drop_schema(dsn)
