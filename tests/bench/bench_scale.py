"""Benchmark: syncer at a company's scale, side by side in one run, at 200,000 and 1,000,000 values.

    python tests/bench/bench_scale.py [--sizes 10000,50000] [--batches 300] [--keep DIR]

For each size (reviewees x 5 metrics x 4 fields, in 100 files; 10,000 and 50,000 reviewees by default), in
fresh processes so that peak memory (max RSS) is per run, the real command line (`python -m syncer`):
  floor            yaml.load(..., Loader=yaml.CSafeLoader) of every data file (PyYAML's fastest full load)
  validate         `syncer validate --no-cache`
  first plan       `syncer plan` with no state yet (every value a create), text to a file, then
                   `--format json --out FILE` (the JSON on stdout and in FILE): time, peak RSS and bytes
                   a value of what was written
  no-change plan   against a state holding exactly the YAML's values
  2% plan          against a state where 2% of the values differ
  one-file plan    one value changed in one file of the 100: cold (`--no-cache`) and with the check cache
                   filled by an earlier run (the pull request's second push, a pre-commit hook); --rounds
                   runs of each, alternated, the best of each kept (as bench_plan.py does), each round's
                   ratio printed too
  state load       LocalStateStore.load() of the state
and, once, the git backend over a first apply of --batches batches of 50 rows: the objects added to the
runner's clone and to the remote (loose objects, before any gc) and the time per batch, first tenth
against last tenth. Targets (issue 14): first plan <= 2x the floor and < 1 GiB; JSON plan < 120 B a value;
one-file plan with the cache < 25% of the cold one; git growth a few MiB per 100 batches, linear.
"""

from __future__ import annotations

import argparse
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

RUN = """
import json, resource, subprocess, sys, time
out, args = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
with open(out, "wb") as fh:
    p = subprocess.run([sys.executable, "-m", "syncer", *args], stdout=fh, stderr=subprocess.PIPE)
print(json.dumps({"seconds": time.perf_counter() - t, "exit": p.returncode,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stderr": p.stderr.decode("utf-8", "replace")[-800:]}))
"""


def cli(out: Path, *args: object, expect: int, env: dict[str, str] | None = None) -> dict[str, object]:
    old = dict(os.environ)
    try:
        os.environ.update(env or {})
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
    from tests.bench.generate import generate_root

    root, same, two = work / "root", work / "state-same", work / "state-2pct"
    out = work / "out"
    out.mkdir(exist_ok=True)
    if not (root / "catalog.yaml").exists():
        generate_root(root, reviewees=reviewees)
    for state, every in ((same, 0), (two, 50)):
        if not (state / "meta.json").exists():
            measure(FILL, root, state, every)
    off = {"SYNCER_CACHE": "0"}
    r: dict[str, dict[str, object]] = {}
    r["floor"] = measure(FLOOR, root)
    r["validate"] = cli(out / "validate.txt", "validate", "--root", root, "--no-cache", expect=0)
    none = work / "no-state"
    shutil.rmtree(none, ignore_errors=True)
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
        r["one-file validate, cached"] = cli(out / "one-validate.txt", "validate", "--root", root, expect=0, env=on)
    finally:
        (root / "data" / "team-042.yaml").write_bytes(backup)
    for name in ("one-cold.txt", "one-cached.txt"):
        assert "1 value changed" in (out / name).read_text(encoding="utf-8"), name
    r["state load"] = measure(LOAD, same)
    return r


def git_growth(batches: int) -> None:
    """The git backend's cost per batch of a first apply: objects added (clone and remote, per 100 batches at
    the start and at the end: flat is linear), and CPU per batch, with the remote a local path (its work, done
    by git processes of ours, counted too) and behind `git daemon` on loopback (the client's CPU alone, as
    against a server)."""
    from tests.bench.gitgrowth import first_apply

    mib, hundred = 1 << 20, min(100, batches // 2)
    print(f"\ngit backend, a first apply of {batches} batches of 50 rows (4 values a row):")
    for served in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            g = first_apply(Path(tmp), batches, served=served)
        if not served:
            for label, series in (("clone", g.clone_bytes), ("remote", g.remote_bytes)):
                first = series[hundred - 1]
                last = series[-1] - series[-hundred - 1]
                print(
                    f"  {label:6} objects added: {series[-1] / mib:6.2f} MiB in all; per {hundred} batches "
                    f"{first / mib:.3f} MiB first, {last / mib:.3f} MiB last (ratio {last / first:.2f}; flat: 1)"
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
    ap.add_argument("--sizes", default="10000,50000", help="reviewees, comma-separated (x 20 values each)")
    ap.add_argument("--batches", type=int, default=300, help="batches for the git backend's growth")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) DIR/<reviewees>")
    ap.add_argument("--rounds", type=int, default=3, help="runs of the one-file plan, cold and cached (best kept)")
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
    cols = "".join(f" | {values[n]:>10,} values: s, x floor, MiB, B/value" for n in sizes)
    print(f"{'':28}{cols}")
    names = list(results[sizes[0]])
    for name in names:
        line = f"{name:28}"
        for n in sizes:
            r = results[n][name]
            s, floor, rss = num(r, "seconds"), num(results[n]["floor"], "seconds"), num(r, "max_rss_mib")
            per = f"{num(r, 'bytes') / values[n]:6.1f}" if name.startswith("first plan") else "     -"
            line += f" | {s:7.2f} s {s / floor:5.2f}x {rss:6.0f} MiB {per} B/v" + " " * 8
        print(line)
    for n in sizes:
        res = results[n]
        cold, warm = num(res["one-file plan, cold"], "seconds"), num(res["one-file plan, cached"], "seconds")
        rounds = res["one-file plan, cached"]["rounds"]
        assert isinstance(rounds, list)
        each = ", ".join(f"{x:.3f}" for x in rounds)
        print(
            f"{values[n]:,} values: one-file plan with the cache / cold = {warm / cold:.3f}, best of each "
            f"(target < 0.25); round by round {each}"
        )
    git_growth(a.batches)


if __name__ == "__main__":
    main()
