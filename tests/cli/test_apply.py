"""`syncer apply` and `syncer demo` through the real CLI, against the emulator served on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from tests.emulated import served_example


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Emulator]]:
    with served_example(tmp_path, monkeypatch) as s:
        yield s.root, s.emu


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def test_apply_needs_auto_approve_without_a_terminal(served: tuple[Path, Emulator]) -> None:
    code, out = run("apply")
    assert code == 1 and "--auto-approve" in out
    assert served[1].requests("metric_details.import") == []


def test_apply_then_plan_is_empty_and_state_show_explains(served: tuple[Path, Emulator]) -> None:
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    assert "Applied 215 value changes (215 create) in 60 rows: 215 values sent as whole rows with 2 import" in out
    assert len(served[1].requests("metric_details.import")) == 2
    code, out = run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out
    code, out = run("state", "show")
    assert code == 0 and "215" in out


def test_apply_reports_rejections_with_location_and_exits_4_then_0(served: tuple[Path, Emulator]) -> None:
    root, _ = served
    support = root / "teams" / "support.yaml"
    support.write_text(
        support.read_text().replace("  tang.rui:\n    csat:\n", "  tang.rui:\n    csat:\n      calibration: mine\n", 1)
    )
    code, out = run("apply", "--auto-approve", "--redact-values")
    assert code == 4, out
    assert "metrics/teams/support.yaml:" in out and "1580311" in out and "tang.rui" in out
    assert "mine" not in out
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    assert "rejected earlier and unchanged since, not sent" in out


def test_apply_refuses_plain_http_to_another_host(
    served: tuple[Path, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEISHU_BASE_URL", "http://open.feishu.cn")
    code, out = run("apply", "--auto-approve")
    assert code == 1 and "https" in out and "Traceback" not in out


def test_apply_without_credentials_names_the_variables(
    served: tuple[Path, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEISHU_APP_SECRET")
    code, out = run("apply", "--auto-approve")
    assert code == 1 and "FEISHU_APP_SECRET" in out and "Traceback" not in out


def test_apply_of_a_saved_plan(served: tuple[Path, Emulator], tmp_path: Path) -> None:
    assert run("plan", "--out", str(tmp_path / "p.json"))[0] == 0
    code, out = run("apply", "--auto-approve", "--plan", str(tmp_path / "p.json"))
    assert code == 0, out
    code, out = run("apply", "--auto-approve", "--plan", str(tmp_path / "p.json"))
    assert code == 1 and "stale" in out


def test_demo_runs_the_whole_loop_offline() -> None:
    out = subprocess.run([sys.executable, "-m", "syncer", "demo"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for step in range(1, 8):
        assert f"== {step}/7" in text
    assert "No changes" in text and "1 value changed" in text
    assert "Applied 1 value change (1 update) in 1 row: 5 values sent as whole rows with 1 import request" in text


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_real_cli_between_requests(
    served: tuple[Path, Emulator], sig: signal.Signals, code: int
) -> None:
    """`syncer apply` as a process: the first batch is recorded, the signal arrives while it waits for the
    next slot, it stops there (exit 130/143), says what was recorded and how to go on; the rerun finishes."""
    root, emu = served
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("import_per_minute: 1000", "import_per_minute: 20"))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncer", "apply", "--root", str(root), "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "rows 50/60 done" in line:
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, (out, err)
    assert f"Interrupted by {sig.name}" in out and "run `syncer apply` again to continue" in out
    assert len(emu.requests("metric_details.import")) == 1
    done, text = run("apply", "--root", str(root), "--auto-approve")
    assert done == 0 and "10 rows" in text, text
    assert len(emu.requests("metric_details.import")) == 2


def test_a_report_file_that_cannot_be_written_is_refused_before_anything_is_sent(
    served: tuple[Path, Emulator], tmp_path: Path
) -> None:
    code, out = run("apply", "--auto-approve", "--report", str(tmp_path / "missing" / "r.json"))
    assert code == 1 and "--report" in out and "internal error" not in out
    assert served[1].requests("metric_details.import") == []


def test_refresh_reads_from_the_host_given_by_base_url(
    served: tuple[Path, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --base-url and no FEISHU_BASE_URL, the refresh reads the very tenant the apply writes to."""
    import os

    url = os.environ["FEISHU_BASE_URL"]
    monkeypatch.delenv("FEISHU_BASE_URL")
    code, out = run("apply", "--auto-approve", "--base-url", url, "--refresh-all")
    assert code == 0, out
    assert served[1].requests("metric_details.query")  # read from the emulator, not from open.feishu.cn


SEM_H2 = "7293040702907514899"


def _managed(root: Path) -> dict[tuple[str, str, str, str], str]:
    from syncer.state.local.store import LocalStateStore

    state = LocalStateStore(root / ".syncer" / "state").load()
    assert state is not None
    return {tuple(k): v for k, (v, _) in state.iter_values()}  # type: ignore[misc]


def _values_of(root: Path, file: str) -> dict[tuple[str, str, str, str], str]:
    from syncer.load.validate import validate_root

    desired = validate_root(root).desired
    assert desired is not None
    return {tuple(k): dv.value for k, dv in desired.values.items() if dv.file.endswith(file)}  # type: ignore[misc]


def test_a_targeted_apply_sends_its_part_and_leaves_the_rest_as_it_is(served: tuple[Path, Emulator]) -> None:
    root, emu = served
    code, out = run("apply", "--auto-approve", "--path", "teams/sales.yaml")
    assert code == 0, out
    assert _managed(root) == _values_of(root, "teams/sales.yaml")  # nothing of the other files
    assert len(emu.requests("metric_details.import")) == 1
    assert run("apply", "--auto-approve")[0] == 0  # everything, then: a change in support, engineering gone
    support = root / "teams" / "support.yaml"
    unchanged = _values_of(root, "teams/support.yaml")
    support.write_text(support.read_text().replace("actual: 4.7", "actual: 4.8", 1))
    edited = {k for k, v in _values_of(root, "teams/support.yaml").items() if unchanged[k] != v}
    assert len(edited) == 1
    engineering = _values_of(root, "teams/engineering.yaml")
    (root / "teams" / "engineering.yaml").unlink()
    before = _managed(root)
    code, out = run("apply", "--auto-approve", "--path", "teams/support.yaml")
    assert code == 0, out
    after = _managed(root)
    assert {k for k in after if after[k] != before.get(k)} == edited
    assert set(engineering) <= set(after)  # gone from the YAML, but out of the target: still managed
    code, out = run("plan")
    assert f"{len(engineering)} to forget" in out  # the untargeted plan forgets them


def test_a_saved_targeted_plan_applies_only_as_targeted(served: tuple[Path, Emulator], tmp_path: Path) -> None:
    root, _ = served
    saved = str(tmp_path / "p.json")
    assert run("plan", "--semester", "2026-H2", "--path", "teams/sales.yaml", "--out", saved)[0] == 0
    code, out = run("apply", "--auto-approve", "--plan", saved, "--path", "teams/support.yaml")
    assert code == 1 and "the saved plan was made with --semester 2026-H2 --path teams/sales.yaml" in out
    code, out = run("apply", "--auto-approve", "--plan", saved, "--path", "teams/sales.yaml", "--semester", SEM_H2)
    assert code == 0, out  # the same targeting, by ID this time: accepted
    assert _managed(root) == _values_of(root, "teams/sales.yaml")
    sales = root / "teams" / "sales.yaml"
    text = sales.read_text()
    assert "actual: 1499000" in text
    sales.write_text(text.replace("actual: 1499000", "actual: 1500001", 1))
    assert run("plan", "--path", "teams/sales.yaml", "--out", saved)[0] == 0
    code, out = run("apply", "--auto-approve", "--plan", saved)  # no flags: the plan's own targeting
    assert code == 0, out
    assert _managed(root) == _values_of(root, "teams/sales.yaml")
    assert "1500001" in _managed(root).values()


def test_a_saved_plan_of_everything_refuses_targeting_flags(served: tuple[Path, Emulator], tmp_path: Path) -> None:
    saved = str(tmp_path / "p.json")
    assert run("plan", "--out", saved)[0] == 0
    code, out = run("apply", "--auto-approve", "--plan", saved, "--semester", "2026-H2")
    assert code == 1 and "made without --semester/--path" in out
    assert served[1].requests("metric_details.import") == []


def test_apply_ends_with_what_to_do_next(served: tuple[Path, Emulator]) -> None:
    code, out = run("apply", "--auto-approve")
    assert code == 0 and out.splitlines()[-1] == "Next: `syncer plan` should now show no changes."
    code, out = run("apply", "--auto-approve")
    assert code == 0 and "Next:" not in out  # nothing was to be done


def test_the_readmes_targeting_and_state_list_commands_work(served: tuple[Path, Emulator]) -> None:
    import shlex

    from tests.paths import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Targeting part of the root", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.startswith("syncer ")]
    assert [c[1] for c in commands] == ["plan", "plan", "apply"]
    for argv in commands:
        code, out = run(*argv[1:], *(["--auto-approve"] if argv[1] == "apply" else []))
        assert code == 0, (argv, out)
        assert "Targeted plan (" in out
    loop = readme.split("## The loop", 1)[1].split("```", 2)[1]
    (listing,) = [line for line in loop.splitlines() if line.startswith("syncer state list")]
    code, out = run(*shlex.split(listing.split("#", 1)[0])[1:])
    assert code == 0 and out.startswith("2026-H2  alice  ") and out.endswith("managed values in 2 rows.\n")


def _handles(pid: int, sig: signal.Signals) -> bool:
    """Whether process `pid` has a handler of its own for `sig` (Linux: /proc/PID/status, SigCgt)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status (Linux)")
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.08, 0.15, 0.3])
@pytest.mark.parametrize(
    ("sig", "code", "line"), [(signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Terminated (SIGTERM).")]
)
def test_a_signal_while_apply_starts_stops_it_with_one_line_and_no_traceback(
    served: tuple[Path, Emulator], sig: signal.Signals, code: int, line: str, delay: float
) -> None:
    """A signal while syncer imports, validates and plans (before any request): one line, exit 130 (SIGINT)
    or 143 (SIGTERM), no traceback, and the next apply runs. The clock starts once the process
    handles SIGTERM itself: the first thing syncer's entry point does (before that, the interpreter is still
    starting, and the signal is the interpreter's)."""
    root, emu = served
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncer", "apply", "--root", str(root), "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _handles(proc.pid, signal.SIGTERM) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        # The handlers come before the imports: the YAML reader's C extension is not loaded yet.
        early = "_yaml" not in Path(f"/proc/{proc.pid}/maps").read_text()
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert early, "syncer handled SIGTERM only once it had imported its modules"
    assert "Traceback" not in err and "Exception ignored" not in err and "internal error" not in err, err
    assert proc.returncode == code, (out, err)
    last = err.strip().splitlines()[-1]
    if emu.requests("metric_details.import"):  # a fast run was sending already: it stopped between requests
        assert f"Interrupted by {sig.name}" in out, (out, err)
    elif last.startswith(f"stopped by {sig.name}:"):  # the apply had armed its stop, before its first request
        assert last.endswith("rows left for the next run"), err
    else:
        assert last == line, err
    done, text = run("apply", "--root", str(root), "--auto-approve")
    assert done == 0, text
