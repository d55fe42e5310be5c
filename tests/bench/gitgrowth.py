"""The git backend's cost per write during a first apply: the objects a run adds to its clone and to the
remote (loose objects counted, before any gc) and the time per batch, over N batches of 50 rows written
as apply writes them (journal entry, pacing mark, batch), without Feishu. Used by bench_scale.py and, at a
small N, by the test suite.

The clock moves on 6 s a batch, the pace of the import quota (10 requests a minute) that a real apply
keeps. It has to move: git's revision walks (the client's pack-objects and the remote's connectivity check
at every push) stop at the first commits older than what they look for, so a chain of commits that all
carry the same date, as a frozen clock writes, is walked from end to end at every push, and the time per
batch grows with the chain."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncer.load.settings import Settings, StateSettings
from syncer.model import Identity, RowKey, ValueKey
from syncer.state.git import open_git_store
from syncer.state.model import BatchRecord, JournalEntry

SEM = "7293040702907514899"
METRIC = "7272580325522276372"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def objects_bytes(git_dir: Path) -> int:
    """Bytes of every object file (loose and packed) under a git directory."""
    total = 0
    for dirpath, _, names in os.walk(git_dir / "objects"):
        total += sum((Path(dirpath) / n).stat().st_size for n in names)
    return total


@dataclass(frozen=True)
class Growth:
    batches: int
    clone_bytes: list[int]  # after each batch (objects added since the first lock)
    remote_bytes: list[int]
    seconds: list[float]  # per batch


def first_apply(tmp: Path, batches: int, *, rows: int = 50, fields: int = 4) -> Growth:
    """Write `batches` batches through a GitStateStore on a clone of a fresh bare remote."""
    bare = tmp / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("config", "gc.auto", "0", cwd=bare)  # measure every object a push adds, before any gc
    seed = tmp / "seed"
    git("clone", "-q", str(bare), str(seed))
    (seed / "metrics").mkdir()
    (seed / "metrics" / "syncer.yaml").write_text("state:\n  backend: git\n")
    git("add", "-A", cwd=seed)
    git("-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "metrics", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    clone = tmp / "clone"
    git("clone", "-q", str(bare), str(clone))
    settings = Settings(state=StateSettings(backend="git"))
    now = [T0]
    store = open_git_store(clone / "metrics", settings, clock=lambda: now[0])
    clone_0, remote_0 = objects_bytes(clone / ".git"), objects_bytes(bare)
    clone_bytes, remote_bytes, seconds = [], [], []
    with store.locked(command="apply"):
        store.create(Identity("open.feishu.cn", "cli_bench", "open_id"))
        for b in range(batches):
            now[0] = T0 + timedelta(seconds=6 * b)
            start = time.perf_counter()
            token = f"tok-{b:06d}"
            keys = {
                RowKey(SEM, f"ou_{b * rows + r:032x}", METRIC): {str(f + 2): f"{b}.{r}.{f}" for f in range(fields)}
                for r in range(rows)
            }
            values = tuple((ValueKey(*row, fid), v) for row, fv in keys.items() for fid, v in fv.items())
            body = json.dumps({"semester_id": SEM, "imported_metrics": [list(k) for k in keys]})
            store.open_journal(JournalEntry(token, SEM, "2026-12-01T12:00:00.000Z", body, values))
            store.record_import_request(now[0])
            store.record_batch(BatchRecord(SEM, token, f"74{b:017d}", "c" * 40, "syncer c", now[0], keys))
            seconds.append(time.perf_counter() - start)
            clone_bytes.append(objects_bytes(clone / ".git") - clone_0)
            remote_bytes.append(objects_bytes(bare) - remote_0)
        store.compact()
    return Growth(batches, clone_bytes, remote_bytes, seconds)
