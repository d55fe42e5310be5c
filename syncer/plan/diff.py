"""The plan: the desired state minus the state, as plain data (octoDNS provider/plan.py in spirit).

The unit of change is the value: `create`, `update` (last applied -> new), `forget` (managed, now gone from
the YAML: the API cannot delete, so the value stays in Feishu and syncer stops managing it). The unit of
requests is the row (semester, reviewee, metric): a changed row is sent whole, 50 rows to a request, per
semester. Closed semesters are left out. Rows Feishu rejected are held back until their values change
(syncer.plan.sent).

Everything here is pure: `make_plan` takes the desired state, the state and what describes the run, and
returns a `Plan`; renderers (syncer.report.plan) turn it into text, and `plan_document` is its JSON form.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from operator import itemgetter

from syncer.fieldtypes import field_type
from syncer.load.settings import Safety
from syncer.model import (
    Catalog,
    DesiredState,
    DesiredValue,
    RowKey,
    Source,
    ValueKey,
    request_count,
)
from syncer.perf import paused_gc
from syncer.plan.checksum import checksum
from syncer.plan.model import (
    PLAN_FORMAT,
    Change,
    Counts,
    LiveView,
    Names,
    Plan,
    PlanOptions,
    Quarantined,
    Refresh,
    SafetyBreach,
    SemesterSummary,
    StateRef,
    Targeting,
)
from syncer.plan.safety import judge
from syncer.plan.sent import hold_back_rejected
from syncer.plan.targeting import restrict
from syncer.rules.judge import Item, rule_findings
from syncer.rules.model import Finding
from syncer.state.model import UNRECORDED, State, row_batch
from syncer.text import plural


def make_plan(desired: DesiredState, state: State | None, options: PlanOptions) -> Plan:
    """Desired minus state. Pure: the same inputs give the same plan and the same checksum.

    With `options.targeting` (--semester, --path), only the part of the YAML and of the state in the target
    is compared (syncer.plan.targeting): the rest is left out, and the plan counts it."""
    with paused_gc():  # a first plan holds a million new objects: the cyclic GC would only slow it down
        return _make_plan(desired, state, options)


def _make_plan(desired: DesiredState, state: State | None, options: PlanOptions) -> Plan:
    safety, state_location, root = options.safety, options.state_location, options.root
    targeting, live, percentage_format = options.targeting or None, options.live, options.percentage_format
    values: Mapping[ValueKey, DesiredValue] = desired.open_values()
    closed = desired.closed_semesters
    targeted = None
    whole_state = state
    if targeting is not None:
        cut = restrict(targeting, values, desired.rows, state, closed=closed, root=root)
        values, state, targeted = cut.values, cut.state, cut.summary
    rows = state.rows if state is not None else {}

    # Changes are made with tuple.__new__: NamedTuple's generated __new__ is a Python call, a second at a
    # million creates (a first plan). The fields are in the classes' order.
    new = tuple.__new__
    changes: list[Change] = []
    add = changes.append
    matched = 0
    rows_get = rows.get
    # A row's values come one after the other (each file's are merged row by row), their IDs the same
    # objects: the state's row is looked up once a row, not once a value.
    sem_ = rev_ = met_ = None
    r = None
    fields: Mapping[str, str] = {}
    for k, dv in values.items():
        sem, rev, met, f = k
        if rev is not rev_ or met is not met_ or sem is not sem_:
            sem_, rev_, met_ = sem, rev, met
            r = rows_get((sem, rev, met))
            fields = r[0] if r is not None else {}
        old = fields.get(f)
        if old is None:
            add(new(Change, ("create", k, None, dv[0], new(Source, (dv[2], dv[3], dv[4])), None)))
            continue
        matched += 1
        if old != dv[0]:
            assert r is not None
            add(new(Change, ("update", k, old, dv[0], new(Source, (dv[2], dv[3], dv[4])), row_batch(r, f))))

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

    changes += [Change("forget", k, old, None, None, b) for k, old, b in forgets]
    if live is not None and state is not None:
        changes += _repairs(values, state, live, desired.catalog, closed)

    quarantined: list[Quarantined] = []
    released = 0
    if state is not None and state.rejections:
        changes, quarantined, released = hold_back_rejected(
            changes,
            values,
            state,
            desired.rows,
            percentage_format=percentage_format,
            unrecorded_only=options.retry_rejected,  # a row that landed is never sent again as it is
        )

    changes.sort(key=itemgetter(1))  # by key
    quarantined.sort(key=lambda q: q.row)

    findings = _judged(changes, desired, options)
    keys = list(map(itemgetter(1), changes))  # for the counts and the names, taken once
    summaries = _summaries(changes, keys, quarantined, values, state, closed)
    summaries, breaches = judge(summaries, safety)
    if targeted is not None and whole_state is not None:
        summaries, whole = _whole_semester_breaches(summaries, whole_state, safety)
        breaches += whole
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
    names = _names(desired.catalog, changes, keys, quarantined, summaries, targeting)
    all_notes = list(options.notes)
    if released:
        all_notes.append(
            f"{plural(released, 'row')} held back by a refusal every row seemed to share are sent again: "
            "Feishu accepted other rows of the semester since, so the cause was not shared"
        )
    if state is None:
        all_notes.append(f"no state at {state_location} yet: every value is a create")
    aside = sum(1 for q in quarantined if q.message.startswith(UNRECORDED))
    if aside:
        all_notes.append(
            f"{plural(aside, 'row')} landed in Feishu but could not be recorded in the state: set aside (held back, "
            "not sent again) until its values change, and apply exits 1 until then (`syncer state show` lists them)"
        )
    plan_changes = tuple(changes)
    digest = checksum(
        PLAN_FORMAT,
        ref,
        options.target,
        safety,
        plan_changes,
        tuple(quarantined),
        tuple(breaches),
        key=state.meta.plan_key if state is not None else None,
        targeting=targeting,
        rules=(options.rules.digest, [[f.rule, *f.problem.location.rsplit(":", 2)] for f in findings if f.denies])
        if options.rules
        else None,
    )
    return Plan(
        format=PLAN_FORMAT,
        syncer_version=options.version,
        root=root,
        git=options.git,
        state=ref,
        target=options.target,
        safety=safety,
        changes=plan_changes,
        quarantined=tuple(quarantined),
        semesters=tuple(summaries),
        breaches=tuple(breaches),
        counts=counts,
        batches=batches,
        names=names,
        notes=tuple(all_notes),
        forced=options.force,
        checksum=digest,
        refreshed=None if live is None else Refresh(live.scope, live.reviewees_checked, live.complete),
        targeting=targeted,
        findings=findings,
        rules=tuple(r.name for r in options.rules.rules),
    )


def _judged(changes: list[Change], desired: DesiredState, options: PlanOptions) -> tuple[Finding, ...]:
    """The rules' findings on the values the plan creates or updates (old: the value last applied), in the
    order of their places. A repair puts back a value the rules judged when it was planned: not judged again."""
    if not options.rules:
        return ()
    items: Iterator[Item] = (  # one at a time: a first plan's million are never all in a list
        (c.key, c.old if c.action == "update" else None, c.new, c.source)
        for c in changes
        if c.action in ("create", "update") and c.new is not None and c.source is not None
    )
    found = rule_findings(options.rules, desired.catalog, desired.values, items, root=options.root, today=options.today)
    return tuple(sorted(found, key=lambda f: (f.problem.file, f.problem.line, f.problem.col, f.rule)))


def _whole_semester_breaches(
    summaries: list[SemesterSummary], whole: State, safety: Safety
) -> tuple[list[SemesterSummary], list[SafetyBreach]]:
    """A targeted part under min_existing is judged against all its semester manages, as the untargeted
    plan of the same changes would be: pieces too small to be guarded cannot pass a threshold. Returns the
    summaries (those judged so marked guarded) and the thresholds passed."""
    out: list[SemesterSummary] = []
    found: list[SafetyBreach] = []
    for s in summaries:
        managed = whole.managed(s.semester)
        if s.guarded or managed <= s.values_managed:
            out.append(s)
            continue
        probe = s._replace(
            values_managed=managed,
            update_ratio=(s.values_to_update + s.values_to_repair) / managed,
            forget_ratio=s.values_to_forget / managed,
        )
        passed = judge([probe], safety)[1]
        out.append(s._replace(guarded=True) if passed else s)
        found += passed
    return out, found


def _repairs(
    values: Mapping[ValueKey, DesiredValue], state: State, live: LiveView, catalog: Catalog, closed: frozenset[str]
) -> list[Change]:
    """Values the YAML and the state agree on that Feishu holds otherwise (changed or cleared outside syncer),
    for the reviewees the refresh read. Fields admins own are left out: Feishu refuses to overwrite them."""
    admin = {(m.id, f.id) for m in catalog.metrics.values() for f in m.fields.values() if f.input_setting == "admin"}
    out: list[Change] = []
    for (sem, rev, met), r in state.rows.items():
        if sem in closed or not live.was_checked(sem, rev):
            continue
        row = RowKey(sem, rev, met)
        held = live.rows.get(row, {})
        for f, applied in r[0].items():
            key = ValueKey(sem, rev, met, f)
            dv = values.get(key)
            if dv is None or dv[0] != applied or (met, f) in admin:
                continue  # a forget, or an update: sent anyway
            now = held.get(f)
            if now != applied:
                out.append(Change("repair", key, now, applied, dv.source, row_batch(r, f)))
    return out


def _summaries(
    changes: list[Change],
    keys: list[ValueKey],
    quarantined: list[Quarantined],
    values: Mapping[ValueKey, DesiredValue],
    state: State | None,
    closed: frozenset[str],
) -> list[SemesterSummary]:
    # Counted with C-level iterators (map, zip, itemgetter): a first plan has a million changes. `keys`:
    # the changes' keys, in their order.
    actions = list(map(itemgetter(0), changes))
    by_action: dict[tuple[str, str], int] = Counter(zip(map(itemgetter(0), keys), actions, strict=True))
    sent = keys if "forget" not in actions else [k for k, a in zip(keys, actions, strict=True) if a != "forget"]
    rows_per_sem: Counter[str] = Counter(map(itemgetter(0), set(map(itemgetter(0, 1, 2), sent))))
    desired_per_sem = _count_semesters(values)
    semesters = set(desired_per_sem) | {sem for sem, _ in by_action} | {q.row.semester for q in quarantined}
    if state is not None:
        semesters |= {s for s in state.per_semester if s not in closed}
    held: Counter[str] = Counter(q.row.semester for q in quarantined)
    out = []
    for sem in sorted(semesters):
        managed = state.managed(sem) if state is not None else 0
        n_rows = rows_per_sem.get(sem, 0)
        upd, fgt = by_action.get((sem, "update"), 0), by_action.get((sem, "forget"), 0)
        rep = by_action.get((sem, "repair"), 0)
        out.append(
            SemesterSummary(
                semester=sem,
                values_managed=managed,
                values_desired=desired_per_sem.get(sem, 0),
                values_to_create=by_action.get((sem, "create"), 0),
                values_to_update=upd,
                values_to_forget=fgt,
                values_to_repair=rep,
                rows_to_send=n_rows,
                requests_min=request_count(n_rows),
                rows_quarantined=held.get(sem, 0),
                update_ratio=(upd + rep) / managed if managed else 0.0,
                forget_ratio=fgt / managed if managed else 0.0,
                guarded=False,
            )
        )
    return out


def _count_semesters(values: Mapping[ValueKey, DesiredValue]) -> Counter[str]:
    return Counter(map(itemgetter(0), values))  # counted in C: a tenth of a second less at a million


def _counts(changes: list[Change], quarantined: list[Quarantined], summaries: list[SemesterSummary]) -> Counts:
    n = Counter(c.action for c in changes)
    return Counts(
        values_to_create=n["create"],
        values_to_update=n["update"],
        values_to_forget=n["forget"],
        values_to_repair=n["repair"],
        values_changed=len(changes),
        rows_to_send=sum(s.rows_to_send for s in summaries),
        requests_min=sum(s.requests_min for s in summaries),
        rows_quarantined=len(quarantined),
        values_quarantined=sum(q.values for q in quarantined),
        values_managed=sum(s.values_managed for s in summaries),
        values_desired=sum(s.values_desired for s in summaries),
    )


def _names(
    catalog: Catalog,
    changes: list[Change],
    keys: list[ValueKey],
    quarantined: list[Quarantined],
    summaries: list[SemesterSummary],
    targeting: Targeting | None,
) -> Names:
    # The catalog's people that the plan names (reviewees, and person IDs among the values): the catalog's
    # IDs looked up in the changes, never a set of a million values built.
    known = {p.id for p in catalog.people.values() if p.id}  # people known by email only have none yet
    people_ids = known.intersection(map(itemgetter(1), keys))
    people_ids |= known.intersection(map(itemgetter(3), changes))
    people_ids |= known.intersection(map(itemgetter(2), changes))
    people_ids |= known.intersection(q.row.reviewee for q in quarantined)
    metric_ids = set(map(itemgetter(2), keys)) | {q.row.metric for q in quarantined}
    sem_ids = {s.semester for s in summaries} | (targeting.semesters if targeting is not None else frozenset())
    people = {p.id: alias for alias, p in catalog.people.items() if p.id and p.id in people_ids}
    metrics = {m.id: alias for alias, m in catalog.metrics.items() if m.id in metric_ids}
    fields = {
        (m.id, f.id): f_alias for m in catalog.metrics.values() if m.id in metric_ids for f_alias, f in m.fields.items()
    }
    sems = {s.id: alias for alias, s in catalog.semesters.items() if s.id in sem_ids}
    percent = frozenset(
        (m.id, f.id)
        for m in catalog.metrics.values()
        if m.id in metric_ids
        for f in m.fields.values()
        if field_type(f.type).percent
    )
    return Names(semesters=sems, people=people, metrics=metrics, fields=fields, percent=percent)
