"""The plan's checksum: the same for a redacted and an unredacted plan of one state, and keyed with the
state's secret key so that a redacted plan gives no value away to brute force."""

from __future__ import annotations

import dataclasses
import json

from syncer.plan.checksum import checksum
from syncer.report.plan_json import plan_json
from syncer.state.format import new_plan_key
from syncer.state.model import State
from tests.plan.test_diff import DEFAULT_SAFETY, IDENT, REV, SEM, desired, k, plan_of, state_of


def _keyed_state(values: dict[tuple[str, str, str, str], str]) -> State:
    s = state_of(values)
    return dataclasses.replace(s, meta=dataclasses.replace(s.meta, plan_key=new_plan_key()))


def test_redacted_and_unredacted_plans_of_one_state_share_the_checksum() -> None:
    state = _keyed_state({k(SEM, 0, REV, "2"): "40"})
    p = plan_of(desired({k(SEM, 0, REV, "2"): "45"}), state)
    full, redacted = json.loads(plan_json(p, redact=False)), json.loads(plan_json(p, redact=True))
    assert full["checksum"] == redacted["checksum"] == p.checksum
    assert state.meta.plan_key is not None and state.meta.plan_key not in plan_json(p, redact=False)


def test_a_redacted_plan_cannot_be_brute_forced_back_to_its_value() -> None:
    """An attacker with the redacted plan knows everything but the values: trying every weight from 0 to
    100 against the checksum finds nothing without the state's key (and finds it with the key)."""
    state = _keyed_state({k(SEM, 0, REV, "2"): "40"})
    p = plan_of(desired({k(SEM, 0, REV, "2"): "37"}), state)
    (change,) = p.changes

    def attempt(guess: str, key: str | None) -> str:
        c = change._replace(old="40", new=guess)
        return checksum(p.format, p.state, IDENT, DEFAULT_SAFETY, (c,), (), p.breaches, key=key)

    assert not any(attempt(str(w), None) == p.checksum for w in range(101))
    assert [w for w in range(101) if attempt(str(w), state.meta.plan_key) == p.checksum] == [37]


def test_two_states_with_other_keys_give_other_checksums() -> None:
    values = {k(SEM, 0, REV, "2"): "40"}
    wanted = desired({k(SEM, 0, REV, "2"): "45"})
    assert plan_of(wanted, _keyed_state(values)).checksum != plan_of(wanted, _keyed_state(values)).checksum
