"""Certain outcomes: a batch is recorded as applied only when Feishu said so or the rows read back show it.

The matrix: the answer of an import is lost (a timeout the client retries, or a kill between the answer and
the record, settled by the next apply) after Feishu accepted or refused it; Feishu remembers the tokens of
refused requests or not; the read-back works, fails, or is blind (union_id, and answers that name users by
open_id alone). Whatever the combination, no value is in the state that Feishu does not hold, and no row goes
out under a second token while its batch may have landed: when Feishu knows the token and the rows cannot be
read back, the entry stays open until a person closes it (`syncer state settle`, as the apply says). The runs
then end with every good value in Feishu and the refused rows quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import httpx
import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, ManualClock
from syncer.load.validate import validate_root
from syncer.state import open_store
from tests.apply.test_run import AnswerLost, Crash, Nameless, World, use_postgres
from tests.example import copy_example

OUTSIDE = "ou_78120b254976fdd6d756c249c1ecaf8a"  # enrolled, outside the app's data scope: 1580112
Readback = Literal["able", "failing", "blind"]
When = Literal["retry", "kill"]


def _world(tmp_path: Path, *, remember: bool, readback: Readback, outside: bool) -> World:
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    tenant = Emulator().tenant.with_switches(remember_rejected_tokens=remember)
    cat = root / "catalog.yaml"
    text = cat.read_text()
    if outside:
        text += f"  outside.scope: {OUTSIDE}\n"
        (root / "teams" / "outside.yaml").write_text(
            "semester: 2026-H2\nreviewees:\n  outside.scope:\n    revenue: {weight: 10%, target: 100}\n"
        )
    if readback == "blind":  # the same people by union_id, which the answers below do not give
        for user in tenant.users.values():
            text = text.replace(user.open_id, user.union_id)
        settings = root / "syncer.yaml"
        settings.write_text(settings.read_text().replace("user_id_type: open_id", "user_id_type: union_id"))
    cat.write_text(text)
    emu = Emulator(tenant, clock=clock, sleep=clock.sleep)
    if readback == "failing":
        emu.faults.inject("error", endpoint="metric_details.query", times=1000)
    return World(root, clock, emu, answers_wrapper=Nameless if readback == "blind" else None)


def _state_values(w: World) -> dict[tuple[str, str, str, str], str]:
    state = open_store(w.root, validate_root(w.root).settings).load()
    assert state is not None
    return {tuple(k): v for k, (v, _) in state.iter_values()}  # type: ignore[misc]


def _held(w: World) -> dict[tuple[str, str, str, str], str]:
    """What Feishu holds, in the state's terms (union_id worlds: reviewees and people by union_id)."""
    held = w.held_values()
    settings = validate_root(w.root).settings
    if settings.target.user_id_type != "union_id":
        return held
    union = {u.open_id: u.union_id for u in w.emu.tenant.users.values()}
    return {(s, union[r], m, f): union.get(v, v) for (s, r, m, f), v in held.items()}


def _lose(w: World, *, code: int, when: When) -> None:
    exc: Exception = httpx.ReadTimeout("answer lost") if when == "retry" else Crash("killed after the answer")
    w.transport_wrapper = lambda t: AnswerLost(t, code=code, exc=exc)


def _run(w: World, when: When) -> None:
    if when == "kill":
        with pytest.raises(Crash):
            w.apply()
        w.transport_wrapper = None
    w.apply()
    w.transport_wrapper = None


def _open_entries(w: World) -> list[str]:
    state = open_store(w.root, validate_root(w.root).settings).load()
    return sorted(state.journal) if state is not None else []


def _sent_once(w: World) -> bool:
    rows = [(row.reviewee_user_id, row.metric_id) for r in w.emu.import_records() for row in r.rows]
    return len(rows) == len(set(rows))


def _settle_by_hand(w: World) -> None:
    """What the apply says to do when a batch's rows can never be read back: look in Feishu, close the entry
    (`syncer state settle TOKEN --not-landed`), apply again. Before that, nothing went out twice."""
    assert _sent_once(w)
    for token in _open_entries(w):
        args = ["state", "settle", token[:12], "--not-landed", "--yes", "--root", str(w.root)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "Closed." in result.output, result.output
    w.apply()


def _assert_certain(w: World) -> None:
    state, held = _state_values(w), _held(w)
    wrong = {k: (v, held.get(k)) for k, v in state.items() if held.get(k) != v}
    assert not wrong, f"recorded as applied but not held by Feishu: {wrong}"


@pytest.mark.parametrize("when", ["retry", "kill"])
@pytest.mark.parametrize("readback", ["able", "failing", "blind"])
@pytest.mark.parametrize("remember", [False, True])
def test_a_lost_acceptance_ends_with_every_value_applied(
    tmp_path: Path, remember: bool, readback: Readback, when: When
) -> None:
    w = _world(tmp_path, remember=remember, readback=readback, outside=False)
    _lose(w, code=0, when=when)
    _run(w, when)
    _assert_certain(w)
    assert bool(_open_entries(w)) == (readback != "able")  # Feishu knows the token: only reading can tell
    _settle_by_hand(w)
    assert _state_values(w) == _held(w) == w.expected_values()  # nothing is missing either
    again = w.apply()
    assert again.report.requests == 0 and again.plan.empty
    rows = [(row.reviewee_user_id, row.metric_id) for r in w.emu.import_records() for row in r.rows]
    if readback == "able":
        assert len(rows) == len(set(rows))  # confirmed by reading: nothing sent twice
    else:
        assert len(w.emu.import_records()) <= 3  # closed by hand: the lost batch went out once more, no more


@pytest.mark.parametrize("when", ["retry", "kill"])
@pytest.mark.parametrize("readback", ["able", "failing", "blind"])
@pytest.mark.parametrize("remember", [False, True])
def test_a_lost_refusal_is_never_recorded_as_applied(
    tmp_path: Path, remember: bool, readback: Readback, when: When
) -> None:
    w = _world(tmp_path, remember=remember, readback=readback, outside=True)
    _lose(w, code=1580112, when=when)
    _run(w, when)
    _assert_certain(w)
    _settle_by_hand(w)  # only where Feishu knew the token (remember) and the rows could not be read
    _assert_certain(w)
    outside = OUTSIDE if readback != "blind" else w.emu.tenant.users[OUTSIDE].union_id
    assert not any(k[1] == outside for k in _state_values(w))
    good = {k: v for k, v in w.expected_values().items() if k[1] != outside}
    assert _held(w) == good  # every innocent row of the refused batch landed
    assert w.apply().report.requests == 0  # the refused row is held back now


@pytest.mark.parametrize("remember", [False, True])
def test_a_blind_read_back_keeps_the_entry_open_until_closed_by_hand(tmp_path: Path, remember: bool) -> None:
    """Answers without the reviewees' union_ids settle nothing: the entry of a lost acceptance stays open and
    the apply says how to close it, never sending its rows under a new token on the strength of 1580110 alone.
    Closed by hand, the batch goes out once more (one extra request)."""
    w = _world(tmp_path, remember=remember, readback="blind", outside=False)
    _lose(w, code=0, when="retry")
    run = w.apply()
    w.transport_wrapper = None
    assert run.report.exit_code == 1 and run.report.aborted is not None
    assert "the read answer names a reviewee without its union_id" in run.report.aborted
    assert "syncer state settle" in run.report.aborted
    assert len(w.emu.import_records()) == 1 and len(_open_entries(w)) == 1
    assert w.apply().report.exit_code == 1  # the next apply cannot tell either: still open, nothing new sent
    assert len(w.emu.import_records()) == 1
    _settle_by_hand(w)
    assert len(w.emu.import_records()) == 3  # 2 batches, the first one twice (same values)
    assert _state_values(w) == _held(w)


def test_the_read_back_leaves_out_a_reviewee_the_refusal_names(tmp_path: Path) -> None:
    """The read of a refused batch names the reviewee outside the data scope: the others are read, their
    values are not there: not landed (no guess), and the next send isolates the culprit."""
    w = _world(tmp_path, remember=True, readback="able", outside=True)
    _lose(w, code=1580112, when="retry")
    run = w.apply()
    reads = w.emu.requests("metric_details.query")
    assert any(r.code == 1580112 for r in reads) and any(r.code == 0 for r in reads)
    assert (OUTSIDE, 1580112) in {(r.row.reviewee, r.code) for r in run.report.new_rejections}
    _assert_certain(w)


@pytest.mark.parametrize("backend", ["local", "postgres"])
def test_settling_after_a_kill_needs_no_manual_step(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    w = _world(tmp_path, remember=False, readback="able", outside=False)
    if backend == "postgres":
        request.getfixturevalue("pg_dsn")
        use_postgres(w.root)
    _lose(w, code=0, when="kill")
    with pytest.raises(Crash):
        w.apply()
    w.transport_wrapper = None
    run = w.apply()  # the lock died with the "killed" run: no unlock
    assert [o for _, o in run.report.settled] == ["landed-earlier"]
    assert _state_values(w) == w.expected_values()
