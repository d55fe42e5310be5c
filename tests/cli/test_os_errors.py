"""Failures of the operating system (a full disk, a quota, a read-only file system, no permission, an I/O
error) are a user's problem to fix: one line naming the path and what to do, exit 1, never "internal error";
a cache that cannot be written is only a warning, said once. On the state, the line also says what the
apply had recorded, the state stays whole, and the run after the fault is fixed finishes the apply without
sending anything twice."""

from __future__ import annotations

import errno
import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from syncer.state.local.store import LocalStateStore
from tests.emulated import served_example
from tests.example import copy_example
from tests.oserrors import Refuse

REMEDY = {
    errno.ENOSPC: "No space left on device [ENOSPC]: free some space",
    errno.EDQUOT: "[EDQUOT]: free some space or ask for a larger disk quota",
    errno.EROFS: "Read-only file system [EROFS]: the file system is read-only: write to another place",
    errno.EACCES: "Permission denied [EACCES]: write to a place you may write to, or fix its permissions",
    errno.EIO: "Input/output error [EIO]: the disk or network file system failed: check it",
}
ERRNOS = pytest.mark.parametrize("err", list(REMEDY), ids=[errno.errorcode[e] for e in REMEDY])


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def refuse_replace(monkeypatch: pytest.MonkeyPatch, err: int, hit: Callable[[Path], bool]) -> list[Path]:
    """os.replace fails with `err` for the targets `hit` picks (the last step of every atomic write)."""
    real = os.replace
    refused: list[Path] = []

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if hit(Path(dst)):
            refused.append(Path(dst))
            raise OSError(err, os.strerror(err))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)
    return refused


def assert_one_error_line(out: str, *needles: str) -> None:
    assert "Traceback" not in out and "internal error" not in out and "bug in syncer" not in out, out
    lines = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_example(tmp_path / "metrics")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SYNCER_CACHE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


@ERRNOS
def test_plan_out_that_cannot_be_written(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int) -> None:
    out = tmp_path / "plan.json"
    refused = refuse_replace(monkeypatch, err, lambda p: p == out)
    code, text = run("plan", "--root", str(root), "--out", str(out))
    assert refused == [out]
    assert code == 1, text
    assert_one_error_line(text, f"could not write --out {out}", REMEDY[err], "then run the plan again")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".plan.json.")]


@ERRNOS
def test_a_check_cache_that_cannot_be_written_is_a_warning_said_once(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    cache = tmp_path / "cache"
    refused = refuse_replace(monkeypatch, err, lambda p: cache in p.parents)
    for command in ("validate", "plan"):
        code, text = run(command, "--root", str(root))
        assert code == 0, text
        assert "Traceback" not in text and "error:" not in text, text
        warnings = [line for line in text.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1, text
        assert "the check cache in" in warnings[0] and REMEDY[err] in warnings[0]
        assert "this run goes on without it" in warnings[0] and "SYNCER_CACHE=0" in warnings[0]
    assert len(refused) == 2  # one attempt a run: the first refusal turns the cache off for the run
    monkeypatch.undo()
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(cache))
    code, text = run("validate", "--root", str(root))
    assert code == 0 and "warning:" not in text, text


@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES, errno.ENOSPC], ids=["EROFS", "EACCES", "ENOSPC"])
def test_a_check_cache_directory_that_cannot_be_made_is_a_warning(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    cache = tmp_path / "cache"
    real = os.mkdir

    def mkdir(path: Any, *args: Any, **kw: Any) -> None:
        if Path(path) == cache or cache in Path(path).parents:
            raise OSError(err, os.strerror(err))
        real(path, *args, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)
    code, text = run("validate", "--root", str(root))
    assert code == 0, text
    [warning] = [line for line in text.splitlines() if line.startswith("warning:")]
    assert REMEDY[err] in warning and "this run goes on without it" in warning


@ERRNOS
def test_a_state_read_cache_that_cannot_be_written_is_a_warning_said_once(
    served: tuple[Path, Emulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    root, _ = served
    code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 0, text
    shards = tmp_path / "cache" / "state"  # the check cache keeps its own entries: only this one is refused
    refused = refuse_replace(monkeypatch, err, lambda p: shards in p.parents)
    code, text = run("plan", "--root", str(root))
    assert code == 0 and "No changes" in text and "error:" not in text, text
    [warning] = [line for line in text.splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: the state's read cache in {shards}/") and REMEDY[err] in warning
    assert "this run goes on without it" in warning and len(refused) == 1
    fresh = tmp_path / "fresh-cache"  # both caches refused: the one disk is told of once
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(fresh))
    refused = refuse_replace(monkeypatch, err, lambda p: fresh in p.parents)
    code, text = run("plan", "--root", str(root))
    assert code == 0 and "No changes" in text, text
    [warning] = [line for line in text.splitlines() if line.startswith("warning:")]
    assert "the check cache in" in warning and any(shards.name in p.parts for p in refused)


# --- apply: the report and the step summary ----------------------------------------------------------------


@pytest.fixture
def served(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Emulator]]:
    with served_example(tmp_path, monkeypatch, root=root) as s:  # `root` has made tmp_path the working directory
        yield s.root, s.emu


@ERRNOS
def test_apply_report_that_cannot_be_written(
    served: tuple[Path, Emulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    root, emu = served
    report = tmp_path / "report.json"
    refused = refuse_replace(monkeypatch, err, lambda p: p == report)
    code, text = run("apply", "--root", str(root), "--auto-approve", "--report", str(report))
    assert refused == [report]
    assert code == 1, text
    assert_one_error_line(text, f"could not write --report {report}", REMEDY[err], "recorded in the state")
    assert len(emu.requests("metric_details.import")) == 2  # applied and recorded all the same
    code, text = run("plan", "--root", str(root), "--detailed-exitcode")
    assert code == 0 and "No changes" in text, text


@ERRNOS
def test_a_step_summary_that_cannot_be_written(
    served: tuple[Path, Emulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    root, _ = served
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    opened: list[str] = []

    def refusing_open(file: str, mode: str = "r", encoding: str | None = None) -> IO[str]:
        opened.append(file)
        raise OSError(err, os.strerror(err))

    # `open` as syncer.cli.apply sees it: the step summary is the only file it opens itself
    monkeypatch.setattr(importlib.import_module("syncer.cli.apply"), "open", refusing_open, raising=False)
    code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1, text
    assert_one_error_line(text, f"GITHUB_STEP_SUMMARY={summary}", REMEDY[err], "recorded in the state")
    assert "Applied 215 value changes" in text
    assert opened == [str(summary)]


# --- the state: every write of an apply (local backend) -------------------------------------------------------


def _log(p: Path) -> bool:
    return p.name == "log.jsonl"


def _meta(p: Path) -> bool:
    return p.name == "meta.json"


#: Each write of a first apply of the example (2 batches) that the state makes: the call refused, on which
#: file, the how-manyth, the file the error names (in the state's directory) and what else it says.
STATE_WRITES: dict[str, tuple[str, Callable[[Path], bool], int, str, str]] = {
    "lock": ("open", lambda p: p.name == "lock", 1, "/lock", "cannot take the state's lock"),
    "create": ("replace", _meta, 1, "/meta.json", "cannot write the state"),
    "journal": ("write", _log, 1, "/log.jsonl", "0 batches of this apply are recorded; the next batch was not sent"),
    "pacing mark": ("fsync", _log, 2, "/log.jsonl", "0 batches of this apply are recorded; the batch in flight is"),
    "batch": ("write", _log, 3, "/log.jsonl", "0 batches of this apply are recorded; the batch in flight is kept"),
    "second journal": ("write", _log, 4, "/log.jsonl", "1 batch of this apply is recorded; the next batch was not"),
    "second batch": ("fsync", _log, 6, "/log.jsonl", "1 batch of this apply is recorded; the batch in flight is"),
    "compaction": ("replace", _meta, 2, ":", "only compacting it failed, and the next run compacts it"),
}


@ERRNOS
@pytest.mark.parametrize("write", list(STATE_WRITES))
def test_a_state_write_the_system_refuses_is_one_line_and_the_rerun_finishes(
    served: tuple[Path, Emulator], err: int, write: str
) -> None:
    root, emu = served
    state = root / ".syncer" / "state"
    call, hit, nth, file, says = STATE_WRITES[write]
    with pytest.MonkeyPatch.context() as faults:
        refuse = Refuse(faults, err, call, hit, nth)
        code, text = run("apply", "--root", str(root), "--auto-approve")
    assert len(refuse.refused) == 1, text
    assert code == 1, text
    assert_one_error_line(text, f"error: {state}{file}", REMEDY[err], says)
    if "in flight" in says:  # sent and accepted, only not recorded: the summary does not say otherwise
        assert "Nothing was sent" not in text and "accepted)" in text, text
    LocalStateStore(state).load()  # whole: it reads (None when it was never created)
    code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 0 and "error" not in text, text
    records = emu.import_records()
    assert len(records) == 2  # the batch in flight was settled under its own token, not sent again
    rows = [(r.reviewee_user_id, r.metric_id) for record in records for r in record.rows]
    assert len(rows) == len(set(rows)) == 60
    code, text = run("plan", "--root", str(root), "--detailed-exitcode")
    assert code == 0 and "No changes" in text, text


def test_an_open_entry_that_cannot_be_settled_stays_open_for_the_next_run(served: tuple[Path, Emulator]) -> None:
    root, emu = served
    with pytest.MonkeyPatch.context() as faults:
        Refuse(faults, errno.ENOSPC, "write", _log, 3)  # Feishu accepted the first batch; its record fails
        code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1 and "the batch in flight is kept open" in text, text
    with pytest.MonkeyPatch.context() as faults:
        Refuse(faults, errno.ENOSPC, "write", _log, 2)  # the next run settles it: Feishu holds it, the record fails
        code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1, text
    assert_one_error_line(
        text,
        "log.jsonl: cannot write the state: No space left on device [ENOSPC]",
        "left by an interrupted apply stays open and will be checked again on the next run; nothing of this "
        "run's plan was sent",
    )
    assert len(emu.import_records()) == 1
    code, text = run("apply", "--root", str(root), "--auto-approve")
    assert code == 0 and "1 landed-earlier" in text, text
    assert len(emu.import_records()) == 2
