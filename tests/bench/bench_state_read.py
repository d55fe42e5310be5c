"""Benchmark: reading a million-value local state with checksums (format 2) against the same state as the
syncer of another git revision writes and reads it (default `main`: before checksums, format 1).

    python tests/bench/bench_state_read.py [--reviewees 50000] [--rounds 3] [--base main]

Writes one state with each syncer (50,000 reviewees x 5 metrics x 4 fields in one semester, adopted whole
as `state migrate` writes it, so no YAML is needed), then times `LocalStateStore(...).load()` of each with
its own syncer, each in a fresh subprocess, alternately, and keeps the best of the rounds; also this syncer
reading the base's state (a format-1 state before its first compaction). Prints the seconds and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent

WRITE = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from syncer.model import Identity
from syncer.state.base import new_meta
from syncer.state.image import StateData
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchInfo
path, reviewees = Path(sys.argv[1]), int(sys.argv[2])
sem = "7293040702907514899"
meta = new_meta(Identity("open.feishu.cn", "cli_bench", "open_id"), now=datetime.now(UTC))
data = StateData(meta=meta)
data.batches[1] = BatchInfo(1, sem, "2026-05-01T12:00:00.000Z", "7300000000000000000", "nogit", "t", "bench", 50)
for i in range(reviewees):
    for m in range(5):
        data.rows[(sem, f"ou_{i:032x}", f"72725803255222763{m:02d}")] = (
            {"2": str(20 * m), "4": str(1000 * i), "5": str(1000 * i + 7), "7": "CNY"}, 1)
data.per_semester[sem] = reviewees * 20
store = LocalStateStore(path)
with store.locked(command="migrate"):
    store.adopt(data.snapshot(), people=None)
"""

LOAD = """
import json, sys, time
from pathlib import Path
from syncer.state.local.store import LocalStateStore
t = time.perf_counter()
state = LocalStateStore(Path(sys.argv[1])).load()
print(json.dumps({"seconds": time.perf_counter() - t, "values": state.value_count}))
"""


def run(code: str, source: Path, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(source), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(  # run elsewhere: the current directory would come first on the path
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=tempfile.gettempdir(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout) if out.stdout.strip() else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviewees", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", default="main")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.base, "syncer"], cwd=CHECKOUT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        run(WRITE, base, str(work / "old"), str(args.reviewees))
        run(WRITE, CHECKOUT, str(work / "new"), str(args.reviewees))
        best = {"old": float("inf"), "new": float("inf"), "new reading old": float("inf")}
        for _ in range(args.rounds):
            for name, source, state in (
                ("old", base, "old"),
                ("new", CHECKOUT, "new"),
                ("new reading old", CHECKOUT, "old"),
            ):
                got = run(LOAD, source, str(work / state))
                best[name] = min(best[name], got["seconds"])
                values = int(got["values"])
        shard = {s: sum(p.stat().st_size for p in (work / s / "semesters").iterdir()) for s in ("old", "new")}
        print(f"{values:,} values; shard {shard['old'] / 2**20:.1f} MiB -> {shard['new'] / 2**20:.1f} MiB")
        for name, seconds in best.items():
            print(f"  load, {name:16s} {seconds:6.2f} s")
        print(f"  ratio new/old: {best['new'] / best['old']:.2f}x (best of {args.rounds}, alternately)")


if __name__ == "__main__":
    main()
