"""Generate a large, valid metrics root for benchmarks.

    python tests/bench/generate.py DEST [--reviewees 50000] [--metrics 5] [--fields 4] [--files 100]
                                        [--company [--by-email 0.3]]

The default is 50,000 reviewees x 5 metrics x 4 fields = 1,000,000 values in 100 data files, reviewees by raw
open_id and a catalog naming one person. With --company the catalog names every reviewee as a real company's
does: an alias each (`p000042`), the data files give reviewees and person values by alias, and a share of
the people (--by-email, 30% by default) is given by email only (`{email: ...}`), whose IDs `syncer people
resolve` would cache with the state: `people_cache_document` is that cache, for a benchmark to store.
Values are deterministic (a seeded generator), so two runs write the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from pathlib import Path
from typing import Any

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


def person_alias(n: int) -> str:
    return f"p{n:06d}"


def by_email(n: int, share: float) -> bool:
    """Whether person n of a company catalog is given by email only: spread evenly, `share` of them."""
    return int((n + 1) * share) != int(n * share)


def person_email(n: int) -> str:
    return f"{person_alias(n)}@bench.example.com"


def people_cache_document(reviewees: int, *, share: float = 0.3) -> dict[str, Any]:
    """The people cache (people.json, syncer.load.people) that `syncer people resolve` would have written for a
    company catalog: every email-only person found, with the ID the data would have had."""
    people = {
        person_email(n): {
            "email": person_email(n),
            "user_id": open_id(n),
            "status": "active",
            "resolved": "2026-01-01T00:00:00Z",
        }
        for n in range(reviewees)
        if by_email(n, share)
    }
    return {
        "format": 1,
        "identity": {"host": "open.feishu.cn", "app_id": "cli_bench", "user_id_type": "open_id"},
        "people": people,
    }


def generate_root(
    dest: Path,
    *,
    reviewees: int = 50_000,
    metrics: int = 5,
    fields: int = 4,
    files: int = 100,
    company: bool = False,
    share: float = 0.3,
) -> None:
    """Write a metrics root: syncer.yaml, catalog.yaml and `files` data files. Without `company`, reviewees by
    raw ID and one person (`lead`) in the catalog; with it, every reviewee by alias, `share` of them by email."""
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
    for n in range(reviewees if company else 0):
        cat.append(
            f"  {person_alias(n)}: {{email: {person_email(n)}}}"
            if by_email(n, share)
            else f"  {person_alias(n)}: {open_id(n)}"
        )
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
            out.append(f"  {person_alias(r) if company else open_id(r)}:")
            for m in range(metrics):
                out.append(f"    m{m}:")
                for alias, _fid, ftype in field_defs:
                    if alias == "weight":
                        v = f"{weight}%"
                    elif ftype == "number":
                        v = str(rng.randrange(1, 2_000_000))
                    elif ftype == "person":
                        v = person_alias(r // 10 * 10) if company else "lead"  # each tenth's first, a manager
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
    ap.add_argument("--company", action="store_true", help="a catalog naming every reviewee")
    ap.add_argument("--by-email", type=float, default=0.3, help="with --company: the share given by email only")
    a = ap.parse_args()
    generate_root(
        a.dest,
        reviewees=a.reviewees,
        metrics=a.metrics,
        fields=a.fields,
        files=a.files,
        company=a.company,
        share=a.by_email,
    )


if __name__ == "__main__":
    main()
