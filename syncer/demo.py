"""`syncer demo`: the whole loop against the in-process emulator and a temporary copy of the example root.

No credentials, no network (the emulator answers through an httpx transport, no socket), nothing written
outside the working directory.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from syncer.apply.client import WriteClient, write_client
from syncer.apply.run import ApplyRun, run_apply
from syncer.emulator import Emulator, EmulatorTransport
from syncer.errors import SyncerError
from syncer.feishu.auth import Credentials
from syncer.gitinfo import NO_GIT
from syncer.load.validate import ValidationResult, validate_root
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.plan.summary import summary_line
from syncer.report.apply import render_summary
from syncer.report.plan import render_plan
from syncer.scaffold import example_root
from syncer.state import open_store, target_identity

DEMO_QUOTA = 600  # imports a minute in the demo; Feishu's real quota is 10
DEMO_URL = "http://127.0.0.1"  # the in-process emulator: no socket is opened

Echo = Callable[[str], None]


MARKER = ".syncer-demo"  # in a working copy the demo made: the only kind it may replace


def run_demo(*, keep: Path | None, echo: Echo) -> int:
    if keep is not None:
        target = keep / "metrics"
        if target.exists() and not (target / MARKER).is_file():
            raise SyncerError(
                f"{target.as_posix()} exists and was not made by `syncer demo`: choose an empty "
                "directory for --keep (the demo never overwrites your files)"
            )
        try:
            keep.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SyncerError(f"cannot use {keep.as_posix()}: {exc.strerror or exc}") from exc
        return _demo(keep, echo)
    with tempfile.TemporaryDirectory(prefix="syncer-demo-") as tmp:
        return _demo(Path(tmp), echo)


def _step(echo: Echo, n: int, title: str) -> None:
    echo(f"\n== {n}/7 {title}")


def _demo(workdir: Path, echo: Echo) -> int:
    started = time.monotonic()
    root = workdir / "metrics"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(example_root(), root, ignore=shutil.ignore_patterns(".syncer"))
    (root / MARKER).write_text("made by syncer demo: `syncer demo --keep` may replace this directory\n")
    settings_file = root / "syncer.yaml"
    text = settings_file.read_text(encoding="utf-8")
    text = text.replace("import_per_minute: 10", f"import_per_minute: {DEMO_QUOTA}   # demo only: Feishu allows 10")
    # The example keeps its state on a git branch (for CI); the demo's copy is not in git: a local state.
    text = re.sub(
        r"(?m)^  backend: git\b.*$", "  backend: local          # demo: a state of its own, in this copy", text
    )
    settings_file.write_text(text, encoding="utf-8")
    emulator = Emulator(import_per_minute=DEMO_QUOTA)
    client = write_client(
        base_url=DEMO_URL,
        credentials=Credentials("cli_emulator", "emulator_secret"),
        transport=EmulatorTransport(emulator),
    )
    echo("syncer demo: the whole loop against a built-in Feishu emulator (in-process: no network, no credentials).")
    echo(f"Working copy of the example metrics root: {root}")
    echo(
        f"The emulator's import quota is scaled to {DEMO_QUOTA} a minute so this takes seconds; Feishu's "
        "real quota is 10 a minute (500 rows a minute at 50 rows a request)."
    )

    _step(echo, 1, "validate: every file checked offline")
    result = _validate(root, echo)
    if result is None:
        return 1

    _step(echo, 2, "plan: what an apply would change (nothing applied yet, so all creates)")
    _plan(root, result, echo, show=False)

    _step(echo, 3, "apply: paced, journaled, recorded in the state")
    run = _apply(root, result, client)
    echo(render_summary(run.report, run.plan.names, run.plan.counts).rstrip())

    _step(echo, 4, "plan again: the state now matches the YAML")
    _plan(root, result, echo, show=False)

    _step(echo, 5, "change a value in the YAML, as a pull request would")
    sales = root / "teams" / "sales.yaml"
    old, new = _bump_actual(sales, "alice")
    echo(f"teams/sales.yaml: alice's revenue actual {old} -> {new}")
    result = _validate(root, echo)
    if result is None:
        return 1

    _step(echo, 6, "plan: exactly one value changes, one row to send, one request")
    _plan(root, result, echo, show=True)

    _step(echo, 7, "apply: only the changed row is sent")
    run = _apply(root, result, client)
    echo(render_summary(run.report, run.plan.names, run.plan.counts).rstrip())
    value = emulator.value(
        semester_id="7293040702907514899",
        reviewee_open_id="ou_3245842393d09e9428ad4655da6e30b3",
        metric_id="7272580325522276372",
        field_id="5",
    )
    echo(f"The emulator now holds alice's revenue actual = {value.field_value if value else '?'}.")
    imports = len(emulator.requests("metric_details.import"))
    echo(
        f"\nDone in {time.monotonic() - started:.1f} s: {imports} import requests in all. At Feishu's quota of "
        f"10 a minute the same {imports} requests take about {max(0, imports - 1) * 6} s of pacing."
    )
    echo('Next: `syncer init` to start your own metrics root, and the README\'s "Running from CI".')
    return 0


def _validate(root: Path, echo: Echo) -> ValidationResult | None:
    result = validate_root(root, root_display="metrics")
    echo(
        f"metrics: {'valid' if result.ok else 'INVALID'}: {len(result.files)} data files, "
        f"{result.value_count} values ({result.closed_value_count} in a closed semester, left out of plans)"
    )
    return result if result.ok and result.desired is not None else None


def _plan(root: Path, result: ValidationResult, echo: Echo, *, show: bool) -> None:
    assert result.desired is not None
    store = open_store(root, result.settings)
    target = target_identity(result.settings, base_url=DEMO_URL, app_id="cli_emulator")
    plan = make_plan(
        result.desired,
        store.load(),
        PlanOptions(
            safety=result.settings.safety,
            git=NO_GIT,
            target=target,
            state_location=store.location,
            root="metrics",
            percentage_format=result.settings.target.percentage_format,
        ),
    )
    if show:
        echo(render_plan(plan, "text", redact=False, color=False).rstrip())
    else:
        echo(summary_line(plan))


def _apply(root: Path, result: ValidationResult, client: WriteClient) -> ApplyRun:
    assert result.desired is not None
    return run_apply(
        store=open_store(root, result.settings),
        client=client,
        settings=result.settings,
        desired=result.desired,
        git=NO_GIT,
        root="metrics",
        commit_is_ancestor=lambda a, b: True,
        confirm=lambda plan: True,
    )


def _bump_actual(path: Path, reviewee: str) -> tuple[str, str]:
    """Raise a reviewee's first `actual:` value by 5% in the file's text (comments and layout kept)."""
    text = path.read_text(encoding="utf-8")
    block = re.search(rf"^  {re.escape(reviewee)}:\n((?:    .*\n)+)", text, re.M)
    if block is None:
        raise RuntimeError(f"{path}: no reviewee {reviewee}")
    m = re.search(r"^(      actual: )(\d+)$", block.group(1), re.M)
    if m is None:
        raise RuntimeError(f"{path}: {reviewee} has no actual value")
    old = m.group(2)
    new = str(int(old) * 105 // 100)
    start = block.start(1) + m.start(2)
    path.write_text(text[:start] + new + text[start + len(old) :], encoding="utf-8")
    return old, new
