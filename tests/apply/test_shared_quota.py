"""Two metrics roots whose states share one postgres database, applying at once to one emulator with the
same app: the import quota is the app's, not each root's. The emulator (an independent oracle with a
sliding window per app) is scaled to 3 imports a second and syncer to 120 a minute: two applies pacing
themselves alone would send 4 a second and meet 429s; sharing the database's quota row they see none,
each getting about half of the rate. Real time, in-process emulator (no sockets); a few seconds."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from syncer.apply.run import ApplyRun, run_apply
from syncer.emulator import Emulator
from syncer.gitinfo import GitInfo
from syncer.load.validate import validate_root
from syncer.state import open_store
from syncer.state.history import Selection
from syncer.state.postgres.store import PostgresStateStore
from tests.bench.bench_apply import bench_tenant
from tests.bench.generate import generate_root, open_id
from tests.emulated import REAL_JITTER, emulator_client

IMPORT = "metric_details.import"
REVIEWEES = 400  # 200 a root: 4 import requests each


def make_roots(tmp: Path, backend: str) -> list[Path]:
    """Two roots of the same tenant, each with half of the reviewees, their states in the database."""
    src = tmp / "generated"
    generate_root(src, reviewees=REVIEWEES, metrics=1, fields=4, files=2)
    roots = []
    for n, name in enumerate(("sales", "support")):
        root = tmp / name
        shutil.copytree(src, root)
        cat = root / "catalog.yaml"
        cat.write_text(cat.read_text().replace("  bench:", "  2026-H2:"))
        for f in sorted((root / "data").iterdir()):
            if f.name != f"team-{n:03d}.yaml":
                f.unlink()
            else:
                f.write_text(f.read_text().replace("semester: bench", "semester: 2026-H2"))
        state = f"  backend: postgres\n  name: {name}\n" if backend == "postgres" else "  backend: local\n"
        (root / "syncer.yaml").write_text(
            f"target:\n  user_id_type: open_id\n  import_per_minute: 120\nstate:\n{state}", encoding="utf-8"
        )
        roots.append(root)
    return roots


def apply_both(roots: list[Path], emu: Emulator) -> list[ApplyRun]:
    runs: list[Any] = [None, None]
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def one(i: int) -> None:
        try:
            result = validate_root(roots[i])
            assert result.ok and result.desired is not None, result.problems[:3]
            client = emulator_client(emu, random=REAL_JITTER)
            start.wait()
            runs[i] = run_apply(
                store=open_store(roots[i], result.settings),
                client=client,
                settings=result.settings,
                desired=result.desired,
                git=GitInfo(f"{i + 1}" * 40, f"{i + 1}" * 7, False),
                root=roots[i].name,
                commit_is_ancestor=lambda a, b: True,
                confirm=lambda plan: True,
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if failures:
        raise failures[0]
    return runs


def scaled_emulator() -> Emulator:
    tenant = bench_tenant(REVIEWEES, import_per_minute=10).with_rate_limit(IMPORT, per_minute=None, per_second=3)
    return Emulator(tenant)


def test_two_roots_sharing_a_database_split_the_apps_quota_and_see_no_429(pg_dsn: str, tmp_path: Path) -> None:
    roots = make_roots(tmp_path, "postgres")
    emu = scaled_emulator()
    runs = apply_both(roots, emu)
    assert [r.report.exit_code for r in runs] == [0, 0]
    log = emu.requests(IMPORT)
    assert [e.status for e in emu.requests() if e.status == 429] == []
    assert len(log) == 8 and all(e.code == 0 for e in log)
    # Split: the two applies' requests interleave; neither went first with all of its own.
    tokens = {r.client_token for r in log}
    assert len(tokens) == 8
    owner: dict[str, int] = {}
    for i, root in enumerate(roots):
        state = open_store(root, validate_root(root).settings).load()
        assert state is not None and state.value_count == 200 * 4
        owner.update({b.client_token: i for b in state.batches.values()})
    order = [owner[str(e.client_token)] for e in log]
    assert sorted(order) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert order[:4] != [order[0]] * 4, order
    # `state history` says which commit set a value: each root's own.
    for i, root in enumerate(roots):
        store = open_store(root, validate_root(root).settings)
        assert isinstance(store, PostgresStateStore)
        changes = store.history(Selection(reviewees=frozenset({open_id(i * 200)}))).changes
        assert changes and {c.batch.commit for c in changes if c.batch} == {f"{i + 1}" * 40}


def test_without_a_shared_quota_the_same_two_applies_meet_429s(tmp_path: Path) -> None:
    """The oracle is sharp: two roots on the local backend each pace alone to the full rate, and the
    emulator refuses some of their requests (they are retried after the reset and land all the same)."""
    roots = make_roots(tmp_path, "local")
    emu = scaled_emulator()
    runs = apply_both(roots, emu)
    assert [r.report.exit_code for r in runs] == [0, 0]
    assert any(e.status == 429 for e in emu.requests())
    assert sum(1 for e in emu.requests(IMPORT) if e.code == 0) == 8


@pytest.mark.parametrize("name", ["sales"])
def test_the_quota_row_records_the_apps_last_request(pg_dsn: str, tmp_path: Path, name: str) -> None:
    import psycopg

    roots = make_roots(tmp_path, "postgres")
    emu = scaled_emulator()
    apply_both(roots, emu)
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT host, app_id, last_request FROM syncer_quota").fetchall()
    assert [(h, a) for h, a, _ in rows] == [("127.0.0.1", "cli_emulator")]
    assert rows[0][2] == pytest.approx(max(e.time for e in emu.requests(IMPORT)), abs=1.0)
