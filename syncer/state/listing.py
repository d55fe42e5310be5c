"""What `syncer state list` shows: every managed value (as last applied) with the batch that applied it,
selected by semester, reviewee and metric, and the catalog's aliases for the IDs it can name.

Plain data in, plain data out; syncer.report.state_list renders it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from syncer.fieldtypes import field_type
from syncer.model import Catalog, ValueKey
from syncer.state.inspect import resolve_selectors
from syncer.state.model import BatchInfo, State, row_batch


@dataclass(frozen=True, slots=True)
class ListNames:
    """Catalog aliases of IDs (display only; the state itself holds IDs alone)."""

    semesters: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    fields: dict[tuple[str, str], str] = field(default_factory=dict)  # (metric id, field id)
    person_fields: frozenset[tuple[str, str]] = frozenset()  # (metric id, field id) of type person

    @classmethod
    def of(cls, catalog: Catalog | None) -> ListNames:
        if catalog is None:
            return cls()
        return cls(
            semesters={s.id: a for a, s in catalog.semesters.items()},
            people={p.id: a for a, p in catalog.people.items() if p.id},
            metrics={m.id: a for a, m in catalog.metrics.items()},
            fields={(m.id, f.id): a for m in catalog.metrics.values() for a, f in m.fields.items()},
            person_fields=frozenset(
                (m.id, f.id) for m in catalog.metrics.values() for f in m.fields.values() if field_type(f.type).person
            ),
        )


@dataclass(frozen=True, slots=True)
class ManagedValue:
    key: ValueKey
    value: str  # canonical, as last applied
    batch: int
    applied_by: BatchInfo | None  # None: the batch is not in the state's batches (never expected)


@dataclass(frozen=True, slots=True)
class Selection:
    """What `--semester`, `--reviewee` and `--metric` select (aliases or IDs; empty: everything)."""

    semesters: frozenset[str] = frozenset()
    reviewees: frozenset[str] = frozenset()
    metrics: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        semesters: Iterable[str] = (),
        reviewees: Iterable[str] = (),
        metrics: Iterable[str] = (),
        catalog: Catalog | None = None,
    ) -> Selection:
        sems, revs, mets = resolve_selectors(catalog, semesters, reviewees, metrics)
        return cls(frozenset(sems), frozenset(revs), frozenset(mets))


def managed_values(state: State, selection: Selection = Selection()) -> Iterator[ManagedValue]:
    """The managed values the selection picks, sorted by (semester, reviewee, metric, field) IDs."""
    sems, revs, mets = selection.semesters, selection.reviewees, selection.metrics
    rows = sorted(
        rk
        for rk in state.rows
        if not ((sems and rk[0] not in sems) or (revs and rk[1] not in revs) or (mets and rk[2] not in mets))
    )
    batches = state.batches
    for rk in rows:
        r = state.rows[rk]
        for f in sorted(r[0]):
            b = row_batch(r, f)
            yield ManagedValue(ValueKey(rk[0], rk[1], rk[2], f), r[0][f], b, batches.get(b))
