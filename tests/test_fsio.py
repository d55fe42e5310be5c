"""What makes a write durable, pinned: an appended log line is fsynced before the write returns, a replaced
file is fsynced before its rename, and the directory is fsynced after the rename (else a power cut may keep
the old name). Each test records the system calls in order and fails when one of them is dropped."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncer.fsio import atomic_write, durable_append, write_output
from syncer.model import Identity, RowKey
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SEM, ALICE, REV = "7293040702907514899", "ou_3245842393d09e9428ad4655da6e30b3", "7272580325522276372"


def _path_of(fd: int) -> str:
    return os.path.realpath(f"/proc/self/fd/{fd}")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(call, path) of every write, fsync and rename, in order (syncer.fsio calls them through `os`)."""
    if not Path("/proc/self/fd").is_dir():  # pragma: no cover - Linux only
        pytest.skip("needs /proc to name the files behind descriptors")
    seen: list[tuple[str, str]] = []

    def spy(name: str, real: Callable[..., Any], describe: Callable[..., str]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            what = describe(*args)  # before the call: a rename moves the name
            result = real(*args, **kwargs)
            seen.append((name, what))
            return result

        return call

    monkeypatch.setattr(os, "write", spy("write", os.write, lambda fd, data: _path_of(fd)))
    monkeypatch.setattr(os, "fsync", spy("fsync", os.fsync, lambda fd: _path_of(fd)))
    monkeypatch.setattr(os, "replace", spy("replace", os.replace, lambda src, dst: os.path.realpath(dst)))
    yield seen


def test_an_appended_line_is_fsynced_before_the_append_returns(tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"a":1}\n')
    calls.clear()
    durable_append(log, '{"b":2}\n')
    target = os.path.realpath(log)
    assert ("write", target) in calls
    last_write = max(i for i, c in enumerate(calls) if c == ("write", target))
    assert ("fsync", target) in calls[last_write:], calls


def test_a_new_log_file_also_gets_its_directory_fsynced(tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    log = tmp_path / "log.jsonl"
    durable_append(log, '{"a":1}\n')
    assert calls[-1] == ("fsync", os.path.realpath(tmp_path)), calls  # the new name is durable too


def test_a_replaced_file_is_fsynced_then_renamed_then_its_directory_fsynced(
    tmp_path: Path, calls: list[tuple[str, str]]
) -> None:
    target = tmp_path / "meta.json"
    target.write_text("old\n")
    calls.clear()
    atomic_write(target, "new\n")
    assert target.read_text() == "new\n"
    kinds = [c[0] for c in calls]
    renamed = kinds.index("replace")
    assert calls[renamed] == ("replace", os.path.realpath(target))
    assert "fsync" in kinds[:renamed], "the temporary file must be fsynced before the rename"
    assert ("fsync", os.path.realpath(tmp_path)) in calls[renamed + 1 :], "the directory must be fsynced after"


def test_recording_a_batch_is_durable_when_it_returns(tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    store = LocalStateStore(tmp_path / "s", clock=lambda: T0)
    with store.locked(command="test"):
        store.create(Identity("open.feishu.cn", "cli_a", "open_id"))
        calls.clear()
        store.record_batch(
            BatchRecord(SEM, "tok", "rec", "c" * 40, "syncer", T0, {RowKey(SEM, ALICE, REV): {"2": "40"}})
        )
        log = os.path.realpath(tmp_path / "s" / "log.jsonl")
        assert calls and calls[-1][1] in (log, os.path.realpath(tmp_path / "s")), calls
        assert ("fsync", log) in calls, "the batch's log line must be fsynced before record_batch returns"
        calls.clear()
        store.compact()
        renames = [i for i, c in enumerate(calls) if c[0] == "replace"]
        assert renames, calls
        for i in renames:
            directory = os.path.dirname(calls[i][1])
            later = calls[i + 1 :]
            assert ("fsync", directory) in later, f"no directory fsync after replacing {calls[i][1]}"


def test_write_output_replaces_a_plain_file_atomically_and_makes_a_new_one(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_output(target, "one")
    before = target.stat().st_ino
    write_output(target, ["t", "wo"])
    assert target.read_text() == "two" and target.stat().st_ino != before  # a new file renamed over the old


def test_write_output_writes_through_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    """`--report latest.json` where latest.json links to a dated file: the link stays, the file behind it is
    written (a rename would have put a plain file where the link was)."""
    real = tmp_path / "2026-12-07.json"
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes (POSIX)")
def test_write_output_writes_into_a_pipe_and_leaves_it_a_pipe(tmp_path: Path) -> None:
    """`--out /dev/stdout` and process substitution hand syncer a device or a pipe: written in place, never
    replaced by a plain file."""
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader first, so that opening to write does not wait
    try:
        write_output(fifo, b"plan")
        assert os.read(reader, 100) == b"plan"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
