"""Benchmark: syncer at a company's scale, side by side in one run, at 200,000 and 1,000,000 values.

    python tests/bench/bench_scale.py [--sizes 10000,50000] [--batches 300] [--keep DIR] [--startup-runs 21]

For each size (reviewees x 5 metrics x 4 fields, in 100 files; 10,000 and 50,000 reviewees by default) a
company's root: the catalog names every reviewee, 30% of them by email only (tests/bench/generate.py
--company), and the state's people cache holds those emails' IDs, as `syncer people resolve` leaves it. In
fresh processes so that peak memory (max RSS) is per run, the real command line (`python -m syncer`):
  floor            yaml.load(..., Loader=yaml.CSafeLoader) of every data file (PyYAML's fastest full load)
  floor, GC paused the same with the cyclic garbage collector off (gc.disable()) around the whole load, as
                   syncer's own loading runs: PyYAML's objects then cost what they cost, not a collection
                   that walks all of them again and again (the plain floor grows faster than the values)
  validate         `syncer validate --no-cache`
  first plan       `syncer plan` against a state that holds only the people cache (every value a create),
                   text to a file, then `--format json --out FILE`: time, peak RSS and bytes a value of
                   what was written
  no-change plan   against a state holding exactly the YAML's values
  2% plan          against a state where 2% of the values differ
  one-file plan    one value changed in one file of the 100: cold (`--no-cache`) and with the check cache
                   filled by an earlier run (the pull request's second push, a pre-commit hook); --rounds
                   runs of each, alternated, the best of each kept (as bench_plan.py does), each round's
                   ratio printed too, and the ratio of their CPU times (best of each)
  state load       LocalStateStore.load() of the state
Every time is given over both floors. Then, once, start-up against Python's own (tests/bench/startup.py),
and the git backend over a first apply of --batches batches of 50 rows: the objects added to the
runner's clone and to the remote (loose objects, before any gc) and the time per batch, first tenth
against last tenth. Targets (issues 14 and 30): first plan <= 2x the floor and < 1 GiB; JSON plan < 120 B a
value; one-file plan with the cache <= 0.2 of the cold one; git growth a few MiB per 100 batches, linear.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.bench.bench_plan import FILL, LOAD, best, measure  # noqa: E402
from tests.bench.bench_validate import FLOOR  # noqa: E402
from tests.bench.gitgrowth import print_growth  # noqa: E402
from tests.bench.startup import print_startup  # noqa: E402

#: The floor with the cyclic GC off around the whole load (gc.disable(); nothing frozen).
FLOOR_GC_PAUSED = FLOOR.replace("t = time.perf_counter()\n", "import gc\ngc.disable()\nt = time.perf_counter()\n", 1)
assert FLOOR_GC_PAUSED != FLOOR

PEOPLE_ONLY = """
import json, sys
from pathlib import Path
from syncer.model import Identity
from syncer.state.local.store import LocalStateStore
store = LocalStateStore(Path(sys.argv[1]))
with store.locked():
    store.create(Identity("open.feishu.cn", "cli_bench", "open_id"))
    store.record_people(json.loads(Path(sys.argv[2]).read_text()))
print("{}")
"""

RUN = """
import json, resource, subprocess, sys, time
out, args = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
with open(out, "wb") as fh:
    p = subprocess.run([sys.executable, "-m", "syncer", *args], stdout=fh, stderr=subprocess.PIPE)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t, "exit": p.returncode, "cpu": use.ru_utime + use.ru_stime,
                  "max_rss_mib": use.ru_maxrss / 1024,
                  "stderr": p.stderr.decode("utf-8", "replace")[-800:]}))
"""


def cli(out: Path, *args: object, expect: int, env: dict[str, str] | None = None) -> dict[str, object]:
    old = dict(os.environ)
    try:
        os.environ.update(env or {})
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed syncer has its bytecode: compiling is not a run
        r = measure(RUN, out, *args)
    finally:
        os.environ.clear()
        os.environ.update(old)
    if r["exit"] != expect:
        raise SystemExit(f"`syncer {' '.join(map(str, args))}` exited {r['exit']}, not {expect}:\n{r['stderr']}")
    r["bytes"] = out.stat().st_size
    return r


def num(r: dict[str, object], key: str) -> float:
    value = r[key]
    assert isinstance(value, int | float)
    return float(value)


def change_one_value(root: Path) -> None:
    """The pull request: one number in one data file of the hundred."""
    path = root / "data" / "team-042.yaml"
    text = path.read_text(encoding="utf-8")
    m = re.search(r"(target: )([0-9]+)", text)
    assert m is not None
    path.write_text(text[: m.start(2)] + str(int(m.group(2)) + 1) + text[m.end(2) :], encoding="utf-8")


def one_size(work: Path, reviewees: int, *, rounds: int = 3) -> dict[str, dict[str, object]]:
    from tests.bench.generate import generate_root, people_cache_document

    root, same, two = work / "root", work / "state-same", work / "state-2pct"
    out = work / "out"
    out.mkdir(exist_ok=True)
    people = work / "people.json"
    if not (root / "catalog.yaml").exists():
        generate_root(root, reviewees=reviewees, company=True)
        people.write_text(json.dumps(people_cache_document(reviewees)), encoding="utf-8")
    # The root's own state (what `validate` reads the people cache from) and the first plan's: the people
    # resolved, no value applied yet.
    none = root / ".syncer" / "state"
    if not (none / "meta.json").exists():
        measure(PEOPLE_ONLY, none, people)
    for state, every in ((same, 0), (two, 50)):
        if not (state / "meta.json").exists():
            measure(FILL, root, state, every, people)
    off = {"SYNCER_CACHE": "0"}
    r: dict[str, dict[str, object]] = {}
    r["floor"] = measure(FLOOR, root)
    r["floor, GC paused"] = measure(FLOOR_GC_PAUSED, root)
    r["validate"] = cli(out / "validate.txt", "validate", "--root", root, "--no-cache", expect=0)
    r["first plan, text"] = cli(out / "first.txt", "plan", "--root", root, "--state", none, expect=0, env=off)
    r["first plan, json"] = cli(
        out / "first.stdout",
        "plan",
        "--root",
        root,
        "--state",
        none,
        "--format",
        "json",
        "--out",
        out / "first.json",
        expect=0,
        env=off,
    )
    r["first plan, json"]["bytes"] = (out / "first.json").stat().st_size
    r["no-change plan"] = cli(
        out / "same.txt", "plan", "--root", root, "--state", same, "--detailed-exitcode", expect=0, env=off
    )
    r["2% plan"] = cli(
        out / "two.txt", "plan", "--root", root, "--state", two, "--detailed-exitcode", expect=2, env=off
    )
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    on = {"SYNCER_CACHE_DIR": str(cache)}
    cli(out / "warm.txt", "plan", "--root", root, "--state", same, expect=0, env=on)  # fills the cache
    backup = (root / "data" / "team-042.yaml").read_bytes()
    try:
        change_one_value(root)
        cold, cached = [], []
        one = ("plan", "--root", root, "--state", same, "--detailed-exitcode")
        for _ in range(rounds):  # alternated, so that both see the same machine
            cold.append(cli(out / "one-cold.txt", *one, expect=2, env=off))
            cached.append(cli(out / "one-cached.txt", *one, expect=2, env=on))
        r["one-file plan, cold"], r["one-file plan, cached"] = best(cold), best(cached)
        ratios = [num(w, "seconds") / num(c, "seconds") for c, w in zip(cold, cached, strict=True)]
        r["one-file plan, cached"]["rounds"] = ratios
        cpu = min(num(w, "cpu") for w in cached) / min(num(c, "cpu") for c in cold)
        r["one-file plan, cached"]["cpu_ratio"] = cpu
        r["one-file validate, cached"] = cli(out / "one-validate.txt", "validate", "--root", root, expect=0, env=on)
    finally:
        (root / "data" / "team-042.yaml").write_bytes(backup)
    for name in ("one-cold.txt", "one-cached.txt"):
        assert "1 value changed" in (out / name).read_text(encoding="utf-8"), name
    r["state load"] = measure(LOAD, same)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000", help="reviewees, comma-separated (x 20 values each)")
    ap.add_argument("--batches", type=int, default=300, help="batches for the git backend's growth")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) DIR/<reviewees>")
    ap.add_argument("--rounds", type=int, default=3, help="runs of the one-file plan, cold and cached (best kept)")
    ap.add_argument("--startup-runs", type=int, default=21, help="runs of each start-up figure (the median kept)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    results: dict[int, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            work = (a.keep or Path(tmp)) / str(n)
            work.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            results[n] = one_size(work, n, rounds=a.rounds)
            print(f"measured {n * 20:,} values in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    values = {n: n * 20 for n in sizes}
    cols = "".join(f" | {values[n]:>10,} values: s, x floor, x floor GC paused, MiB, B/value" for n in sizes)
    print(f"{'':28}{cols}")
    names = list(results[sizes[0]])
    for name in names:
        line = f"{name:28}"
        for n in sizes:
            r = results[n][name]
            s, rss = num(r, "seconds"), num(r, "max_rss_mib")
            floor, paused = num(results[n]["floor"], "seconds"), num(results[n]["floor, GC paused"], "seconds")
            per = f"{num(r, 'bytes') / values[n]:6.1f}" if name.startswith("first plan") else "     -"
            line += f" | {s:7.2f} s {s / floor:5.2f}x {s / paused:5.2f}x {rss:6.0f} MiB {per} B/v" + " " * 8
        print(line)
    for n in sizes:
        res = results[n]
        cold, warm = num(res["one-file plan, cold"], "seconds"), num(res["one-file plan, cached"], "seconds")
        rounds = res["one-file plan, cached"]["rounds"]
        assert isinstance(rounds, list)
        each = ", ".join(f"{x:.3f}" for x in rounds)
        print(
            f"{values[n]:,} values, {n:,} people in the catalog: one-file plan with the cache / cold = "
            f"{warm / cold:.3f} wall-clock, best of each (target <= 0.2); round by round {each}; in CPU time "
            f"(user + system, what a busy machine changes least) {num(res['one-file plan, cached'], 'cpu_ratio'):.3f}"
        )
    print()
    print_startup(a.startup_runs)
    print_growth(a.batches)


if __name__ == "__main__":
    main()
