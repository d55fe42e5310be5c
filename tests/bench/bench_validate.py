"""Benchmark: `syncer validate` on a million values against the floor of merely parsing the same files.

    python tests/bench/bench_validate.py [--reviewees 50000] [--keep DIR]

Generates a root (50,000 reviewees x 5 metrics x 4 fields = 1,000,000 values in 100 files), then times, each
in a fresh subprocess so that peak memory (max RSS) is per run:
  floor     yaml.load(..., Loader=yaml.CSafeLoader) of every data file (PyYAML's fastest full load)
  validate  the `syncer validate` command, in-process via its CLI entry point
and prints the figures and the ratio validate/floor (target: <= 1.5, peak memory < 1 GiB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

FLOOR = """
import json, resource, sys, time
from pathlib import Path
import yaml
from syncer.load.files import NOT_DATA
files = sorted(p for p in Path(sys.argv[1]).rglob("*.yaml") if p.name not in NOT_DATA)
t = time.perf_counter()
n = 0
for p in files:
    with open(p, "rb") as fh:
        doc = yaml.load(fh, Loader=yaml.CSafeLoader)
    n += len(doc["reviewees"])
print(json.dumps({"seconds": time.perf_counter() - t, "reviewees": n,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

VALIDATE = """
import json, resource, sys, time
from click.testing import CliRunner
from syncer.cli import cli
t = time.perf_counter()
res = CliRunner().invoke(cli, ["validate", "--root", sys.argv[1]])
dt = time.perf_counter() - t
assert res.exit_code == 0, res.output[-2000:]
print(json.dumps({"seconds": dt, "summary": res.output.strip().splitlines()[-1],
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, root: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    from tests.bench.generate import generate_root

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewees", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or Path(tmp) / "root"
        if not (root / "catalog.yaml").exists():
            generate_root(root, reviewees=a.reviewees)
        values = a.reviewees * 5 * 4
        floors = [measure(FLOOR, root) for _ in range(a.rounds)]
        runs = [measure(VALIDATE, root) for _ in range(a.rounds)]
        floor = min(floors, key=lambda r: r["seconds"])  # type: ignore[arg-type,return-value]
        run = min(runs, key=lambda r: r["seconds"])  # type: ignore[arg-type,return-value]
        print(f"values:          {values:,} in 100 files")
        print(f"floor (CSafeLoader load): {floor['seconds']:.2f} s, max RSS {floor['max_rss_mib']:.0f} MiB")
        print(f"syncer validate:          {run['seconds']:.2f} s, max RSS {run['max_rss_mib']:.0f} MiB")
        print(f"  ({run['summary']})")
        ratio = float(run["seconds"]) / float(floor["seconds"])  # type: ignore[arg-type]
        peak = float(run["max_rss_mib"])  # type: ignore[arg-type]
        print(
            f"ratio validate/floor: {ratio:.2f} (target <= 1.5); peak memory {'under' if peak < 1024 else 'OVER'} 1 GiB"
        )


if __name__ == "__main__":
    main()
