"""A row's sent form, and the rows Feishu rejected held back until it changes. What apply sends for a row
is every desired field of it (`desired_fields`), rendered as the import renders it; `sent_digest` is what a
rejection keeps of that and compares later (`hold_back_rejected`). Pure, like the rest of the plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from syncer.model import DesiredValue, RowKey, Source, ValueKey, wire_fields
from syncer.plan.model import Change, Quarantined
from syncer.state.model import State, row_digest


def desired_fields(
    values: Mapping[ValueKey, DesiredValue], rows: Iterable[RowKey]
) -> dict[RowKey, dict[str, DesiredValue]]:
    """The desired values of some rows (field id -> value, with its type): what apply sends for them."""
    wanted = {tuple(r) for r in rows}
    out: dict[RowKey, dict[str, DesiredValue]] = {}
    if not wanted:
        return out
    for k, dv in values.items():
        rk = k[:3]
        if rk in wanted:
            out.setdefault(RowKey(*rk), {})[k[3]] = dv
    return out


def sent_digest(values: Mapping[str, DesiredValue], *, percentage_format: str) -> str:
    """The digest of a row as an import sends it: what a rejection keeps, and what decides whether the row
    changed since (its values, their types, or the percentage format)."""
    return row_digest(wire_fields(values, percentage_format=percentage_format))


def hold_back_rejected(
    changes: list[Change],
    values: Mapping[ValueKey, DesiredValue],
    state: State,
    row_sources: Mapping[RowKey, Source],
    *,
    percentage_format: str,
    unrecorded_only: bool = False,
) -> tuple[list[Change], list[Quarantined], int]:
    """Changes minus the rows Feishu rejected whose sent form has not changed since; how many rows held by
    a shared refusal are released because a later batch of their semester was accepted. `unrecorded_only`
    (--retry-rejected): only the rows that landed but could not be recorded are held back."""
    rejections = state.rejections
    if unrecorded_only:
        rejections = {r: j for r, j in rejections.items() if j.unrecorded}
    sent = {RowKey(*c.key[:3]) for c in changes if c.action != "forget"}
    candidates = [r for r in rejections if r in sent]
    if not candidates:
        return changes, [], 0
    current = desired_fields(values, candidates)
    held = {
        r
        for r in candidates
        if sent_digest(current.get(r, {}), percentage_format=percentage_format) == rejections[r].digest
    }
    accepted_since: dict[str, str] = {}  # per semester, the time of its last accepted batch
    for b in state.batches.values():
        if b.time > accepted_since.get(b.semester, ""):
            accepted_since[b.semester] = b.time
    refuted = {r for r in held if rejections[r].shared and accepted_since.get(r.semester, "") > rejections[r].at}
    held -= refuted
    if not held:
        return changes, [], len(refuted)
    per_row = Counter(c.key[:3] for c in changes if c.action != "forget" and c.key[:3] in held)
    kept = [c for c in changes if c.action == "forget" or c.key[:3] not in held]
    quarantined = [
        Quarantined(r, rejections[r].code, rejections[r].at, rejections[r].message, per_row[r], row_sources.get(r))
        for r in held
    ]
    return kept, quarantined, len(refuted)
