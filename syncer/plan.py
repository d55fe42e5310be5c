"""The plan: the desired state minus the state, as plain data (octoDNS provider/plan.py in spirit).

The unit of change is the value: `create`, `update` (last applied -> new), `forget` (managed, now gone from
the YAML: the API cannot delete, so the value stays in Feishu and syncer stops managing it). The unit of
requests is the row (semester, reviewee, metric): a changed row is sent whole, 50 rows to a request, per
semester. Closed semesters are left out. Rows Feishu rejected are held back until their values change.

Everything here is pure: `make_plan` takes the desired state, the state and what describes the run, and
returns a `Plan`; renderers (syncer.report.plan) turn it into text, and `plan_document` is its JSON form.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from syncer import __version__
from syncer.errors import RefusedError
from syncer.gitinfo import GitInfo
from syncer.model import Catalog, DesiredState, DesiredValue, RowKey, Source, ValueKey
from syncer.perf import paused_gc
from syncer.settings import Safety
from syncer.state.base import BatchInfo, Identity, LastApply, Rejection, State, row_batch, row_digest

PLAN_FORMAT = 1
ROWS_PER_REQUEST = 50
SCHEMA_ID = "https://schemas.feishu-syncer.dev/v1/plan.schema.json"

Action = Literal["create", "update", "forget"]
ACTIONS: tuple[Action, ...] = ("create", "update", "forget")

FORGET_MEANING = "forget: the value stays in Feishu (the API cannot delete it) and syncer stops managing it"


class Change(NamedTuple):
    action: Action
    key: ValueKey
    old: str | None  # the value last applied (update, forget)
    new: str | None  # the value the YAML holds (create, update)
    source: Source | None  # where the new value is written (create, update)
    batch: int | None  # the batch that applied the old value (update, forget)


class Quarantined(NamedTuple):
    """A row Feishu rejected whose values have not changed since: listed, not sent, not counted."""

    row: RowKey
    code: int
    at: str
    message: str
    values: int  # the value changes held back
    source: Source | None

    @property
    def date(self) -> str:
        return self.at[:10]


class SemesterSummary(NamedTuple):
    semester: str
    values_managed: int  # by the state, before this plan
    values_desired: int
    values_to_create: int
    values_to_update: int
    values_to_forget: int
    rows_to_send: int
    requests_min: int
    rows_quarantined: int
    update_ratio: float
    forget_ratio: float
    guarded: bool  # the state manages at least `min_existing` values here: ratios are enforced


class SafetyBreach(NamedTuple):
    semester: str
    kind: Literal["update", "forget"]
    values: int
    values_managed: int
    ratio: float
    limit: float


class Counts(NamedTuple):
    values_to_create: int
    values_to_update: int
    values_to_forget: int
    values_changed: int
    rows_to_send: int
    requests_min: int
    rows_quarantined: int
    values_quarantined: int
    values_managed: int
    values_desired: int


class StateRef(NamedTuple):
    """The state a plan was made against."""

    location: str
    exists: bool
    lineage: str | None
    serial: int
    identity: Identity | None
    last_apply: LastApply | None


@dataclass(frozen=True, slots=True)
class Names:
    """Display names (catalog aliases) of the IDs a plan mentions. Never part of the checksum."""

    semesters: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (metric id, field id)

    def semester(self, sid: str) -> str:
        return self.semesters.get(sid, sid)

    def person(self, pid: str) -> str:
        return self.people.get(pid, pid)

    def metric(self, mid: str) -> str:
        return self.metrics.get(mid, mid)

    def field(self, mid: str, fid: str) -> str:
        return self.fields.get((mid, fid), fid)


@dataclass(frozen=True, slots=True)
class Plan:
    format: int
    syncer_version: str
    root: str
    git: GitInfo
    state: StateRef
    target: Identity
    safety: Safety
    changes: tuple[Change, ...]
    quarantined: tuple[Quarantined, ...]
    semesters: tuple[SemesterSummary, ...]
    breaches: tuple[SafetyBreach, ...]
    counts: Counts
    batches: Mapping[int, BatchInfo]  # the batches that changes refer to
    names: Names
    notes: tuple[str, ...]
    forced: bool
    checksum: str

    @property
    def empty(self) -> bool:
        """Nothing to change (forgets count as changes; held-back rejected rows do not)."""
        return not self.changes

    @property
    def refused(self) -> bool:
        """The plan passes a safety threshold and --force was not given: apply would refuse it."""
        return bool(self.breaches) and not self.forced


# --- making a plan --------------------------------------------------------------------------------------


def make_plan(
    desired: DesiredState,
    state: State | None,
    *,
    safety: Safety,
    git: GitInfo,
    target: Identity,
    state_location: str,
    root: str = "",
    notes: Iterable[str] = (),
    retry_rejected: bool = False,
    force: bool = False,
    version: str = __version__,
) -> Plan:
    """Desired minus state. Pure: the same inputs give the same plan and the same checksum."""
    with paused_gc():  # a first plan holds a million new objects: the cyclic GC would only slow it down
        return _make_plan(
            desired,
            state,
            safety=safety,
            git=git,
            target=target,
            state_location=state_location,
            root=root,
            notes=notes,
            retry_rejected=retry_rejected,
            force=force,
            version=version,
        )


def _make_plan(
    desired: DesiredState,
    state: State | None,
    *,
    safety: Safety,
    git: GitInfo,
    target: Identity,
    state_location: str,
    root: str,
    notes: Iterable[str],
    retry_rejected: bool,
    force: bool,
    version: str,
) -> Plan:
    values = desired.open_values()
    closed = desired.closed_semesters
    rows = state.rows if state is not None else {}

    creates: list[ValueKey] = []
    updates: list[tuple[ValueKey, str, int]] = []
    matched = 0
    rows_get = rows.get
    for k, dv in values.items():
        r = rows_get(k[:3])
        if r is None:
            creates.append(k)
            continue
        old = r[0].get(k[3])
        if old is None:
            creates.append(k)
            continue
        matched += 1
        if old != dv[0]:
            updates.append((k, old, row_batch(r, k[3])))

    forgets: list[tuple[ValueKey, str, int]] = []
    if state is not None:
        managed_open = sum(n for sem, n in state.per_semester.items() if sem not in closed)
        if matched < managed_open:
            for (sem, rev, met), r in rows.items():
                if sem in closed:
                    continue
                for f, v in r[0].items():
                    key = ValueKey(sem, rev, met, f)
                    if key not in values:
                        forgets.append((key, v, row_batch(r, f)))

    changes = [Change("create", k, None, values[k][0], values[k].source, None) for k in creates]
    changes += [Change("update", k, old, values[k][0], values[k].source, b) for k, old, b in updates]
    changes += [Change("forget", k, old, None, None, b) for k, old, b in forgets]

    quarantined: list[Quarantined] = []
    if state is not None and state.rejections and not retry_rejected:
        changes, quarantined = _hold_back_rejected(changes, values, state.rejections, desired.rows)

    changes.sort(key=lambda c: c.key)
    quarantined.sort(key=lambda q: q.row)

    summaries = _summaries(changes, quarantined, values, state, closed)
    breaches = _breaches(summaries, safety)
    counts = _counts(changes, quarantined, summaries)
    batch_ids = {c.batch for c in changes if c.batch is not None}
    batches = {b: state.batches[b] for b in sorted(batch_ids) if state is not None and b in state.batches}
    ref = StateRef(
        location=state_location,
        exists=state is not None,
        lineage=state.meta.lineage if state else None,
        serial=state.meta.serial if state else 0,
        identity=state.identity if state else None,
        last_apply=state.meta.last_apply if state else None,
    )
    names = _names(desired.catalog, changes, quarantined, summaries)
    all_notes = list(notes)
    if state is None:
        all_notes.append(f"no state at {state_location} yet: every value is a create")
    plan_changes = tuple(changes)
    digest = _checksum(PLAN_FORMAT, ref, target, safety, plan_changes, tuple(quarantined), tuple(breaches))
    return Plan(
        format=PLAN_FORMAT,
        syncer_version=version,
        root=root,
        git=git,
        state=ref,
        target=target,
        safety=safety,
        changes=plan_changes,
        quarantined=tuple(quarantined),
        semesters=tuple(summaries),
        breaches=tuple(breaches),
        counts=counts,
        batches=batches,
        names=names,
        notes=tuple(all_notes),
        forced=force,
        checksum=digest,
    )


def desired_rows(values: Mapping[ValueKey, DesiredValue], rows: Iterable[RowKey]) -> dict[RowKey, dict[str, str]]:
    """The desired values of some rows (field id -> canonical value): what apply sends for them, and what
    a rejection's digest is compared with."""
    wanted = {tuple(r) for r in rows}
    out: dict[RowKey, dict[str, str]] = {}
    if not wanted:
        return out
    for k, dv in values.items():
        rk = k[:3]
        if rk in wanted:
            out.setdefault(RowKey(*rk), {})[k[3]] = dv[0]
    return out


def _hold_back_rejected(
    changes: list[Change],
    values: Mapping[ValueKey, DesiredValue],
    rejections: Mapping[RowKey, Rejection],
    row_sources: Mapping[RowKey, Source],
) -> tuple[list[Change], list[Quarantined]]:
    sent = {RowKey(*c.key[:3]) for c in changes if c.action != "forget"}
    candidates = [r for r in rejections if r in sent]
    if not candidates:
        return changes, []
    current = desired_rows(values, candidates)
    held = {r for r in candidates if row_digest(current.get(r, {})) == rejections[r].digest}
    if not held:
        return changes, []
    per_row = Counter(c.key[:3] for c in changes if c.action != "forget" and c.key[:3] in held)
    kept = [c for c in changes if c.action == "forget" or c.key[:3] not in held]
    quarantined = [
        Quarantined(r, rejections[r].code, rejections[r].at, rejections[r].message, per_row[r], row_sources.get(r))
        for r in held
    ]
    return kept, quarantined


def _summaries(
    changes: list[Change],
    quarantined: list[Quarantined],
    values: Mapping[ValueKey, DesiredValue],
    state: State | None,
    closed: frozenset[str],
) -> list[SemesterSummary]:
    by_action: dict[tuple[str, str], int] = Counter((c.key.semester, c.action) for c in changes)
    rows_to_send: dict[str, set[tuple[str, str, str]]] = {}
    for c in changes:
        if c.action != "forget":
            rows_to_send.setdefault(c.key[0], set()).add(c.key[:3])
    desired_per_sem: Counter[str] = Counter(k[0] for k in values) if len(values) < 4096 else _count_semesters(values)
    semesters = set(desired_per_sem) | {c.key.semester for c in changes} | {q.row.semester for q in quarantined}
    if state is not None:
        semesters |= {s for s in state.per_semester if s not in closed}
    held: Counter[str] = Counter(q.row.semester for q in quarantined)
    out = []
    for sem in sorted(semesters):
        managed = state.managed(sem) if state is not None else 0
        n_rows = len(rows_to_send.get(sem, ()))
        upd, fgt = by_action.get((sem, "update"), 0), by_action.get((sem, "forget"), 0)
        out.append(
            SemesterSummary(
                semester=sem,
                values_managed=managed,
                values_desired=desired_per_sem.get(sem, 0),
                values_to_create=by_action.get((sem, "create"), 0),
                values_to_update=upd,
                values_to_forget=fgt,
                rows_to_send=n_rows,
                requests_min=math.ceil(n_rows / ROWS_PER_REQUEST),
                rows_quarantined=held.get(sem, 0),
                update_ratio=upd / managed if managed else 0.0,
                forget_ratio=fgt / managed if managed else 0.0,
                guarded=False,
            )
        )
    return out


def _count_semesters(values: Mapping[ValueKey, DesiredValue]) -> Counter[str]:
    # Values come grouped by file and a file holds one semester: count runs instead of every key.
    counts: Counter[str] = Counter()
    last, run = None, 0
    for k in values:
        sem = k[0]
        if sem == last:
            run += 1
            continue
        if last is not None:
            counts[last] += run
        last, run = sem, 1
    if last is not None:
        counts[last] += run
    return counts


def _breaches(summaries: list[SemesterSummary], safety: Safety) -> list[SafetyBreach]:
    out = []
    for i, s in enumerate(summaries):
        guarded = s.values_managed >= safety.min_existing and s.values_managed > 0
        summaries[i] = s._replace(guarded=guarded)
        if not guarded:
            continue
        if s.update_ratio > safety.max_update_ratio:
            out.append(
                SafetyBreach(
                    s.semester,
                    "update",
                    s.values_to_update,
                    s.values_managed,
                    s.update_ratio,
                    safety.max_update_ratio,
                )
            )
        if s.forget_ratio > safety.max_forget_ratio:
            out.append(
                SafetyBreach(
                    s.semester,
                    "forget",
                    s.values_to_forget,
                    s.values_managed,
                    s.forget_ratio,
                    safety.max_forget_ratio,
                )
            )
    return out


def _counts(changes: list[Change], quarantined: list[Quarantined], summaries: list[SemesterSummary]) -> Counts:
    n = Counter(c.action for c in changes)
    return Counts(
        values_to_create=n["create"],
        values_to_update=n["update"],
        values_to_forget=n["forget"],
        values_changed=len(changes),
        rows_to_send=sum(s.rows_to_send for s in summaries),
        requests_min=sum(s.requests_min for s in summaries),
        rows_quarantined=len(quarantined),
        values_quarantined=sum(q.values for q in quarantined),
        values_managed=sum(s.values_managed for s in summaries),
        values_desired=sum(s.values_desired for s in summaries),
    )


def _names(
    catalog: Catalog, changes: list[Change], quarantined: list[Quarantined], summaries: list[SemesterSummary]
) -> Names:
    rows = {RowKey(*r) for r in {c.key[:3] for c in changes}} | {q.row for q in quarantined}
    people_ids = {r.reviewee for r in rows} | {c.new for c in changes if c.new} | {c.old for c in changes if c.old}
    metric_ids = {r.metric for r in rows}
    sem_ids = {s.semester for s in summaries}
    people = {p.id: alias for alias, p in catalog.people.items() if p.id in people_ids}
    metrics = {m.id: alias for alias, m in catalog.metrics.items() if m.id in metric_ids}
    fields = {
        (m.id, f.id): f_alias for m in catalog.metrics.values() if m.id in metric_ids for f_alias, f in m.fields.items()
    }
    sems = {s.id: alias for alias, s in catalog.semesters.items() if s.id in sem_ids}
    return Names(semesters=sems, people=people, metrics=metrics, fields=fields)


# --- checksum -------------------------------------------------------------------------------------------


def value_hash(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


_encode_str: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _checksum(
    fmt: int,
    state: StateRef,
    target: Identity,
    safety: Safety,
    changes: tuple[Change, ...],
    quarantined: tuple[Quarantined, ...],
    breaches: tuple[SafetyBreach, ...],
) -> str:
    """sha256 over the canonical JSON of what the plan does: its format, the state it was made against,
    the target, the thresholds, every change (values as hashes, so redaction changes nothing), the rows
    held back and the thresholds passed. Presentation (sources, names, notes, commit) is left out: two plans
    with one checksum do the same thing to the same state."""
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
    h.update(_dumps(header).encode("utf-8"))
    # One line per change: exactly `_dumps([action, semester, reviewee, metric, field, old hash, new hash,
    # batch])`, spelled out because json.dumps per change is a third of the time of a million-value plan.
    enc = _encode_str
    for c in changes:
        old, new = c.old, c.new
        h_old = "null" if old is None else '"' + hashlib.sha256(old.encode("utf-8")).hexdigest()[:32] + '"'
        h_new = "null" if new is None else '"' + hashlib.sha256(new.encode("utf-8")).hexdigest()[:32] + '"'
        k = c.key
        line = (
            f'\n["{c.action}",{enc(k[0])},{enc(k[1])},{enc(k[2])},{enc(k[3])},{h_old},{h_new},'
            f"{'null' if c.batch is None else c.batch}]"
        )
        h.update(line.encode("utf-8"))
    return "sha256:" + h.hexdigest()


# --- what apply needs -----------------------------------------------------------------------------------


def rows_to_send(plan: Plan) -> dict[str, tuple[RowKey, ...]]:
    """The rows apply must send, per semester, sorted (forgets send nothing)."""
    out: dict[str, set[RowKey]] = {}
    for c in plan.changes:
        if c.action != "forget":
            out.setdefault(c.key.semester, set()).add(c.key.row)
    return {sem: tuple(sorted(rows)) for sem, rows in sorted(out.items())}


def forgotten_keys(plan: Plan) -> tuple[ValueKey, ...]:
    return tuple(c.key for c in plan.changes if c.action == "forget")


def how_to_proceed(plan: Plan) -> str:
    """What a user does about the thresholds this plan passes."""
    parts = []
    for b in plan.breaches:
        key = "max_update_ratio" if b.kind == "update" else "max_forget_ratio"
        parts.append(
            f"{plan.names.semester(b.semester)}: {b.kind}s {b.values} of {b.values_managed} managed "
            f"values ({b.ratio:.1%}), over safety.{key} {b.limit:g}"
        )
    return (
        "; ".join(parts) + ". To proceed, apply with --force, or raise the threshold in syncer.yaml "
        "(safety.max_update_ratio / safety.max_forget_ratio) in the same pull request"
    )


def check_safety(plan: Plan, *, force: bool) -> None:
    """Refuse (RefusedError) a plan that passes a safety threshold, unless forced."""
    if plan.breaches and not force:
        raise RefusedError("the plan passes a safety threshold: " + how_to_proceed(plan))


# --- the JSON form --------------------------------------------------------------------------------------


def summary_line(plan: Plan) -> str:
    """One line saying what the plan does, with its units."""
    c = plan.counts
    held = f"; {c.rows_quarantined} rejected row{_s(c.rows_quarantined)} held back" if c.rows_quarantined else ""
    if plan.empty:
        return (
            f"No changes: Feishu is up to date with the YAML ({c.values_managed} value{_s(c.values_managed)} "
            f"managed){held}."
        )
    parts = [
        f"{c.values_to_create} to create",
        f"{c.values_to_update} to update",
        f"{c.values_to_forget} to forget",
    ]
    return (
        f"Plan: {c.values_changed} value{_s(c.values_changed)} changed ({', '.join(parts)}); "
        f"{c.rows_to_send} row{_s(c.rows_to_send)} to send in at least {c.requests_min} "
        f"import request{_s(c.requests_min)}{held}."
    )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _source(s: Source | None) -> dict[str, Any] | None:
    return None if s is None else {"file": s.file, "line": s.line, "col": s.col}


def plan_document(plan: Plan, *, redact: bool) -> dict[str, Any]:
    """The plan as JSON data (schemas/plan.schema.json). With `redact`, every value is null (and the
    names of people who appear only as values are left out)."""
    n = plan.names
    people = n.people
    if redact:
        shown = {c.key.reviewee for c in plan.changes} | {q.row.reviewee for q in plan.quarantined}
        people = {pid: alias for pid, alias in people.items() if pid in shown}
    return {
        "$schema": SCHEMA_ID,
        "plan_format": plan.format,
        "syncer_version": plan.syncer_version,
        "checksum": plan.checksum,
        "summary": summary_line(plan),
        "redacted": redact,
        "forced": plan.forced,
        "root": plan.root,
        "git": {"commit": plan.git.commit, "short": plan.git.short, "dirty": plan.git.dirty},
        "target": plan.target._asdict(),
        "state": {
            "location": plan.state.location,
            "exists": plan.state.exists,
            "lineage": plan.state.lineage,
            "serial": plan.state.serial,
            "identity": plan.state.identity._asdict() if plan.state.identity else None,
            "last_apply": plan.state.last_apply._asdict() if plan.state.last_apply else None,
        },
        "notes": list(plan.notes),
        "counts": plan.counts._asdict(),
        "safety": {
            "max_update_ratio": plan.safety.max_update_ratio,
            "max_forget_ratio": plan.safety.max_forget_ratio,
            "min_existing": plan.safety.min_existing,
            "refused": plan.refused,
            "breaches": [
                {
                    "semester": b.semester,
                    "kind": b.kind,
                    "values": b.values,
                    "values_managed": b.values_managed,
                    "ratio": round(b.ratio, 6),
                    "limit": b.limit,
                }
                for b in plan.breaches
            ],
            "how_to_proceed": how_to_proceed(plan) if plan.breaches else None,
        },
        "semesters": [
            {
                **s._asdict(),
                "update_ratio": round(s.update_ratio, 6),
                "forget_ratio": round(s.forget_ratio, 6),
            }
            for s in plan.semesters
        ],
        "changes": [
            {
                "action": c.action,
                "semester": c.key.semester,
                "reviewee": c.key.reviewee,
                "metric": c.key.metric,
                "field": c.key.field,
                "old": None if redact else c.old,
                "new": None if redact else c.new,
                "source": _source(c.source),
                "batch": c.batch,
            }
            for c in plan.changes
        ],
        "quarantined": [
            {
                "semester": q.row.semester,
                "reviewee": q.row.reviewee,
                "metric": q.row.metric,
                "code": q.code,
                "rejected_at": q.at,
                "date": q.date,
                "message": q.message,
                "values": q.values,
                "source": _source(q.source),
            }
            for q in plan.quarantined
        ],
        "batches": [b._asdict() for _, b in sorted(plan.batches.items())],
        "names": {
            "semesters": dict(sorted(n.semesters.items())),
            "people": dict(sorted(people.items())),
            "metrics": dict(sorted(n.metrics.items())),
            "fields": [{"metric": m, "field": f, "name": a} for (m, f), a in sorted(n.fields.items())],
        },
        "forget_means": FORGET_MEANING,
    }


def plan_json(plan: Plan, *, redact: bool) -> str:
    return json.dumps(plan_document(plan, redact=redact), ensure_ascii=False, indent=2) + "\n"
