"""Drift: what changed in Feishu outside syncer, for `syncer plan --refresh`.

The plan itself stays pure (desired minus state, no network). This module reads the live values of the rows
a plan touches (or of every managed row with `--refresh-all`), within a budget of metric_details/query
requests (50 reviewees each, paced at 20 a minute), and compares them with the state, as plain data:

- `changed`: a value syncer applied that Feishu now holds differently;
- `cleared`: a value syncer applied that Feishu no longer holds;
- `unmanaged`: a value the plan would create over one Feishu already holds (entered outside syncer);
- `admin`: a field the plan would send that admins own in Feishu (input_setting: admin; 1580311).

Rows the plan would send that Feishu does not list for the reviewee are reported apart (`absent`): the import
would be rejected (1580306/1580312). `changed`, `cleared` and `unmanaged` are drift: with
`--detailed-exitcode` they alone make the plan exit 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from syncer.feishu.client import METRIC_DETAILS_QUERY, QUERY_CHUNK
from syncer.feishu.errors import RevieweeRejected, RowRejected
from syncer.feishu.records import RemoteMetric
from syncer.feishu.values import Unrepresentable, canonical_remote, remote_text
from syncer.live.reader import LiveReader, requests_for
from syncer.model import Catalog, DesiredState, RowKey, Source, UserIdType, ValueKey
from syncer.plan.model import LiveView, Plan
from syncer.state.model import State
from syncer.text import plural

Scope = Literal["plan", "all"]
Kind = Literal["changed", "cleared", "unmanaged", "admin"]
DRIFT_KINDS: tuple[Kind, ...] = ("changed", "cleared", "unmanaged")


@dataclass(frozen=True, slots=True)
class RemoteSnapshot:
    """The live rows read, and what was asked: semester -> reviewees checked."""

    scope: Scope
    rows: Mapping[RowKey, RemoteMetric]
    checked: Mapping[str, frozenset[str]]
    reviewees_in_scope: int
    requests: int
    budget: int
    notes: tuple[str, ...] = ()

    @property
    def reviewees_checked(self) -> int:
        return sum(len(v) for v in self.checked.values())

    @property
    def complete(self) -> bool:
        return self.reviewees_checked >= self.reviewees_in_scope


@dataclass(frozen=True, slots=True)
class DriftEntry:
    kind: Kind
    key: ValueKey
    applied: str | None  # last applied (state)
    live: str | None  # what Feishu holds now (canonical)
    desired: str | None  # what the YAML holds
    source: Source | None  # where the YAML holds it
    batch: int | None  # the batch that applied `applied`


@dataclass(frozen=True, slots=True)
class Drift:
    scope: Scope
    entries: tuple[DriftEntry, ...]
    absent: tuple[tuple[RowKey, Source | None], ...]
    reviewees_checked: int
    reviewees_in_scope: int
    requests: int
    budget: int
    notes: tuple[str, ...] = field(default=())

    @property
    def detected(self) -> bool:
        """Values changed in Feishu outside syncer (admin-owned fields and absent rows are warnings)."""
        return any(e.kind in DRIFT_KINDS for e in self.entries)

    @property
    def complete(self) -> bool:
        return self.reviewees_checked >= self.reviewees_in_scope

    def count(self, kind: Kind) -> int:
        return sum(1 for e in self.entries if e.kind == kind)


# --- what to read ---------------------------------------------------------------------------------------------


def refresh_targets(plan: Plan, state: State | None, desired: DesiredState, *, scope: Scope) -> dict[str, set[str]]:
    """Semester -> reviewees to read: those of the plan's changes, or (scope all) every reviewee the state
    manages or the plan touches in open semesters (of a targeted plan: in its target)."""
    targets: dict[str, set[str]] = {}
    for c in plan.changes:
        targets.setdefault(c.key.semester, set()).add(c.key.reviewee)
    if scope == "all" and state is not None:
        closed = desired.closed_semesters
        if plan.targeting is not None:  # a targeted plan reads only the managed rows in its target
            from syncer.plan.targeting import restrict

            cut = restrict(plan.targeting.targeting, {}, desired.rows, state, closed=closed, root=plan.root)
            state = cut.state if cut.state is not None else state
        for sem, rev, _ in state.rows:
            if sem not in closed:
                targets.setdefault(sem, set()).add(rev)
    return targets


def choose(targets: Mapping[str, Iterable[str]], budget: int) -> tuple[dict[str, list[str]], int]:
    """The reviewees that `budget` requests can read (semesters and reviewees in sorted order, 50 a request)
    and the requests that takes."""
    chosen: dict[str, list[str]] = {}
    used = 0
    for sem in sorted(targets):
        revs = sorted(targets[sem])
        for start in range(0, len(revs), QUERY_CHUNK):
            if used >= budget:
                return chosen, used
            chosen.setdefault(sem, []).extend(revs[start : start + QUERY_CHUNK])
            used += 1
    return chosen, used


def requests_needed(targets: Mapping[str, Iterable[str]]) -> int:
    return sum(requests_for(n) for v in targets.values() if (n := len(set(v))))


def fetch_remote(
    reader: LiveReader, targets: Mapping[str, Iterable[str]], *, budget: int, user_id_type: UserIdType, scope: Scope
) -> RemoteSnapshot:
    """Read the live rows of the chosen reviewees, one request per 50, at most `budget` requests. A request
    Feishu refuses (e.g. 1580112, a reviewee outside the app's data scope) leaves its reviewees unchecked."""
    chosen, planned = choose(targets, budget)
    reader.expect(METRIC_DETAILS_QUERY, planned)
    rows: dict[RowKey, RemoteMetric] = {}
    checked: dict[str, set[str]] = {}
    notes: list[str] = []
    before = reader.requests
    for sem, revs in chosen.items():
        for start in range(0, len(revs), QUERY_CHUNK):
            chunk = revs[start : start + QUERY_CHUNK]
            try:
                answers = reader.client.query_metric_details(
                    semester_id=sem, reviewee_user_ids=chunk, user_id_type=user_id_type
                )
            except (RevieweeRejected, RowRejected) as exc:
                notes.append(
                    f"{plural(len(chunk), 'reviewee')} of semester {sem} not "
                    f"checked: Feishu answered {exc.code} ({exc.meaning})"
                )
                continue
            checked.setdefault(sem, set()).update(chunk)
            for item in answers:
                rid = item.reviewee.get(user_id_type)
                if rid is None:
                    continue
                for m in item.metrics:
                    rows[RowKey(sem, rid, m.metric_id)] = m
    total = sum(len(set(v)) for v in targets.values())
    return RemoteSnapshot(
        scope,
        rows,
        {s: frozenset(v) for s, v in checked.items()},
        total,
        reader.requests - before,
        budget,
        tuple(notes),
    )


# --- comparing (pure) ----------------------------------------------------------------------------------------------


def live_values(metric: RemoteMetric, catalog: Catalog, user_id_type: UserIdType) -> dict[str, str]:
    """A live row's values in canonical form (field id -> value), as the state would hold them."""
    mdef = catalog.metric_by_id(metric.metric_id)
    out: dict[str, str] = {}
    for rf in metric.fields:
        fdef = mdef.field_by_id(rf.field_id) if mdef is not None else None
        value: str | None
        try:
            value = canonical_remote(fdef, rf, user_id_type) if fdef is not None else remote_text(rf, user_id_type)
        except Unrepresentable:
            value = remote_text(rf, user_id_type)
        if value is not None:
            out[rf.field_id] = value
    return out


def live_view(remote: RemoteSnapshot, catalog: Catalog, user_id_type: UserIdType) -> LiveView:
    """The snapshot as a plan takes it (`make_plan(live=...)`): canonical values of the rows read."""
    rows = {row: live_values(m, catalog, user_id_type) for row, m in remote.rows.items()}
    return LiveView(remote.scope, rows, remote.checked, remote.complete)


def refresh(
    reader: LiveReader,
    plan: Plan,
    state: State | None,
    desired: DesiredState,
    *,
    scope: Scope,
    budget: int,
    user_id_type: UserIdType,
) -> tuple[RemoteSnapshot, LiveView]:
    """Read what `--refresh` (scope plan) or `--refresh-all` (scope all) reads for `plan`, within `budget`
    requests: the snapshot (for the drift section) and its view (for a plan that repairs drift)."""
    targets = refresh_targets(plan, state, desired, scope=scope)
    remote = fetch_remote(reader, targets, budget=budget, user_id_type=user_id_type, scope=scope)
    return remote, live_view(remote, desired.catalog, user_id_type)


def compute_drift(
    *, plan: Plan, state: State | None, desired: DesiredState, remote: RemoteSnapshot, user_id_type: UserIdType
) -> Drift:
    """Compare the live rows read with the state (and the plan's creates). Pure."""
    catalog = desired.catalog
    entries: list[DriftEntry] = []
    absent: list[tuple[RowKey, Source | None]] = []

    def was_checked(sem: str, rev: str) -> bool:
        return rev in remote.checked.get(sem, frozenset())

    live_cache: dict[RowKey, dict[str, str]] = {}

    def live_row(row: RowKey) -> dict[str, str] | None:
        if row not in remote.rows:
            return None
        if row not in live_cache:
            live_cache[row] = live_values(remote.rows[row], catalog, user_id_type)
        return live_cache[row]

    values = desired.values
    if state is not None:
        for (sem, rev, met), _ in state.rows.items():
            if not was_checked(sem, rev):
                continue
            row = RowKey(sem, rev, met)
            live = live_row(row) or {}
            for fid, (applied, batch) in sorted(state.row_values(row).items()):
                now = live.get(fid)
                if now == applied:
                    continue
                key = ValueKey(sem, rev, met, fid)
                dv = values.get(key)
                entries.append(
                    DriftEntry(
                        "changed" if now is not None else "cleared",
                        key,
                        applied,
                        now,
                        dv.value if dv else None,
                        dv.source if dv else None,
                        batch,
                    )
                )
    sent_rows: set[RowKey] = set()
    for c in plan.changes:
        row = RowKey(*c.key[:3])
        if not was_checked(row.semester, row.reviewee):
            continue
        if c.action != "forget":
            sent_rows.add(row)
        mdef = catalog.metric_by_id(row.metric)
        fdef = mdef.field_by_id(c.key.field) if mdef is not None else None
        if c.action == "create" and not (fdef is not None and fdef.input_setting == "admin"):  # those: below
            live = live_row(row) or {}
            now = live.get(c.key.field)
            if now is not None and now != c.new:
                entries.append(DriftEntry("unmanaged", c.key, None, now, c.new, c.source, None))
    for row in sorted(sent_rows):
        if row not in remote.rows:
            absent.append((row, desired.rows.get(row)))
            continue
        mdef = catalog.metric_by_id(row.metric)
        if mdef is None:
            continue
        live = live_row(row) or {}
        for fdef in mdef.fields.values():
            key = ValueKey(row.semester, row.reviewee, row.metric, fdef.id)
            dv = values.get(key)
            if fdef.input_setting == "admin" and dv is not None:
                last = state.get(key) if state is not None else None
                entries.append(
                    DriftEntry(
                        "admin",
                        key,
                        last[0] if last else None,
                        live.get(fdef.id),
                        dv.value,
                        dv.source,
                        last[1] if last else None,
                    )
                )
    entries.sort(key=lambda e: (e.key, e.kind))
    notes = list(remote.notes)
    if not remote.complete:
        notes.append(
            f"checked {remote.reviewees_checked} of {remote.reviewees_in_scope} reviewees within the "
            f"budget of {plural(remote.budget, 'request')}; raise --refresh-budget "
            "to check the rest"
        )
    return Drift(
        remote.scope,
        tuple(entries),
        tuple(absent),
        remote.reviewees_checked,
        remote.reviewees_in_scope,
        remote.requests,
        remote.budget,
        tuple(notes),
    )
