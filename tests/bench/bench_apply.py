"""Benchmark: what `syncer apply` makes of the import quota.

    python tests/bench/bench_apply.py [--reviewees 50000] [--change 0.02] [--paced-requests 20]

Prints, in one run:
  (a) quota efficiency: accepted imports / ceil(changed rows / 50) for a 2% change of 50,000 rows applied
      to the emulator at Feishu's real quota (10/min) on a simulated clock (target 1.00);
  (b) pacing: the ideal time (requests - 1) x 60/quota over the real elapsed time of an apply at a scaled
      quota (600/min) against the emulator served on loopback over HTTP, and the count of 429s (target
      >= 0.95 with zero 429s);
  (c) for illustration, the 2% change next to a script that re-pushes every row with the official lark-oapi
      SDK (50 rows a request, no pacing): requests sent, and the time each takes at the real quota;
  (d) a root of 600 rows that the tenant refuses alike (it wants percentages without %): the requests spent
      before the apply stops with a diagnosis, next to the 2 x rows - 1 of a split down to single rows.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from syncer.apply.run import Clocks, run_apply  # noqa: E402
from syncer.emulator import (  # noqa: E402
    Emulator,
    EmulatorServer,
    ManualClock,
    parse_tenant,
)
from syncer.feishu.auth import Credentials  # noqa: E402
from syncer.feishu.write import WriteClient  # noqa: E402
from syncer.gitinfo import NO_GIT  # noqa: E402
from syncer.load.validate import validate_root  # noqa: E402
from syncer.state import open_store  # noqa: E402
from tests.bench.generate import generate_root, open_id  # noqa: E402
from tests.emulated import REAL_JITTER, emulator_client  # noqa: E402

SEMESTER = "7293040702907514899"
REVENUE = "7272580325522276372"
IMPORT = "metric_details.import"


def bench_tenant(reviewees: int, *, import_per_minute: int) -> Any:
    """The default tenant plus every generated reviewee, enrolled in 2026-H2 with the revenue metric."""
    import yaml

    from syncer.emulator import default_tenant_path

    data = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    ids = [open_id(i) for i in range(reviewees)] + [open_id(-1)]
    data["users"] += [
        {
            "open_id": oid,
            "union_id": "on_" + oid[3:],
            "user_id": f"b{i}",
            "people_admin_id": str(7_500_000_000_000_000_000 + i),
            "name": f"bench{i}",
        }
        for i, oid in enumerate(ids)
    ]
    sem = next(s for s in data["semesters"] if s["id"] == SEMESTER)
    sem["reviewees"] += [{"reviewee_user_id": oid, "metric_template_id": "7300000000000000001"} for oid in ids[:-1]]
    data["rate_limits"]["metric_details.import"] = import_per_minute
    return parse_tenant(data)


def make_root(dest: Path, reviewees: int) -> Path:
    root = dest / "metrics"
    generate_root(root, reviewees=reviewees, metrics=1, fields=4, files=max(1, reviewees // 500))
    cat = root / "catalog.yaml"
    cat.write_text(cat.read_text().replace("  bench:", "  2026-H2:"))
    for f in (root / "data").iterdir():
        f.write_text(f.read_text().replace("semester: bench", "semester: 2026-H2"))
    return root


def change(root: Path, share: float, seed: int = 1) -> int:
    """Change the `actual` of `share` of the rows; returns how many rows changed."""
    rng = random.Random(seed)
    changed = 0
    for f in sorted((root / "data").iterdir()):
        lines = f.read_text().splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("      actual: ") and rng.random() < share:
                lines[i] = f"      actual: {int(line.split(': ')[1]) + 1}\n"
                changed += 1
        f.write_text("".join(lines))
    return changed


def apply(root: Path, client: WriteClient, **kw: Any) -> Any:
    result = validate_root(root)
    assert result.ok and result.desired is not None, result.problems[:3]
    return run_apply(
        store=open_store(root, result.settings),
        client=client,
        settings=result.settings,
        desired=result.desired,
        git=NO_GIT,
        root="metrics",
        commit_is_ancestor=lambda a, b: True,
        confirm=lambda plan: True,
        **kw,
    )


def quota_efficiency(tmp: Path, reviewees: int, share: float) -> tuple[int, int, int, float]:
    """(a): returns changed rows, accepted imports, the minimum ceil(rows/50), and simulated seconds."""
    root = make_root(tmp / "a", reviewees)
    clock = ManualClock()
    emu = Emulator(bench_tenant(reviewees, import_per_minute=10), clock=clock, sleep=clock.sleep)
    client = emulator_client(emu, clock, random=REAL_JITTER)
    apply(root, client, clocks=Clocks(timer=clock, sleep=clock.sleep))  # the initial state: everything applied once
    rows = change(root, share)
    start = clock()
    before = len(emu.requests(IMPORT))
    run = apply(root, client, clocks=Clocks(timer=clock, sleep=clock.sleep))
    accepted = sum(1 for e in emu.requests(IMPORT)[before:] if e.code == 0)
    assert run.report.exit_code == 0, run.report
    return rows, accepted, math.ceil(rows / 50), clock() - start


def pacing(tmp: Path, requests: int, quota: int) -> tuple[int, float, float, int]:
    """(b): an apply of `requests` full batches at `quota`/min over loopback HTTP, in real time."""
    reviewees = requests * 50
    root = make_root(tmp / "b", reviewees)
    settings = root / "syncer.yaml"
    settings.write_text(f"target:\n  user_id_type: open_id\n  import_per_minute: {quota}\n")
    emu = Emulator(bench_tenant(reviewees, import_per_minute=quota))
    with EmulatorServer(emu) as server:
        client = WriteClient(base_url=server.url, credentials=Credentials("cli_emulator", "emulator_secret"))
        started = time.perf_counter()
        run = apply(root, client)
        elapsed = time.perf_counter() - started
    log = emu.requests(IMPORT)
    first, last = log[0].time, log[-1].time
    too_many = sum(1 for e in emu.requests() if e.status == 429)
    assert run.report.exit_code == 0
    return len(log), (len(log) - 1) * 60 / quota, last - first if len(log) > 1 else elapsed, too_many


def refused_alike(tmp: Path, reviewees: int) -> tuple[int, int, int]:
    """(d): a root whose every row Feishu refuses the same way (percentages without their %): the requests an
    apply spends before it stops, against the 2 x rows - 1 a split down to single rows would."""
    root = make_root(tmp / "d", reviewees)
    clock = ManualClock()
    tenant = bench_tenant(reviewees, import_per_minute=10).with_switches(percentage_wire_format="40")
    emu = Emulator(tenant, clock=clock, sleep=clock.sleep)
    client = emulator_client(emu, clock, random=REAL_JITTER)
    run = apply(root, client, clocks=Clocks(timer=clock, sleep=clock.sleep))
    assert run.report.exit_code == 4 and run.report.shared, run.report
    return reviewees, len(emu.requests(IMPORT)), 2 * reviewees - 1


def sdk_full_push(reviewees: int) -> int:
    """(c): every row re-pushed with the official SDK, 50 rows a request; returns the requests sent."""
    import lark_oapi as lark
    from lark_oapi.api.performance.v2 import (
        ImportedMetric,
        ImportedMetricField,
        ImportMetricDetailRequest,
        ImportMetricDetailRequestBody,
    )

    emu = Emulator(bench_tenant(reviewees, import_per_minute=1_000_000))
    with EmulatorServer(emu) as server:
        client = (
            lark.Client.builder()
            .app_id("cli_emulator")
            .app_secret("emulator_secret")
            .domain(server.url)
            .log_level(lark.LogLevel.ERROR)
            .build()
        )
        rng = random.Random(0)
        ids = [open_id(i) for i in range(reviewees)]
        sent = 0
        for start in range(0, len(ids), 50):
            metrics = [
                ImportedMetric.builder()
                .reviewee_user_id(oid)
                .metric_id(REVENUE)
                .fields(
                    [
                        ImportedMetricField.builder().field_id("2").field_value("100%").build(),
                        ImportedMetricField.builder().field_id("5").field_value(str(rng.randrange(10**6))).build(),
                    ]
                )
                .build()
                for oid in ids[start : start + 50]
            ]
            req = (
                ImportMetricDetailRequest.builder()
                .client_token(uuid.uuid4().hex)
                .user_id_type("open_id")
                .request_body(
                    ImportMetricDetailRequestBody.builder()
                    .semester_id(SEMESTER)
                    .import_record_name("full push")
                    .imported_metrics(metrics)
                    .build()
                )
                .build()
            )
            resp = client.performance.v2.metric_detail.import_(req)
            assert resp.success(), resp.msg
            sent += 1
    return sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewees", type=int, default=50_000)
    ap.add_argument("--change", type=float, default=0.02)
    ap.add_argument("--paced-requests", type=int, default=20)
    ap.add_argument("--paced-quota", type=int, default=600)
    ap.add_argument("--refused-rows", type=int, default=600)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syncer-bench-apply-"))
    try:
        rows, accepted, minimum, simulated = quota_efficiency(tmp, a.reviewees, a.change)
        print(
            f"(a) quota efficiency: {rows} changed rows of {a.reviewees:,}; {accepted} imports accepted, "
            f"minimum ceil(rows/50) = {minimum}: ratio {accepted / minimum:.2f} (target 1.00); "
            f"{simulated:.0f} s at 10/min on the simulated clock"
        )
        n, ideal, actual, too_many = pacing(tmp, a.paced_requests, a.paced_quota)
        print(
            f"(b) pacing at {a.paced_quota}/min over loopback HTTP: {n} requests, ideal {ideal:.2f} s, actual "
            f"{actual:.2f} s: ratio {ideal / actual:.3f} (target >= 0.95); 429 answers: {too_many}"
        )
        full = sdk_full_push(a.reviewees)
        print(
            f"(c) a {a.change:.0%} change of {a.reviewees:,} rows: syncer sends {accepted} requests "
            f"({(accepted - 1) * 6 / 60:.1f} min at 10/min); a full re-push with the official SDK sends {full} "
            f"requests ({(full - 1) * 6 / 60:.1f} min at 10/min, if it paced itself; unpaced it meets 429s)"
        )
        rows, spent, split = refused_alike(tmp, a.refused_rows)
        print(
            f"(d) every one of {rows} rows refused alike (1580301): {spent} import requests before the apply "
            f"stops and names target.percentage_format; a split down to single rows would spend {split}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
