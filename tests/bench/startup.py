"""Benchmark: start-up, against Python's own, in one run.

    python tests/bench/startup.py [--runs 21] [--keep DIR]

Times, each as a fresh process, taking turns, the median of --runs after one warm-up run, in CPU time (user + system of
the process: what a shared or busy machine changes least) and wall-clock time:
  python -c pass              the interpreter alone
  python -c "import click"    the interpreter and the command-line library
  syncer --version            the command group alone (no command module is imported)
  syncer validate             a root of 2,000 values (100 reviewees x 5 metrics x 4 fields, 4 files), the
                              check cache warm (as a pre-commit hook or an editor finds it), and with --no-cache
and prints the ratios issue 30 sets: --version <= 1.3x `import click`, validate <= 100 ms on a machine where
`python -c pass` takes 12 ms (given here as the same multiple of this machine's `python -c pass`: <= 8.3x).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

REFERENCE_PASS_MS = 12.0  # the machine: `python -c pass`
VALIDATE_TARGET_MS = 100.0


def syncer_command() -> list[str]:
    """The installed `syncer` script next to this Python (what a hook runs), else `python -m syncer`."""
    script = Path(sys.executable).parent / "syncer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "syncer"]


def medians_ms(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Each command's median CPU time and median wall-clock time, in milliseconds. The commands take turns,
    one run each a round, so that a busy spell of a shared machine falls on all of them alike."""
    for argv in commands.values():  # warm-up: the file cache, the bytecode, the check cache
        subprocess.run(argv, check=True, capture_output=True, env=env)
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            wall[name].append((time.perf_counter() - t) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    return {name: (statistics.median(cpu[name]), statistics.median(wall[name])) for name in commands}


def print_startup(runs: int, keep: Path | None = None) -> None:
    """Measure and print the start-up figures and the issue's ratios."""
    from tests.bench.generate import generate_root

    with tempfile.TemporaryDirectory() as tmp:
        root = keep or Path(tmp) / "root"
        if not (root / "catalog.yaml").exists():
            generate_root(root, reviewees=100, files=4)
        env = {**os.environ, "SYNCER_CACHE_DIR": str(Path(tmp) / "cache")}
        env.pop("SYNCER_CACHE", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed syncer has its bytecode: compiling is not start-up
        syncer = syncer_command()
        rows = medians_ms(
            {
                "python -c pass": [sys.executable, "-c", "pass"],
                'python -c "import click"': [sys.executable, "-c", "import click"],
                "syncer --version": [*syncer, "--version"],
                "syncer validate (2,000 values)": [*syncer, "validate", "--root", str(root)],
                "syncer validate --no-cache": [*syncer, "validate", "--root", str(root), "--no-cache"],
            },
            runs,
            env,
        )
    print(f"start-up, medians of {runs} runs, {' '.join(syncer)} (Python {sys.version.split()[0]}):")
    print(f"  {'':32} {'CPU':>9}  {'wall':>9}  {'CPU / python -c pass':>20}")
    base = rows["python -c pass"][0]
    for name, (cpu, wall) in rows.items():
        print(f"  {name:32} {cpu:6.1f} ms  {wall:6.1f} ms  {cpu / base:19.2f}x")
    version = rows["syncer --version"][0] / rows['python -c "import click"'][0]
    print(f"--version / import click (CPU): {version:.2f}x (target <= 1.3x)")
    allowed = VALIDATE_TARGET_MS / REFERENCE_PASS_MS
    for name in ("syncer validate (2,000 values)", "syncer validate --no-cache"):
        ratio = rows[name][0] / base
        print(
            f"{name} (CPU): {rows[name][0]:.0f} ms here where python -c pass takes {base:.1f} ms: {ratio:.2f}x, "
            f"i.e. {ratio * REFERENCE_PASS_MS:.0f} ms where it takes {REFERENCE_PASS_MS:.0f} ms "
            f"(target <= {VALIDATE_TARGET_MS:.0f} ms there, {allowed:.1f}x)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="runs of each; the median is reported")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    a = ap.parse_args()
    print_startup(a.runs, a.keep)


if __name__ == "__main__":
    main()
