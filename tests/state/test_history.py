"""What a state as it is now tells of its values' changes (`last_changes`, used by the local and git backends;
every backend's `history` is in tests/state/test_conformance.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from syncer.state.history import LAST_SET_ONLY, Change, History, Selection, last_changes
from syncer.state.local.store import LocalStateStore
from tests.state.test_conformance import ALICE, IDENT, REV, SEM, batch, clock


def test_without_a_state_there_is_no_change_and_the_backend_still_says_what_it_keeps() -> None:
    assert last_changes(None, Selection(), kept="what it keeps") == History((), False, "what it keeps")


def test_a_value_whose_batch_the_state_no_longer_holds_is_shown_without_a_time_or_batch(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "s", clock=clock)
    with store.locked(command="apply"):
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "60"}}, token="a"))
    state = store.load()
    assert state is not None
    held = last_changes(state, Selection())
    assert held.changes[0].at == state.batches[1].time != ""
    orphan = last_changes(dataclasses.replace(state, batches={}), Selection())
    assert orphan == History((Change(SEM, ALICE, REV, "2", "set", "60", "", None),), False, LAST_SET_ONLY)
