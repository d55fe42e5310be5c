"""Settling the journal (syncer.apply.settle): every batch a killed run left open is sent again with its own
body and token before anything is planned, oldest first, and only Feishu's answer (or the rows read back)
decides what becomes of it.
"""

from __future__ import annotations

import json

import pytest

from syncer.load.validate import validate_root
from syncer.state import open_store
from syncer.state.model import JournalEntry
from syncer.state.protocols import StateStore
from tests.apply.test_lost_answer import Scripted
from tests.apply.test_run import Crash, World


def store_of(world: World) -> StateStore:
    return open_store(world.root, validate_root(world.root).settings)


def killed_at(world: World, step: str) -> JournalEntry:
    """Run an apply killed at `step` of its first batch (the dead run's lock broken); its open entry."""

    def kill(name: str, token: str) -> None:
        if name == step:
            raise Crash(f"killed at {name}")

    with pytest.raises(Crash):
        world.apply(hook=kill)
    store_of(world).break_lock(force=True)
    state = store_of(world).load()
    assert state is not None
    (entry,) = state.journal.values()
    return entry


def test_an_entry_never_sent_goes_out_with_its_own_body_name_and_token(world: World) -> None:
    """Killed after the journal entry was written, before the request: settling sends the journal's body as it
    is (the import record's name included) under its token, and records the import record Feishu names."""
    entry = killed_at(world, "journaled")
    name = json.loads(entry.body)["import_record_name"]
    assert name
    run = world.apply()
    assert run.report.settled == [(entry.client_token, "accepted")]
    (settled,) = [r for r in world.emu.import_records() if r.client_token == entry.client_token]
    assert settled.name == name  # the journal's body, re-sent as it was
    assert [b.import_record_id for b in run.report.batches if b.settled] == [settled.import_record_id]


def test_an_entry_that_landed_is_recorded_without_an_import_record_id(world: World) -> None:
    """Feishu answers 1580110 and the rows read back hold the batch: recorded, but no answer ever named its
    import record, so none is claimed."""
    entry = killed_at(world, "sent")
    run = world.apply()
    assert run.report.settled == [(entry.client_token, "landed-earlier")]
    assert [b.import_record_id for b in run.report.batches if b.settled] == [""]
    state = store_of(world).load()
    assert state is not None
    assert [b.import_record_id for b in state.batches.values() if b.client_token == entry.client_token] == [""]


def test_an_entry_feishu_refuses_on_settling_is_closed_unrecorded_and_its_rows_sent_anew(world: World) -> None:
    """Killed before the batch went out; settling it, Feishu refuses the whole request (1580309, request-wide):
    the rows read back are not there, so the entry closes as rejected, is never recorded as applied, and the
    plan sends its rows again under new tokens."""
    entry = killed_at(world, "journaled")
    world.transport_wrapper = lambda inner: Scripted(inner, status=400, code=1580309, times=1, armed=True)
    run = world.apply()
    world.transport_wrapper = None
    assert run.report.settled == [(entry.client_token, "rejected")]
    assert [b for b in run.report.batches if b.settled] == []
    assert not any(r.client_token == entry.client_token for r in world.emu.import_records())
    assert world.held_values() == world.expected_values()
    assert world.apply().report.requests == 0


def test_entries_are_settled_oldest_first_whatever_their_tokens_or_stored_order(world: World) -> None:
    """Two open entries: the one opened earlier is settled first, although its token sorts after the other's
    and it was written to the journal after it."""
    later = killed_at(world, "journaled")
    earlier = later._replace(client_token="f" * 32, opened="2000-01-01T00:00:00.000Z")
    assert earlier.client_token > later.client_token and earlier.opened < later.opened
    store = store_of(world)
    with store.locked(command="apply"):
        store.open_journal(earlier)
    run = world.apply()
    assert [t for t, _ in run.report.settled] == [earlier.client_token, later.client_token]


def test_an_entry_whose_token_is_known_but_whose_values_are_absent_is_closed_and_its_rows_sent_anew(
    world: World,
) -> None:
    """Settling, Feishu answers 1580110 (the token was seen) and the rows read back do not hold the batch: the
    entry closes as not landed, a note says its rows are sent again, and the plan sends them."""
    entry = killed_at(world, "journaled")
    world.transport_wrapper = lambda inner: Scripted(inner, status=400, code=1580110, times=1, armed=True)
    run = world.apply()
    world.transport_wrapper = None
    assert run.report.settled == [(entry.client_token, "not-landed")]
    assert [n for n in run.report.notes if "interrupted batch was not confirmed" in n] != []
    assert [b for b in run.report.batches if b.settled] == []
    assert world.held_values() == world.expected_values()
