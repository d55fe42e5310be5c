"""The plan's checksum: the same for a redacted and an unredacted plan of one state, and keyed with the
state's secret key so that a redacted plan gives no value away to brute force."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from syncer.load.settings import Safety
from syncer.model import ValueKey
from syncer.plan.checksum import checksum
from syncer.plan.model import Action, Change, StateRef
from syncer.report.plan_json import plan_chunks
from syncer.rules.model import Rule, Scope, rules_digest
from syncer.state.format import new_plan_key
from syncer.state.model import State
from tests.plan.test_diff import DEFAULT_SAFETY, IDENT, REV, SEM, desired, k, plan_of, state_of


def _keyed_state(values: dict[tuple[str, str, str, str], str]) -> State:
    s = state_of(values)
    return dataclasses.replace(s, meta=dataclasses.replace(s.meta, plan_key=new_plan_key()))


def test_redacted_and_unredacted_plans_of_one_state_share_the_checksum() -> None:
    state = _keyed_state({k(SEM, 0, REV, "2"): "40"})
    p = plan_of(desired({k(SEM, 0, REV, "2"): "45"}), state)
    full, redacted = json.loads("".join(plan_chunks(p, redact=False))), json.loads("".join(plan_chunks(p, redact=True)))
    assert full["checksum"] == redacted["checksum"] == p.checksum
    assert state.meta.plan_key is not None and state.meta.plan_key not in "".join(plan_chunks(p, redact=False))


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


def _reference(state: StateRef, safety: Safety, changes: list[Change], key: str | None) -> str:
    """The checksum as its definition reads: sha256 over the canonical JSON of the header, then of each
    change on a line of its own, values as (keyed) hashes. One json.dumps per change: slow, and plain."""

    def dumps(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    def hashed(v: str | None) -> str | None:
        if v is None:
            return None
        if key is None:
            return hashlib.sha256(v.encode()).hexdigest()[:32]
        return hashlib.blake2b(v.encode(), key=bytes.fromhex(key), digest_size=16).hexdigest()

    header = {
        "format": 2,
        "state": {"lineage": state.lineage, "serial": state.serial},
        "target": IDENT._asdict(),
        "safety": {
            "max_update_ratio": safety.max_update_ratio,
            "max_forget_ratio": safety.max_forget_ratio,
            "min_existing": safety.min_existing,
        },
        "breaches": [],
        "quarantined": [],
    }
    text = dumps(header) + "".join(
        "\n" + dumps([c.action, *c.key, hashed(c.old), hashed(c.new), c.batch]) for c in changes
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("kept", [2, 200_000])
def test_the_checksum_is_the_sha256_of_the_canonical_json_line_by_line(
    keyed: bool, kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (a row's part encoded once, values' hashes kept up to a bound) hashes exactly the bytes
    of one json.dumps per change: with quotes, backslashes, non-ASCII and control characters in the IDs and
    values, rows of several fields, equal IDs that are distinct objects, repeated values, and more distinct
    values than the bound keeps."""
    monkeypatch.setattr("syncer.plan.checksum._KEPT_HASHES", kept)
    key = new_plan_key() if keyed else None
    odd = ['ou_"quoted"', "ou_back\\slash", "ou_名前", "ou_\x1b[31m", "".join(["ou_", "same"])]
    changes: list[Change] = []
    for i, rev in enumerate([*odd, "".join(["ou_", "same"]), "ou_z"]):
        steps: list[tuple[Action, str | None, str | None]] = [
            ("create", None, "40"),
            ("update", "40", "45"),
            ("forget", f"a\n{i}", None),
            ("update", '"', "é\u2028"),
        ]
        for f, (action, old, new) in enumerate(steps):
            batch = None if action == "create" else i * 10 + f
            changes.append(Change(action, ValueKey(SEM, rev, REV, str(f + 2)), old, new, None, batch))
    changes.sort(key=lambda c: c.key)
    state = StateRef("./.syncer-state", True, "lineage-1", 7, IDENT, None)
    got = checksum(2, state, IDENT, DEFAULT_SAFETY, tuple(changes), (), (), key=key)
    assert got == _reference(state, DEFAULT_SAFETY, changes, key)
    assert got != checksum(2, state, IDENT, DEFAULT_SAFETY, tuple(changes[:-1]), (), (), key=key)


def test_the_checksum_covers_the_rules_that_judged_the_plan() -> None:
    """A saved plan applies only under the rules that judged it: another rule, or a deny at another place,
    is another checksum. A root without rules keeps the checksum it had before rules existed."""
    base = Rule("r", "new < old", "deny", "m")
    state = StateRef("s", True, "lin", 3, IDENT, None)
    changes = (Change("create", ValueKey(SEM, "ou_a", REV, "4"), None, "1", None, None),)

    def digest(rules: tuple[Rule, ...] | None, denied: list[list[str]] | None = None) -> str:
        judged = None if rules is None else (rules_digest(rules), denied or [])
        return checksum(2, state, IDENT, DEFAULT_SAFETY, changes, (), (), rules=judged)

    plain = digest(None)
    assert plain == checksum(2, state, IDENT, DEFAULT_SAFETY, changes, (), ())
    others = [
        digest((base,)),
        digest((dataclasses.replace(base, condition="new <= old"),)),
        digest((dataclasses.replace(base, severity="warn"),)),
        digest((dataclasses.replace(base, scope=Scope(fields=("target",))),)),
        digest((base,), [["r", "a.yaml", "3", "15"]]),
    ]
    assert len({plain, *others}) == 6
    assert digest((dataclasses.replace(base, file="elsewhere.yaml", line=9),)) == others[0]  # where: not what
