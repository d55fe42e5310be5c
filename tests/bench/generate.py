"""Generate a large, valid metrics root for benchmarks.

    python tests/bench/generate.py DEST [--reviewees 50000] [--metrics 5] [--fields 4] [--files 100]

The default is 50,000 reviewees x 5 metrics x 4 fields = 1,000,000 values in 100 data files. Values are
deterministic (a seeded generator), so two runs write the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from pathlib import Path

SEMESTER_ID = "7293040702907514899"
FIELD_TYPES = [
    ("weight", "2", "percentage"),
    ("target", "4", "number"),
    ("actual", "5", "number"),
    ("note", "7", "text"),
    ("owner", "7283776005142675476", "person"),
    ("unit", "3", "text"),
]


def open_id(n: int) -> str:
    return "ou_" + hashlib.md5(f"bench-{n}".encode()).hexdigest()


def generate_root(dest: Path, *, reviewees: int = 50_000, metrics: int = 5, fields: int = 4, files: int = 100) -> None:
    """Write a metrics root: syncer.yaml, catalog.yaml (people by alias) and `files` data files."""
    if not 1 <= fields <= len(FIELD_TYPES):
        raise ValueError(f"fields must be 1..{len(FIELD_TYPES)}")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "syncer.yaml").write_text("target:\n  user_id_type: open_id\n", encoding="utf-8")
    field_defs = FIELD_TYPES[:fields]
    cat = ["semesters:", f'  bench: "{SEMESTER_ID}"', "metrics:"]
    for m in range(metrics):
        cat += [f"  m{m}:", f'    id: "{7272580325522276372 + m}"', "    fields:"]
        for alias, fid, ftype in field_defs:
            role = ", role: weight" if alias == "weight" else ""
            cat.append(f'      {alias}: {{id: "{fid}", type: {ftype}{role}}}')
    cat.append("people:")
    cat.append(f"  lead: {open_id(-1)}")
    (dest / "catalog.yaml").write_text("\n".join(cat) + "\n", encoding="utf-8")
    rng = random.Random(42)
    weight = 100 // metrics
    per_file = -(-reviewees // files)
    data = dest / "data"
    data.mkdir(exist_ok=True)
    for f in range(files):
        lo, hi = f * per_file, min(reviewees, (f + 1) * per_file)
        if lo >= hi:
            break
        out = ["semester: bench", "reviewees:"]
        for r in range(lo, hi):
            out.append(f"  {open_id(r)}:")
            for m in range(metrics):
                out.append(f"    m{m}:")
                for alias, _fid, ftype in field_defs:
                    if alias == "weight":
                        v = f"{weight}%"
                    elif ftype == "number":
                        v = str(rng.randrange(1, 2_000_000))
                    elif ftype == "person":
                        v = "lead"
                    else:
                        v = f'"note {rng.randrange(10**6)}"'
                    out.append(f"      {alias}: {v}")
        (data / f"team-{f:03d}.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", type=Path)
    ap.add_argument("--reviewees", type=int, default=50_000)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--fields", type=int, default=4)
    ap.add_argument("--files", type=int, default=100)
    a = ap.parse_args()
    generate_root(a.dest, reviewees=a.reviewees, metrics=a.metrics, fields=a.fields, files=a.files)


if __name__ == "__main__":
    main()
