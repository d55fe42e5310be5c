"""Benchmark: a first plan (no state yet: every value a create) with the three example rules against the same
plan without them.

    python tests/bench/bench_rules.py [--reviewees 50000] [--rounds 2] [--keep DIR]

Generates a root (tests/bench/generate.py: 50,000 reviewees x 5 metrics x 4 fields = 1,000,000 values in 100
files; targets and actuals random, so about a sixth of the actuals are over 3x their target: many findings),
then times `syncer plan --no-cache` of it in fresh processes, with rules.yaml and without, taking turns, and
prints the best time of each and their ratio (target: <= 1.3x), with how many values each rule judged. It
prints the CPU time (user + sys) of each too: on a shared, loaded machine the wall-clock times stretch with
the load (and the ratio with them), the CPU times much less.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.bench.generate import generate_root  # noqa: E402

#: The example's rules (metrics/rules.yaml), scoped to the generated metrics' fields.
RULES = """rules:
  - name: target-not-lowered-after-start
    scope: {fields: [target]}
    condition: old != null && new < old && has(semester.start) && today >= semester.start
    severity: deny
    message: a target may not be lowered once the semester has started
  - name: actual-over-3x-target
    scope: {fields: [actual]}
    condition: has(row.target) && row.target > 0.0 && new > 3.0 * row.target
    severity: warn
    message: the actual is over three times the target, which is almost always a typo
  - name: note-under-80-percent
    scope: {fields: [actual]}
    condition: has(row.target) && new < 0.8 * row.target && (!has(row.note) || row.note == '')
    severity: warn
    message: an actual under 80% of the target needs a note saying why
"""


def plan_seconds(root: Path, state: Path) -> tuple[float, float]:
    """The wall-clock and CPU (user + sys) seconds of one plan in a fresh process."""
    cmd = [sys.executable, "-m", "syncer", "plan", "--root", str(root), "--state", str(state), "--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"plan failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewees", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="generate the root here and keep it")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp) / "root"
        if not (root / "catalog.yaml").exists():
            generate_root(root, reviewees=a.reviewees)
        rules = root / "rules.yaml"
        state = Path(tmp) / "no-state"  # never created: a first plan
        best = {"without": float("inf"), "with": float("inf")}
        cpu = dict(best)
        for _ in range(a.rounds):
            for kind in ("without", "with"):
                if kind == "with":
                    rules.write_text(RULES, encoding="utf-8")
                else:
                    rules.unlink(missing_ok=True)
                seconds, cpu_seconds = plan_seconds(root, state)
                best[kind], cpu[kind] = min(best[kind], seconds), min(cpu[kind], cpu_seconds)
        rules.unlink(missing_ok=True)
    values = a.reviewees * 5 * 4
    print(f"first plan of {values:,} values, best of {a.rounds}:")
    print(f"  without rules      {best['without']:8.2f} s")
    judged = f"{values // 4:,} actuals judged twice, {values // 4:,} targets once"
    print(f"  with the 3 rules   {best['with']:8.2f} s  ({judged})")
    print(f"  ratio              {best['with'] / best['without']:8.2f}x  (target <= 1.3x)")
    print(f"  CPU (user + sys)   {cpu['without']:8.2f} s without, {cpu['with']:.2f} s with", end="")
    print(f": {cpu['with'] / cpu['without']:.2f}x")


if __name__ == "__main__":
    main()
