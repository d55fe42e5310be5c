"""Benchmark: `syncer sheet export`, `syncer sheet import` and `syncer fmt --check` at a million values,
against the floor of openpyxl writing and reading the same cells, and of PyYAML parsing the same files.

    python tests/bench/bench_sheet.py [--reviewees 50000] [--rounds 1] [--keep DIR]

(or SYNCER_BENCH_REVIEWEES=10000 for 200,000 values). Generates a root (reviewees x 5 metrics x 4 fields, in
100 files), then, round by round, each measure right after its floor so that both see the same machine
(paired runs; the ratios are those of one round, the best round's printed, every round's listed), of
the wall time and of the CPU time (user and system: on a shared machine, the CPU time is what a command
costs; the wall time also counts the time other work held the cores):
  write floor      openpyxl writing the exported workbook's cells (read from it beforehand, not timed) to a
                   new workbook in write-only mode: the cells alone, no styles, checks or protection
  export           `syncer sheet export --out FILE.xlsx`
  read floor       openpyxl reading every cell of the exported workbook in read-only mode (values_only)
  import, same     `syncer sheet import` of the unedited workbook: nothing to change
  import, 1%       the same with 1% of the values edited (every 50th number cell plus one, written into the
                   workbook's XML), into a copy of the root: that many values updated
  parse floor      yaml.load(..., Loader=yaml.CSafeLoader) of every data file (as bench_scale.py), and the
                   same with the garbage collector paused (PyYAML's many small objects make the collector
                   run often: the time it takes is the floor's, not the parsing's)
  fmt --check      `syncer fmt --check` of the root (already formatted: nothing would change)
Every syncer command is a fresh `python -m syncer` process; peak memory is that process's max RSS
(resource.getrusage(RUSAGE_CHILDREN).ru_maxrss of the process that ran it); the floors' are their own
process's (RUSAGE_SELF), which includes the cells they were given. Targets (issue 26): export <= 1.5x and
import <= 2x their floor, each under 1 GiB; fmt --check <= 1.5x the parse floor.
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

from tests.bench.bench_plan import measure  # noqa: E402
from tests.bench.bench_scale import cli, num  # noqa: E402
from tests.bench.bench_validate import FLOOR  # noqa: E402

WRITE_FLOOR = """
import json, resource, sys, time
import openpyxl
src, dest = sys.argv[1], sys.argv[2]
book = openpyxl.load_workbook(src, read_only=True)
sheets = [(ws.title, [row for row in ws.iter_rows(values_only=True)]) for ws in book.worksheets
          if not ws.title.startswith("_syncer")]
book.close()
cells = sum(len(r) for _, rows in sheets for r in rows)
t, c = time.perf_counter(), time.process_time()
wb = openpyxl.Workbook(write_only=True)
for title, rows in sheets:
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append(row)
wb.save(dest)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "cells": cells,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

READ_FLOOR = """
import json, resource, sys, time
import openpyxl
t, c = time.perf_counter(), time.process_time()
book = openpyxl.load_workbook(sys.argv[1], read_only=True)
cells = 0
for ws in book.worksheets:
    if ws.title.startswith("_syncer"):
        continue
    for row in ws.iter_rows(values_only=True):
        cells += len(row)
book.close()
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "cells": cells,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: The parse floor with its CPU time, and the same with the garbage collector paused.
PARSE_FLOOR = FLOOR.replace("t = time.perf_counter()", "t, c = time.perf_counter(), time.process_time()", 1).replace(
    '{"seconds": time.perf_counter() - t,', '{"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,', 1
)
PARSE_FLOOR_NO_GC = PARSE_FLOOR.replace("t, c = ", "import gc\ngc.disable()\nt, c = ", 1)
EDIT_EVERY = 50  # every 50th number cell of target and actual: 1% of the values (half of them are numbers)
_NUMBER_CELL = re.compile(rb'(<c r="[EF][0-9]+"(?: [^>]*)?><v>)(-?[0-9]+)(</v>)')


def edit_workbook(src: Path, dest: Path) -> int:
    """A copy of `src` with every EDIT_EVERY-th whole-number cell of columns E and F (target, actual) one
    more, edited in the sheets' XML (the rest of the workbook byte for byte); the count edited."""
    import zipfile

    edited = 0

    def bump(m: re.Match[bytes]) -> bytes:
        nonlocal edited
        bump.seen += 1  # type: ignore[attr-defined]
        if bump.seen % EDIT_EVERY:  # type: ignore[attr-defined]
            return m.group(0)
        edited += 1
        return m.group(1) + str(int(m.group(2)) + 1).encode() + m.group(3)

    bump.seen = 0  # type: ignore[attr-defined]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if re.fullmatch(r"xl/worksheets/sheet[0-9]+\.xml", item.filename):
                data = _NUMBER_CELL.sub(bump, data)
            zout.writestr(item, data)
    return edited


class Progress(dict[str, dict[str, object]]):
    """The round's figures, each printed to stderr as it is measured (a run at a million values is long)."""

    def __setitem__(self, name: str, value: dict[str, object]) -> None:
        super().__setitem__(name, value)
        print(
            f"  {name}: {value.get('seconds', 0):.2f} s, CPU {value.get('cpu', 0):.2f} s, "
            f"{value.get('max_rss_mib', 0):.0f} MiB",
            file=sys.stderr,
            flush=True,
        )


def one_round(work: Path, root: Path, out: Path) -> dict[str, dict[str, object]]:
    r: dict[str, dict[str, object]] = Progress()
    book = out / "export.xlsx"
    if book.exists():
        r["write floor"] = measure(WRITE_FLOOR, book, out / "floor.xlsx")
    r["export"] = cli(out / "export.txt", "sheet", "export", "--root", root, "--out", book, expect=0)
    if "write floor" not in r:  # the first round: the floor writes the cells of the export just made
        r["write floor"] = measure(WRITE_FLOOR, book, out / "floor.xlsx")
    r["read floor"] = measure(READ_FLOOR, book)
    r["import, same"] = cli(out / "same.txt", "sheet", "import", book, "--root", root, expect=0)
    summary = (out / "same.txt").read_text(encoding="utf-8")
    assert "nothing to change" in summary, summary[-800:]
    edited = out / "edited.xlsx"
    count = edit_workbook(book, edited)
    copy = work / "root-edit"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    r["read floor, 1%"] = measure(READ_FLOOR, edited)
    r["import, 1%"] = cli(out / "edit.txt", "sheet", "import", edited, "--root", copy, expect=0)
    summary = (out / "edit.txt").read_text(encoding="utf-8")
    assert f"{count} values updated" in summary, (count, summary[-800:])
    r["import, 1%"]["edited"] = count
    r["parse floor"] = measure(PARSE_FLOOR, root)
    r["parse floor, gc paused"] = measure(PARSE_FLOOR_NO_GC, root)
    r["fmt --check"] = cli(out / "fmt.txt", "fmt", "--check", "--root", root, expect=0)
    return r


PAIRS = (
    ("export", "write floor", 1.5),
    ("import, same", "read floor", 2.0),
    ("import, 1%", "read floor, 1%", 2.0),
    ("fmt --check", "parse floor", 1.5),
    ("fmt --check", "parse floor, gc paused", 1.5),
)


def main() -> None:
    from tests.bench.generate import generate_root

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = int(os.environ.get("SYNCER_BENCH_REVIEWEES", "50000"))
    ap.add_argument("--reviewees", type=int, default=default, help="x 20 values each (env SYNCER_BENCH_REVIEWEES)")
    ap.add_argument("--rounds", type=int, default=1, help="paired rounds; each round's ratios are printed")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) DIR/<reviewees>")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = (a.keep or Path(tmp)) / str(a.reviewees)
        root, out = work / "root", work / "out"
        out.mkdir(parents=True, exist_ok=True)
        if not (root / "catalog.yaml").exists():
            generate_root(root, reviewees=a.reviewees)
        cli(out / "fmt.txt", "fmt", "--root", root, expect=0)  # the generator's layout is not fmt's
        rounds = []
        for i in range(a.rounds):
            t = time.perf_counter()
            rounds.append(one_round(work, root, out))
            print(f"round {i + 1}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    values = a.reviewees * 20
    print(f"{values:,} values ({a.reviewees:,} reviewees x 5 metrics x 4 fields, 100 files); {a.rounds} round(s)")
    first = rounds[0]
    print(f"cells the floors write and read: {first['write floor']['cells']:,}")
    print("each: wall s, CPU s, peak MiB | its floor: the same | ratios wall and CPU (the best round's; every round's)")
    for name, floor, target in PAIRS:
        ratios = [num(rd[name], "cpu") / num(rd[floor], "cpu") for rd in rounds]
        best = min(range(len(rounds)), key=lambda i: ratios[i])
        rd = rounds[best]
        s, f = num(rd[name], "seconds"), num(rd[floor], "seconds")
        rss, frss = num(rd[name], "max_rss_mib"), num(rd[floor], "max_rss_mib")
        memory = not name.startswith("fmt")
        met = "met" if ratios[best] <= target and (not memory or rss < 1024) else "NOT met"
        each = ", ".join(f"{x:.2f}x" for x in ratios)
        print(
            f"{name:13} {s:7.2f} s {num(rd[name], 'cpu'):7.2f} s {rss:5.0f} MiB | {floor:22} {f:7.2f} s "
            f"{num(rd[floor], 'cpu'):7.2f} s {frss:5.0f} MiB | wall {s / f:5.2f}x, CPU {ratios[best]:5.2f}x "
            f"(target <= {target}x{', < 1 GiB' if memory else ''}: {met}); CPU by round: {each}"
        )
    print(f"import, 1%: {first['import, 1%']['edited']:,} values edited")


if __name__ == "__main__":
    main()
