"""The git backend's cost per write during a first apply: the objects a run adds to its clone and to the
remote (loose objects counted, before any gc) and the time per batch, over N batches of 50 rows written
as apply writes them (journal entry, pacing mark, batch), without Feishu. Printed by bench_scale.py and by

    python3 -m tests.bench.gitgrowth [--batches 1000]

and used, at a small N, by the test suite. Targets (issue 30): <= 30 ms of CPU a batch (the client's, the
remote behind `git daemon`), and the bytes added per 100 batches flat: the last 100 <= 1.05 x the first.

The clock moves on 6 s a batch, the pace of the import quota (10 requests a minute) that a real apply
keeps. It has to move: git's revision walks (the client's pack-objects and the remote's connectivity check
at every push) stop at the first commits older than what they look for, so a chain of commits that all
carry the same date, as a frozen clock writes, is walked from end to end at every push, and the time per
batch grows with the chain."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
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
    cpu: list[float]  # seconds of CPU per batch, this process and its children (git), the writes alone


def cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (git commands), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def daemon(base: Path) -> Iterator[str]:
    """`git daemon` serving the bare repositories under `base` on loopback (pushes allowed): the URL prefix.
    The remote's own work (receiving the pack, checking it) then runs in the daemon's processes, not in this
    process's children, as it would on a server: the CPU measured is the client's alone."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def first_apply(tmp: Path, batches: int, *, rows: int = 50, fields: int = 4, served: bool = False) -> Growth:
    """Write `batches` batches through a GitStateStore on a clone of a fresh bare remote. `served`: the remote
    behind `git daemon` on loopback (the client's CPU alone), else a path (the remote's work counted too)."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(daemon(tmp)) + "/remote.git" if served else None
        return _first_apply(tmp, batches, rows=rows, fields=fields, url=url)


def _first_apply(tmp: Path, batches: int, *, rows: int, fields: int, url: str | None) -> Growth:
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
    if url is not None:
        git("remote", "set-url", "origin", url, cwd=clone)
    settings = Settings(state=StateSettings(backend="git"))
    now = [T0]
    store = open_git_store(clone / "metrics", settings, clock=lambda: now[0])
    clone_0, remote_0 = objects_bytes(clone / ".git"), objects_bytes(bare)
    clone_bytes, remote_bytes, seconds, cpu = [], [], [], []
    with store.locked(command="apply"):
        store.create(Identity("open.feishu.cn", "cli_bench", "open_id"))
        for b in range(batches):
            now[0] = T0 + timedelta(seconds=6 * b)
            start, start_cpu = time.perf_counter(), cpu_seconds()
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
            cpu.append(cpu_seconds() - start_cpu)
            clone_bytes.append(objects_bytes(clone / ".git") - clone_0)
            remote_bytes.append(objects_bytes(bare) - remote_0)
        store.compact()
    return Growth(batches, clone_bytes, remote_bytes, seconds, cpu)


def print_growth(batches: int) -> None:
    """The git backend's cost per batch of a first apply: objects added (clone and remote, per 100 batches at
    the start and at the end, and the most and least of any 100: flat is linear), and CPU per batch, with the
    remote a local path (its work, done by git processes of ours, counted too) and behind `git daemon` on
    loopback (the client's CPU alone, as against a server)."""
    mib, hundred = 1 << 20, min(100, batches // 2)
    print(f"\ngit backend, a first apply of {batches} batches of 50 rows (4 values a row):")
    for served in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            g = first_apply(Path(tmp), batches, served=served)
        if not served:
            for label, series in (("clone", g.clone_bytes), ("remote", g.remote_bytes)):
                first = series[hundred - 1]
                last = series[-1] - series[-hundred - 1]
                each = [
                    series[i + hundred - 1] - (series[i - 1] if i else 0)
                    for i in range(0, batches - hundred + 1, hundred)
                ]
                print(
                    f"  {label:6} objects added: {series[-1] / mib:6.2f} MiB in all; per {hundred} batches "
                    f"{first / mib:.3f} MiB first, {last / mib:.3f} MiB last (ratio {last / first:.2f}; flat: 1), "
                    f"{min(each) / mib:.3f} to {max(each) / mib:.3f} MiB"
                )
        tenth = max(1, batches // 10)
        cpu_first, cpu_last = sum(g.cpu[:tenth]) / tenth, sum(g.cpu[-tenth:]) / tenth
        wall = sum(g.seconds) / batches
        where = "remote behind git daemon (client CPU)" if served else "remote a local path (both sides' CPU)"
        print(
            f"  {where}: CPU per batch {sum(g.cpu) / batches * 1000:.1f} ms (first tenth {cpu_first * 1000:.1f}, "
            f"last tenth {cpu_last * 1000:.1f}), wall {wall * 1000:.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=1000, help="batches of 50 rows")
    print_growth(ap.parse_args().batches)


if __name__ == "__main__":
    main()
