"""Benchmark: `syncer plan` on a million values against a state holding the same million.

    python tests/bench/bench_plan.py [--reviewees 50000] [--rounds 2] [--keep DIR]

Generates a root (50,000 reviewees x 5 metrics x 4 fields = 1,000,000 values in 100 files) and fills two
states through the store API (batches of 50 rows, as apply records them, then a compaction): one holding
exactly the YAML's values, one where 2% of the values differ. Then times, each in a fresh subprocess so
that peak memory (max RSS) is per run:
  floor        yaml.load(..., Loader=yaml.CSafeLoader) of every data file (PyYAML's fastest full load)
  state load   LocalStateStore(...).load() of the million-value state (target: < 2 s)
  plan (same)  `syncer plan --detailed-exitcode` with nothing to change, the common CI case (exit 0)
  plan (2%)    the same against the state where 20,000 values differ (exit 2)
  stages       validate, state load, make_plan and rendering timed apart, in one process
and prints the figures, the ratios plan/floor (target: <= 1.5) and peak memory (target: < 1 GiB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.bench.bench_validate import FLOOR  # noqa: E402  (the same floor as the validate benchmark)

FILL = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from syncer.plan.sent import desired_fields
from syncer.state.model import BatchRecord
from syncer.model import Identity
from syncer.state.local.store import LocalStateStore
from syncer.load.validate import validate_root
root, state, every = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
people = json.loads(Path(sys.argv[4]).read_text()) if len(sys.argv) > 4 else None  # the people cache, if any
store = LocalStateStore(state, compact_after_ops=10**9)
store.lock()
store.create(Identity("open.feishu.cn", "cli_bench", "open_id"))
if people is not None:
    store.record_people(people)
result = validate_root(root, people=lambda settings: store)
assert result.desired is not None, result.problems[:5]
sendable = desired_fields(result.desired.values, result.desired.rows)
rows = {r: {f: dv.value for f, dv in fs.items()} for r, fs in sendable.items()}
t = time.perf_counter()
now = datetime.now(UTC)
keys = sorted(rows)
changed = 0
for i in range(0, len(keys), 50):
    batch = {}
    for r in keys[i:i + 50]:
        fields = dict(rows[r])
        if every and (hash(r) % every == 0):  # this row's values differ from the YAML: one per field
            fields = {f: v + "0" for f, v in fields.items()}
            changed += len(fields)
        batch[r] = fields
    store.record_batch(BatchRecord(keys[i].semester, f"bench-{i}", str(7300000000000000000 + i), "nogit",
                                   "bench", now, batch))
appended = time.perf_counter() - t
store.compact()
store.unlock()
print(json.dumps({"seconds": time.perf_counter() - t, "append_seconds": appended,
                  "batches": -(-len(keys) // 50), "changed": changed,
                  "values": sum(len(f) for f in rows.values())}))
"""

LOAD = """
import json, resource, sys, time
from pathlib import Path
from syncer.state.local.store import LocalStateStore
t = time.perf_counter()
state = LocalStateStore(Path(sys.argv[1])).load()
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "values": state.value_count,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

STAGES = """
import json, sys, time
from pathlib import Path
from syncer.gitinfo import NO_GIT
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.report.plan import render_plan
from syncer.model import Identity
from syncer.state.local.store import LocalStateStore
from syncer.load.validate import validate_root
t0 = time.perf_counter()
result = validate_root(Path(sys.argv[1]))
t1 = time.perf_counter()
state = LocalStateStore(Path(sys.argv[2])).load()
t2 = time.perf_counter()
plan = make_plan(result.desired, state, PlanOptions(safety=result.settings.safety, git=NO_GIT,
                 state_location=sys.argv[2], target=Identity("open.feishu.cn", "cli_bench", "open_id")))
t3 = time.perf_counter()
render_plan(plan, "text", redact=False)
t4 = time.perf_counter()
print(json.dumps({"seconds": t4 - t0, "validate": t1 - t0, "load": t2 - t1, "diff": t3 - t2,
                  "render": t4 - t3}))
"""

PLAN = """
import json, resource, sys, time
from click.testing import CliRunner
from syncer.cli import cli
t = time.perf_counter()
res = CliRunner().invoke(cli, ["plan", "--root", sys.argv[1], "--state", sys.argv[2], "--detailed-exitcode"])
dt = time.perf_counter() - t
assert res.exit_code == int(sys.argv[3]), (res.exit_code, res.output[-2000:])
print(json.dumps({"seconds": dt, "summary": res.output.strip().splitlines()[-1],
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, *args: object) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def best(runs: list[dict[str, object]]) -> dict[str, object]:
    return min(runs, key=lambda r: r["seconds"])  # type: ignore[arg-type,return-value]


def main() -> None:
    from tests.bench.generate import generate_root

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewees", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        root, same, two = work / "root", work / "state-same", work / "state-2pct"
        t = time.perf_counter()
        if not (root / "catalog.yaml").exists():
            generate_root(root, reviewees=a.reviewees)
            print(f"generated the root in {time.perf_counter() - t:.1f} s")
        fills = {}
        for state, every in ((same, 0), (two, 50)):
            if not (state / "meta.json").exists():
                fills[state.name] = measure(FILL, root, state, every)
        for name, f in fills.items():
            print(
                f"filled {name}: {f['values']:,} values in {f['batches']:,} batches of 50 rows: "
                f"{f['append_seconds']:.1f} s of appends, {f['seconds']:.1f} s with the compaction"
                + (f"; {f['changed']:,} values differ" if f["changed"] else "")
            )
        floor = best([measure(FLOOR, root) for _ in range(a.rounds)])
        load = best([measure(LOAD, same) for _ in range(a.rounds)])
        plan_same = best([measure(PLAN, root, same, 0) for _ in range(a.rounds)])
        plan_two = best([measure(PLAN, root, two, 2) for _ in range(a.rounds)])
        stages = {
            name: best([measure(STAGES, root, st) for _ in range(a.rounds)])
            for name, st in (("nothing changed", same), ("2% changed", two))
        }
        values = a.reviewees * 5 * 4
        fs = float(floor["seconds"])  # type: ignore[arg-type]
        print(f"values: {values:,} in 100 files; best of {a.rounds} runs, each in a fresh process")
        print(f"floor (CSafeLoader load):  {fs:6.2f} s   max RSS {floor['max_rss_mib']:5.0f} MiB")
        print(
            f"state load ({load['values']:,} values): {load['seconds']:6.2f} s   max RSS "
            f"{load['max_rss_mib']:5.0f} MiB   (target < 2 s)"
        )
        for label, run in (("plan, nothing changed", plan_same), ("plan, 2% changed", plan_two)):
            s = float(run["seconds"])  # type: ignore[arg-type]
            rss = float(run["max_rss_mib"])  # type: ignore[arg-type]
            print(
                f"{label + ':':26} {s:6.2f} s   max RSS {rss:5.0f} MiB   ratio to floor {s / fs:.2f} "
                f"(target <= 1.5); memory {'under' if rss < 1024 else 'OVER'} 1 GiB"
            )
            print(f"  ({run['summary']})")
        for name, times in stages.items():
            print(
                f"stages, {name}: validate {times['validate']:.2f} s, state load {times['load']:.2f} s, "
                f"diff+checksum {times['diff']:.2f} s, text render {times['render']:.2f} s"
            )


if __name__ == "__main__":
    main()
