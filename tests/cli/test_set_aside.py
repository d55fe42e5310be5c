"""A value Feishu accepted that the state cannot hold (docs/state.md, "A value the state cannot hold"): its row
is set aside, named with its field and the backend, never recorded as applied and never sent again as it is;
the rest of the batch is recorded, and later runs plan and apply everything else, exiting 1 until the value
changes. Through the CLI, against the emulator on loopback, on the local and the postgres backend."""

from __future__ import annotations

import errno
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from syncer.errors import UnstorableValue
from syncer.model import ValueKey
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchInfo, BatchRecord
from tests.apply.test_run import use_postgres
from tests.emulated import served_example
from tests.oserrors import Refuse

H2 = "7293040702907514899"
LUCAS = "ou_fde6ffa9e706e5824e17f3926e6c9721"
INCIDENTS = "7272580325522276403"
NOTE = ValueKey(H2, LUCAS, INCIDENTS, "7")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def error_lines(out: str) -> list[str]:
    assert "Traceback" not in out and "internal error" not in out, out
    return [line for line in out.splitlines() if line.startswith("error:")]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Emulator]]:
    monkeypatch.setenv("SYNCER_CACHE", "0")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    with served_example(tmp_path, monkeypatch) as s:
        yield s.root, s.emu


def set_note(root: Path, text: str) -> None:
    """lucas.martin's incidents note (the second batch), as a YAML double-quoted scalar."""
    data = root / "teams" / "engineering.yaml"
    old = data.read_text(encoding="utf-8")
    new = re.sub(
        r"(  lucas\.martin:\n(?:    .*\n|      .*\n)*?      note: )(\|\n(?:        .*\n)+|\".*\"\n)",
        lambda m: f'{m.group(1)}"{text}"\n',
        old,
        count=1,
    )
    assert new != old
    data.write_text(new, encoding="utf-8")


def unstorable_on(backend: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Make some notes values the backend cannot hold: the YAML text of such a note, made of a word."""
    if backend == "postgres":  # a real one: U+0000, which validation refuses (let through here)
        for where in ("syncer.load.data", "syncer.fieldtypes"):
            monkeypatch.setattr(f"{where}.unstorable_refusal", lambda text, *, what: None)
        return lambda word: f"Sev-2\\0{word}"
    real = LocalStateStore.record_batch  # a fault in the local backend's record path, for those values

    def record_batch(store: LocalStateStore, batch: BatchRecord) -> BatchInfo:
        if batch.rows.get(NOTE.row, {}).get(NOTE.field, "").startswith("Sev-2 cannot be kept"):
            raise UnstorableValue(f"{store.path}: cannot store it (injected)", key=NOTE, backend="local")
        return real(store, batch)

    monkeypatch.setattr(LocalStateStore, "record_batch", record_batch)
    return lambda word: f"Sev-2 cannot be kept: {word}"


@pytest.mark.parametrize("backend", ["local", "postgres"])
def test_a_value_the_state_cannot_hold_is_set_aside_and_later_runs_go_on(
    served: tuple[Path, Emulator], backend: str, request: pytest.FixtureRequest
) -> None:
    root, emu = served
    if backend == "postgres":
        request.getfixturevalue("pg_dsn")
        use_postgres(root)
    fault = pytest.MonkeyPatch()
    request.addfinalizer(fault.undo)
    unstorable = unstorable_on(backend, fault)
    set_note(root, unstorable("billing"))

    first = root.parent / "first.json"
    code, out = run("apply", "--root", str(root), "--auto-approve", "--report", str(first))
    assert code == 1, out
    [aside] = json.loads(first.read_text())["rejected"]
    assert (aside["reviewee"], aside["code"], aside["new"]) == (LUCAS, 0, True)
    assert aside["source"]["file"].endswith("teams/engineering.yaml")
    [line] = error_lines(out)
    assert "1 row set aside, the rest applied: 2026-H2 / lucas.martin / incidents: " in line, line
    assert f"landed in Feishu, could not be recorded in the {backend} state (field note (7))" in line, line
    assert f"field 7 of reviewee {LUCAS}" in line or backend == "local", line
    assert "change the value to one the state can hold" in line
    assert len(emu.import_records()) == 2  # both batches landed, lucas's row with them
    assert "1 row landed in Feishu but could not be recorded in the state" in out
    assert "1 row set aside: landed in Feishu, but the state could not record it\n" in out  # its progress line
    code, show = run("state", "show", "--root", str(root))
    assert code == 0 and "set aside on" in show and f"in the {backend} state" in show, show
    assert "215 values" not in show  # lucas's note row is not recorded as applied
    code, shown = run("state", "show", "--root", str(root), "--format", "json")
    [kept] = json.loads(shown)["rejected_rows"]
    assert (kept["reviewee"], kept["code"]) == (LUCAS, 0)  # code 0: set aside, not a rejection Feishu made

    code, out = run("plan", "--root", str(root), "--detailed-exitcode")
    assert code == 0 and "landed in Feishu but could not be recorded in the state: set aside" in out, out

    sales = root / "teams" / "sales.yaml"  # another change: the next apply applies it, and still exits 1
    sales.write_text(sales.read_text().replace("target: 45", "target: 46"))
    report = root.parent / "report.json"
    for flags in (("--report", str(report)), ("--retry-rejected",)):
        code, out = run("apply", "--root", str(root), "--auto-approve", *flags)
        assert code == 1 and len(error_lines(out)) == 1, out
        assert "set aside" in error_lines(out)[0]
    [held] = json.loads(report.read_text())["rejected"]
    assert (held["reviewee"], held["code"], held["new"]) == (LUCAS, 0, False)
    assert held["meaning"] == "landed in Feishu, but the state could not record it"
    assert held["remedy"].startswith("Set aside: not recorded as applied, not sent again until its values change")
    assert len(emu.import_records()) == 3  # the sales change once; lucas's row never again as it is
    assert all(r.reviewee_user_id != LUCAS for r in emu.import_records()[2].rows)

    set_note(root, unstorable("payments"))  # changed, and still not storable: sent alone, set aside again
    code, out = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1 and "1 row set aside, the rest applied" in error_lines(out)[0], out
    [again] = emu.import_records()[3:]
    assert [r.reviewee_user_id for r in again.rows] == [LUCAS]  # a batch all set aside: recorded with no row

    fault.undo()
    set_note(root, "Sev-2 on the billing path")
    code, out = run("apply", "--root", str(root), "--auto-approve")
    assert code == 0 and not error_lines(out), out
    [last] = emu.import_records()[4:]
    assert [r.reviewee_user_id for r in last.rows] == [LUCAS]
    code, out = run("plan", "--root", str(root), "--detailed-exitcode")
    assert code == 0 and "No changes" in out and "set aside" not in out, out
    code, show = run("state", "show", "--root", str(root))
    assert "set aside" not in show and "rejected rows" not in show, show


def _stopped_with_batch_2_open(root: Path, request: pytest.FixtureRequest) -> None:
    """lucas's note made one the state cannot hold (for the rest of the test); an apply stopped by a full disk
    after Feishu accepted the batch holding his row, its journal entry left open."""
    fault = pytest.MonkeyPatch()
    request.addfinalizer(fault.undo)
    unstorable = unstorable_on("local", fault)
    set_note(root, unstorable("billing"))
    with pytest.MonkeyPatch.context() as disk:
        Refuse(disk, errno.ENOSPC, "write", lambda p: p.name == "log.jsonl", 5)  # batch 2 sent: its entry stays open
        code, out = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1 and "No space left on device" in error_lines(out)[0], out


def test_a_row_set_aside_while_settling_an_earlier_run_is_sent_when_the_yaml_changed_since(
    served: tuple[Path, Emulator], request: pytest.FixtureRequest
) -> None:
    """An apply stopped (a full disk) after Feishu accepted the batch holding lucas's row; the next run settles
    that batch, and his row, which the state cannot hold, is set aside. The YAML changed his row since: what
    it wants now is not what landed, so it is not held back but sent (and set aside again, its note being
    what it is)."""
    root, emu = served
    _stopped_with_batch_2_open(root, request)
    assert len(emu.import_records()) == 2
    data = root / "teams" / "engineering.yaml"
    text = data.read_text(encoding="utf-8")
    data.write_text(text.replace("      actual: 2\n      note:", "      actual: 3\n      note:", 1), encoding="utf-8")
    code, out = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1 and "1 landed-earlier" in out and "set aside" in error_lines(out)[0], out
    records = emu.import_records()
    assert len(records) == 3 and [r.reviewee_user_id for r in records[2].rows] == [LUCAS]


def test_a_row_set_aside_while_settling_an_earlier_run_is_held_when_the_yaml_no_longer_writes_it(
    served: tuple[Path, Emulator], request: pytest.FixtureRequest
) -> None:
    """As above, but lucas's incidents row is gone from the YAML since: the settle sets it aside all the same
    (what landed is not recorded as applied), and nothing is sent for it."""
    root, emu = served
    _stopped_with_batch_2_open(root, request)
    data = root / "teams" / "engineering.yaml"
    text = data.read_text(encoding="utf-8")
    gone = re.sub(r"(  lucas\.martin:\n(?:    .*\n|      .*\n)*?)    incidents:\n(?:      .*\n)+", r"\1", text, count=1)
    assert "Sev-2 cannot be kept" in text and "Sev-2 cannot be kept" not in gone
    data.write_text(gone, encoding="utf-8")
    code, out = run("apply", "--root", str(root), "--auto-approve")
    assert code == 1 and "1 landed-earlier" in out and "set aside" in error_lines(out)[0], out
    assert len(emu.import_records()) == 2
