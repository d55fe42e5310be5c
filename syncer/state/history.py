"""`syncer state history`: the changes of managed values, each with its time, batch, commit and import
record, as far as the backend keeps them.

The postgres backend keeps every change (syncer_history): each value set by each accepted batch, each key
forgotten, in order. The local and git backends keep the state as it is now plus the metadata of every
batch, so what they can tell is, for each value still managed, the batch that last set it (its time,
commit and import record); values set before it and keys forgotten since are not kept there (the git
backend's branch keeps its earlier states as commits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from syncer.state.model import BatchInfo, State


class Change(NamedTuple):
    """One change of one value: set (to `value`, by `batch`) or forgotten (no longer managed)."""

    semester: str
    reviewee: str
    metric: str
    field: str
    op: Literal["set", "forget"]
    value: str | None  # None when forgotten
    at: str  # format_time: the batch's time for a set
    batch: BatchInfo | None  # the batch that set it (None for a forget, or a batch the state no longer has)
    reason: str = ""  # why a key was forgotten ("apply", "rm")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which values: each given selector narrows (IDs; empty: any)."""

    semesters: frozenset[str] = frozenset()
    reviewees: frozenset[str] = frozenset()
    metrics: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()

    def __contains__(self, key: tuple[str, str, str, str]) -> bool:
        sem, rev, met, fid = key
        return (
            (not self.semesters or sem in self.semesters)
            and (not self.reviewees or rev in self.reviewees)
            and (not self.metrics or met in self.metrics)
            and (not self.fields or fid in self.fields)
        )


@dataclass(frozen=True, slots=True)
class History:
    changes: tuple[Change, ...]
    complete: bool  # every change since the state began (True), or only each managed value's last one
    kept: str  # what the backend keeps, in a sentence, for the output


class HistoryReader(Protocol):
    """`state history`: what a backend can tell of how the selected values changed (postgres keeps every
    change; local and git each value's last, through `last_changes`)."""

    def history(self, selection: Selection) -> History: ...


LAST_SET_ONLY = (
    "this backend keeps each managed value's last change only (the batch that set it, with its time, commit "
    "and import record); earlier values and forgotten keys are not kept. The postgres backend keeps every change"
)


def last_changes(state: State | None, selection: Selection, *, kept: str = LAST_SET_ONLY) -> History:
    """What a state as it is now tells: each selected value and the batch that last set it."""
    if state is None:
        return History((), False, kept)
    out = []
    for key, (value, batch_id) in state.iter_values():
        if key not in selection:
            continue
        batch = state.batches.get(batch_id)
        out.append(Change(*key, "set", value, batch.time if batch else "", batch))
    out.sort(key=lambda c: (c.semester, c.reviewee, c.metric, c.field, c.at))
    return History(tuple(out), False, kept)
