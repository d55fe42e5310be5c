"""The plan's checksum: what the plan does, as sha256 over its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from syncer.load.settings import Safety
from syncer.model import Identity
from syncer.plan.model import Change, Quarantined, SafetyBreach, StateRef, Targeting
from syncer.text import encode_json_str


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


#: How many distinct values' hashes a checksum keeps (a few tens of MiB at most).
_KEPT_HASHES = 200_000


def _value_digest(key: str | None) -> Callable[[str], str]:
    """32 hex digits per value: keyed BLAKE2b with the state's key, else (no state yet) sha256."""
    if key is None:
        return lambda v: hashlib.sha256(v.encode("utf-8")).hexdigest()[:32]
    secret = bytes.fromhex(key)
    blake = hashlib.blake2b
    return lambda v: blake(v.encode("utf-8"), key=secret, digest_size=16).hexdigest()


def checksum(
    fmt: int,
    state: StateRef,
    target: Identity,
    safety: Safety,
    changes: tuple[Change, ...],
    quarantined: tuple[Quarantined, ...],
    breaches: tuple[SafetyBreach, ...],
    *,
    key: str | None = None,
    targeting: Targeting | None = None,
    rules: tuple[str, list[list[str]]] | None = None,
) -> str:
    """sha256 over the canonical JSON of what the plan does: its format, the state it was made against,
    the target, the thresholds, every change (values as hashes, so redaction changes nothing), the rows
    held back and the thresholds passed. Presentation (sources, names, notes, commit) is left out: two plans
    with one checksum do the same thing to the same state.

    With `key` (the state's plan key), the value hashes are keyed BLAKE2b: without the key, which only the
    state's files hold, a redacted plan's checksum cannot be brute-forced back to its values (a weight has
    a hundred possible values). A plan against no state has no key: its values are the YAML's own.

    A targeted plan (`targeting`) has its semesters and globs in the header too, so that it applies only as
    targeted; an untargeted plan's header has no such key (its checksum is what it was before targeting).

    A plan judged by rules (`rules`: their digest and the places they deny) has them in the header too: a
    saved plan applies only under the rules that judged it. A root without rules has no such key."""
    h = hashlib.sha256()
    header = {
        "format": fmt,
        "state": {"lineage": state.lineage, "serial": state.serial},
        "target": target._asdict(),
        "safety": {
            "max_update_ratio": safety.max_update_ratio,
            "max_forget_ratio": safety.max_forget_ratio,
            "min_existing": safety.min_existing,
        },
        "breaches": [[b.semester, b.kind, b.values, b.values_managed] for b in breaches],
        "quarantined": [[*q.row, q.code, q.at] for q in quarantined],
    }
    if targeting:
        header["targeting"] = targeting.key()
    if rules is not None:
        header["rules"] = {"digest": rules[0], "denied": rules[1]}
    h.update(_dumps(header).encode("utf-8"))
    # One line per change: exactly `_dumps([action, semester, reviewee, metric, field, old hash, new hash,
    # batch])`, spelled out because json.dumps per change is a third of the time of a million-value plan.
    # The key's parts repeat (a semester, a reviewee's metrics, field IDs): encoded once each, and a row's
    # part once a row (changes are sorted by key, so a row's are contiguous). Values repeat too (weights,
    # targets): their hashes are kept, up to a bound. Lines are hashed a few thousand at a time: the same
    # bytes as line by line.
    encoded: dict[str, str] = {}

    def enc(s: str) -> str:
        e = encoded.get(s)
        if e is None:
            e = encoded[s] = encode_json_str(s)
        return e

    value_digest = _value_digest(key)
    hashed: dict[str, str] = {}
    get = hashed.get

    def digest(v: str) -> str:
        d = f'"{value_digest(v)}"'
        if len(hashed) < _KEPT_HASHES:
            hashed[v] = d
        return d

    lines: list[str] = []
    sem_ = rev_ = met_ = None
    row = ""
    for action, k, old, new, _, batch in changes:
        sem, rev, met, field = k
        if rev is not rev_ or met is not met_ or sem is not sem_:
            sem_, rev_, met_ = sem, rev, met
            row = f"{enc(sem)},{enc(rev)},{enc(met)},"
        o = "null" if old is None else get(old) or digest(old)
        n = "null" if new is None else get(new) or digest(new)
        lines.append(f'\n["{action}",{row}{enc(field)},{o},{n},{"null" if batch is None else batch}]')
        if len(lines) >= 4096:
            h.update("".join(lines).encode("utf-8"))
            lines.clear()
    h.update("".join(lines).encode("utf-8"))
    return "sha256:" + h.hexdigest()
