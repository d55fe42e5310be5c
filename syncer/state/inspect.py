"""What `syncer state show`, `state rm` and `state history` need: a summary of a state, and key selection.

Plain data in, plain data out; syncer.report.state renders the summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from syncer.errors import StateError
from syncer.load.people import PeopleCache
from syncer.model import Catalog, Identity, ValueKey
from syncer.state.history import Selection
from syncer.state.model import BatchInfo, LastApply, LockHolder, Rejection, State


@dataclass(frozen=True, slots=True)
class SemesterCount:
    semester: str
    name: str | None  # catalog alias
    closed: bool
    values: int
    rows: int
    reviewees: int


@dataclass(frozen=True, slots=True)
class JournalSummary:
    client_token: str
    semester: str
    opened: str
    rows: int


@dataclass(frozen=True, slots=True)
class PeopleCacheSummary:
    """The people cache kept with the state (`syncer people resolve`): no emails or IDs, only counts."""

    location: str  # where it is stored
    people: int
    active: int
    resigned: int
    unknown: int
    first_resolved: str | None
    last_resolved: str | None
    identity: Identity


def summarize_people(cache: PeopleCache, *, location: str) -> PeopleCacheSummary:
    entries = list(cache.entries.values())
    times = sorted(e.resolved for e in entries)
    return PeopleCacheSummary(
        location=location,
        people=len(entries),
        active=sum(1 for e in entries if e.status == "active"),
        resigned=sum(1 for e in entries if e.status == "resigned"),
        unknown=sum(1 for e in entries if e.status == "unknown"),
        first_resolved=times[0] if times else None,
        last_resolved=times[-1] if times else None,
        identity=cache.identity,
    )


@dataclass(frozen=True, slots=True)
class StateSummary:
    location: str
    exists: bool
    format: int | None = None
    lineage: str | None = None
    serial: int | None = None
    created: str | None = None
    identity: Identity | None = None
    last_apply: LastApply | None = None
    last_batch: BatchInfo | None = None
    last_import_request: str | None = None
    batches: int = 0
    values: int = 0
    semesters: tuple[SemesterCount, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    journal: tuple[JournalSummary, ...] = ()
    lock: LockHolder | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # ids of semesters/people/metrics -> aliases
    people: PeopleCacheSummary | None = None  # None: no people cache


def summarize(
    state: State | None,
    *,
    location: str,
    catalog: Catalog | None = None,
    lock: LockHolder | None = None,
    people: PeopleCacheSummary | None = None,
) -> StateSummary:
    names: dict[str, str] = {}
    closed: frozenset[str] = frozenset()
    if catalog is not None:
        names.update({s.id: a for a, s in catalog.semesters.items()})
        names.update({m.id: a for a, m in catalog.metrics.items()})
        names.update({p.id: a for a, p in catalog.people.items() if p.id})
        closed = catalog.closed_semester_ids()
    if state is None:
        return StateSummary(location=location, exists=False, lock=lock, names=names, people=people)
    rows: dict[str, int] = {}
    reviewees: dict[str, set[str]] = {}
    for sem, rev, _met in state.rows:
        rows[sem] = rows.get(sem, 0) + 1
        reviewees.setdefault(sem, set()).add(rev)
    sems = tuple(
        SemesterCount(s, names.get(s), s in closed, state.managed(s), rows.get(s, 0), len(reviewees.get(s, ())))
        for s in sorted(state.per_semester)
    )
    last = state.meta.last_apply
    return StateSummary(
        location=location,
        exists=True,
        format=state.meta.format,
        lineage=state.meta.lineage,
        serial=state.meta.serial,
        created=state.meta.created,
        identity=state.identity,
        last_apply=last,
        last_batch=state.batches.get(last.batch) if last else None,
        last_import_request=state.meta.last_import_request,
        batches=len(state.batches),
        values=state.value_count,
        semesters=sems,
        rejections=tuple(sorted(state.rejections.values())),
        journal=tuple(
            JournalSummary(e.client_token, e.semester, e.opened, len(e.rows()))
            for _, e in sorted(state.journal.items())
        ),
        lock=lock,
        names=names,
        people=people,
    )


def resolve_ids(wanted: Iterable[str], aliases: Mapping[str, str]) -> set[str]:
    """Turn aliases (or IDs) given on the command line into IDs; anything else is taken as an ID (it then
    selects nothing if the state does not hold it, and the caller says so)."""
    return {aliases.get(w, w) for w in wanted}


def resolve_selectors(
    catalog: Catalog | None, semesters: Iterable[str], reviewees: Iterable[str], metrics: Iterable[str]
) -> tuple[set[str], set[str], set[str]]:
    """--semester, --reviewee and --metric as IDs: the catalog's aliases resolved (`resolve_ids`), anything
    else (and everything, without a catalog) taken as an ID."""
    sems, revs, mets = set(semesters), set(reviewees), set(metrics)
    if catalog is None:
        return sems, revs, mets
    return (
        resolve_ids(sems, {a: s.id for a, s in catalog.semesters.items()}),
        resolve_ids(revs, {a: p.id for a, p in catalog.people.items() if p.id}),
        resolve_ids(mets, {a: m.id for a, m in catalog.metrics.items()}),
    )


def select_keys(
    state: State,
    *,
    semesters: Iterable[str] = (),
    reviewees: Iterable[str] = (),
    metrics: Iterable[str] = (),
    catalog: Catalog | None = None,
) -> list[ValueKey]:
    """The managed keys matching every given selector (each selector: any of its aliases or IDs)."""
    sems, revs, mets = resolve_selectors(catalog, semesters, reviewees, metrics)
    if not (sems or revs or mets):
        raise StateError("choose what to stop managing with --semester, --reviewee and/or --metric")
    out: list[ValueKey] = []
    for (sem, rev, met), row in state.rows.items():
        if (sems and sem not in sems) or (revs and rev not in revs) or (mets and met not in mets):
            continue
        out.extend(ValueKey(sem, rev, met, f) for f in row[0])
    out.sort()
    return out


def history_selection(
    catalog: Catalog | None,
    *,
    semesters: Iterable[str] = (),
    reviewees: Iterable[str] = (),
    metrics: Iterable[str] = (),
    fields: Iterable[str] = (),
) -> Selection:
    """`state history`'s selectors as IDs: aliases of the catalog (a field alias: that field of every
    metric that has it), anything else taken as an ID."""
    sems, revs, mets = resolve_selectors(catalog, semesters, reviewees, metrics)
    fids = set(fields)
    if catalog is not None:
        by_alias: dict[str, set[str]] = {}
        for m in catalog.metrics.values():
            for alias, f in m.fields.items():
                by_alias.setdefault(alias, set()).add(f.id)
        fids = {i for f in fids for i in by_alias.get(f, {f})}
    return Selection(frozenset(sems), frozenset(revs), frozenset(mets), frozenset(fids))
