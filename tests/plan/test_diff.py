"""The plan: desired minus state, counts, order, checksum, rejected rows, safety, and its JSON schema."""

from __future__ import annotations

import dataclasses
import json
import random
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.errors import RefusedError
from syncer.gitinfo import GitInfo
from syncer.load.schema import schema_url
from syncer.load.settings import Safety
from syncer.model import (
    Catalog,
    DesiredState,
    DesiredValue,
    FieldDef,
    Identity,
    MetricDef,
    PersonDef,
    RowKey,
    SemesterDef,
    ValueKey,
)
from syncer.plan.diff import make_plan
from syncer.plan.model import Plan, PlanOptions
from syncer.plan.safety import check_safety
from syncer.plan.sent import desired_fields
from syncer.plan.summary import summary_line
from syncer.report.plan_json import plan_document
from syncer.state.local.store import LocalStateStore
from syncer.state.model import SHARED_REFUSAL, BatchInfo, BatchRecord, Rejection, State, StateMeta, row_digest
from tests.paths import SCHEMAS

SCHEMA = json.loads((SCHEMAS / "plan.schema.json").read_text())
SEM, SEM2, CLOSED = "7293040702907514899", "7293040702907514900", "7250000000000000001"
REV, NPS = "7272580325522276372", "7272580325522276401"
PEOPLE = [f"ou_{i:032x}" for i in range(1, 200)]
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
GIT = GitInfo("a" * 40, "aaaaaaa", False)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DEFAULT_SAFETY = Safety()


def catalog(*, people_prefix: str = "p", metric_alias: str = "revenue", closed: bool = True) -> Catalog:
    fields = {
        "weight": FieldDef("weight", "2", "percentage", role="weight"),
        "target": FieldDef("target", "4", "number"),
        "actual": FieldDef("actual", "5", "number"),
    }
    return Catalog(
        semesters={
            "2026-H2": SemesterDef("2026-H2", SEM),
            "2027-H1": SemesterDef("2027-H1", SEM2),
            "2026-H1": SemesterDef("2026-H1", CLOSED, closed=closed),
        },
        metrics={
            metric_alias: MetricDef(metric_alias, REV, fields),
            "nps": MetricDef("nps", NPS, dict(fields)),
        },
        people={f"{people_prefix}{i}": PersonDef(f"{people_prefix}{i}", pid) for i, pid in enumerate(PEOPLE)},
    )


def desired(values: Mapping[tuple[str, str, str, str], str], *, cat: Catalog | None = None) -> DesiredState:
    vals = {
        ValueKey(*k): DesiredValue(v, "text", f"teams/{k[0][-2:]}.yaml", i + 1, 7)
        for i, (k, v) in enumerate(values.items())
    }
    rows = {k.row: dv.source for k, dv in vals.items()}
    cat = cat or catalog()
    return DesiredState(
        values=vals,
        rows=rows,
        catalog=cat,
        closed_semesters=cat.closed_semester_ids(),
        files=tuple(sorted({dv.file for dv in vals.values()})),
    )


def state_of(
    values: Mapping[tuple[str, str, str, str], str],
    *,
    rejections: Mapping[RowKey, Rejection] = {},
    serial: int = 7,
) -> State:
    rows: dict[tuple[str, str, str], tuple[dict[str, str], int]] = {}
    per: dict[str, int] = {}
    for (s, r, m, f), v in values.items():
        rows.setdefault((s, r, m), ({}, 1))[0][f] = v
        per[s] = per.get(s, 0) + 1
    meta = StateMeta(
        format=1,
        lineage="0123456789abcdef",
        serial=serial,
        created="2026-01-01T00:00:00.000Z",
        identity=IDENT,
        next_batch=2,
    )
    batches = {1: BatchInfo(1, SEM, "2026-04-01T10:00:00.000Z", "rec-1", "b" * 40, "tok-1", "syncer bbbbbbb", 1)}
    return State(meta=meta, rows=rows, batches=batches, rejections=dict(rejections), journal={}, per_semester=per)


def plan_of(d: DesiredState, s: State | None, *, safety: Safety = DEFAULT_SAFETY, **kw: Any) -> Plan:
    return make_plan(
        d, s, PlanOptions(safety=safety, git=GIT, target=IDENT, state_location="/state", root="metrics", **kw)
    )


def k(sem: str, person: int, metric: str, field: str) -> tuple[str, str, str, str]:
    return (sem, PEOPLE[person], metric, field)


# --- the diff ---------------------------------------------------------------------------------------------


def test_create_update_forget_and_unchanged() -> None:
    d = desired({k(SEM, 0, REV, "2"): "40", k(SEM, 0, REV, "4"): "100", k(SEM, 1, REV, "2"): "60"})
    s = state_of({k(SEM, 0, REV, "2"): "40", k(SEM, 0, REV, "4"): "90", k(SEM, 2, NPS, "5"): "7"})
    p = plan_of(d, s)
    got = [(c.action, c.key, c.old, c.new) for c in p.changes]
    assert got == sorted(
        [
            ("update", ValueKey(*k(SEM, 0, REV, "4")), "90", "100"),
            ("create", ValueKey(*k(SEM, 1, REV, "2")), None, "60"),
            ("forget", ValueKey(*k(SEM, 2, NPS, "5")), "7", None),
        ],
        key=lambda t: t[1],
    )
    c = p.counts
    assert (c.values_to_create, c.values_to_update, c.values_to_forget, c.values_changed) == (1, 1, 1, 3)
    assert c.rows_to_send == 2 and c.requests_min == 1  # the forget-only row sends nothing
    assert c.values_managed == 3 and c.values_desired == 3
    update = next(ch for ch in p.changes if ch.action == "update")
    assert update.source is not None and update.source.file.endswith(".yaml") and update.batch == 1
    forget = next(ch for ch in p.changes if ch.action == "forget")
    assert forget.source is None and forget.batch == 1 and p.batches[1].import_record_id == "rec-1"
    assert p.forgotten() == (forget.key,)
    assert p.rows_by_semester() == {SEM: (RowKey(*k(SEM, 0, REV, "")[:3]), RowKey(*k(SEM, 1, REV, "")[:3]))}


def test_closed_semesters_are_left_out_of_both_sides() -> None:
    d = desired({k(CLOSED, 0, REV, "2"): "41", k(SEM, 0, REV, "2"): "40"})
    s = state_of({k(CLOSED, 0, REV, "2"): "40", k(CLOSED, 1, REV, "2"): "40", k(SEM, 0, REV, "2"): "40"})
    p = plan_of(d, s)
    assert p.empty and p.changes == ()
    assert [x.semester for x in p.semesters] == [SEM]


def test_minimum_requests_are_per_semester() -> None:
    values = {k(SEM, i, REV, "2"): "1" for i in range(51)} | {k(SEM2, 0, NPS, "2"): "1"}
    p = plan_of(desired(values), None)
    assert p.counts.rows_to_send == 52
    assert p.counts.requests_min == 3  # ceil(51/50) + ceil(1/50), not ceil(52/50)
    assert {s.semester: s.requests_min for s in p.semesters} == {SEM: 2, SEM2: 1}
    assert p.notes == ("no state at /state yet: every value is a create",)


def test_an_empty_plan_says_so() -> None:
    values = {k(SEM, 0, REV, "2"): "40"}
    p = plan_of(desired(values), state_of(values))
    assert p.empty and not p.refused
    expected = "No changes: nothing to change since the last apply (1 value managed; Feishu was not read, "
    assert summary_line(p) == expected + "`--refresh` compares with it)."


def desired_rows(values: Mapping[ValueKey, DesiredValue], rows: Iterable[RowKey]) -> dict[RowKey, dict[str, str]]:
    """The canonical desired values of some rows (field id -> value), as the state records them."""
    return {r: {f: dv.value for f, dv in fields.items()} for r, fields in desired_fields(values, rows).items()}


def test_desired_fields_give_every_field_of_a_row() -> None:
    d = desired({k(SEM, 0, REV, "2"): "40", k(SEM, 0, REV, "4"): "1", k(SEM, 1, REV, "2"): "3"})
    row = RowKey(SEM, PEOPLE[0], REV)
    assert desired_rows(d.values, [row]) == {row: {"2": "40", "4": "1"}}


# --- rejected rows ----------------------------------------------------------------------------------------


def _rejection(row: RowKey, fields: dict[str, str]) -> Rejection:
    return Rejection(row, 1580304, "2026-04-02T09:00:00.000Z", row_digest(fields), "sum of weights over 100%")


def test_a_rejected_row_is_held_back_until_its_values_change() -> None:
    row = RowKey(SEM, PEOPLE[0], REV)
    values = {k(SEM, 0, REV, "2"): "140", k(SEM, 0, REV, "4"): "1", k(SEM, 1, REV, "2"): "3"}
    rej = {row: _rejection(row, {"2": "140", "4": "1"})}
    p = plan_of(desired(values), state_of({}, rejections=rej))
    assert [c.key.reviewee for c in p.changes] == [PEOPLE[1]]
    assert len(p.quarantined) == 1
    q = p.quarantined[0]
    assert (q.row, q.code, q.date, q.values) == (row, 1580304, "2026-04-02", 2)
    assert p.counts.rows_quarantined == 1 and p.counts.values_quarantined == 2 and p.counts.values_changed == 1
    # --retry-rejected sends it again; a changed value makes it a normal change.
    assert len(plan_of(desired(values), state_of({}, rejections=rej), retry_rejected=True).changes) == 3
    fixed = dict(values) | {k(SEM, 0, REV, "2"): "40"}
    assert plan_of(desired(fixed), state_of({}, rejections=rej)).quarantined == ()


def test_a_row_held_by_a_shared_refusal_is_released_once_its_semester_accepts_other_rows() -> None:
    """A batch refused alike in every probed part stops the semester and holds its rows; if a later batch of
    that semester was accepted, the refusal was not shared after all (scattered bad rows can look shared):
    the rows are sent again, and isolated one by one if need be."""
    row = RowKey(SEM, PEOPLE[0], REV)
    values = {k(SEM, 0, REV, "2"): "40"}
    fields = {"2": "40"}
    shared = Rejection(row, 1580306, "2026-04-02T09:00:00.000Z", row_digest(fields), f"{SHARED_REFUSAL}: x")
    before = state_of({}, rejections={row: shared})  # its only batch: 2026-04-01, before the refusal
    assert plan_of(desired(values), before).quarantined
    later = BatchInfo(2, SEM, "2026-04-03T10:00:00.000Z", "rec-2", "c" * 40, "tok-2", "syncer ccccccc", 10)
    after = dataclasses.replace(before, batches={**before.batches, 2: later})
    p = plan_of(desired(values), after)
    assert p.quarantined == () and [c.key.reviewee for c in p.changes] == [PEOPLE[0]]
    assert any("the cause was not shared" in n for n in p.notes)
    lone = shared._replace(message="sum of weights over 100%")  # one bad row: held until it changes
    assert plan_of(desired(values), dataclasses.replace(after, rejections={row: lone})).quarantined


def test_held_back_rows_alone_make_an_empty_plan() -> None:
    row = RowKey(SEM, PEOPLE[0], REV)
    values = {k(SEM, 0, REV, "2"): "140"}
    p = plan_of(desired(values), state_of({}, rejections={row: _rejection(row, {"2": "140"})}))
    assert p.empty and p.quarantined
    assert "1 rejected row held back" in summary_line(p)


# --- safety -----------------------------------------------------------------------------------------------


def _managed(n: int, sem: str = SEM) -> dict[tuple[str, str, str, str], str]:
    return {k(sem, i, REV, "2"): "1" for i in range(n)}


def test_updates_over_the_ratio_are_marked_and_refused() -> None:
    base = _managed(10)
    changed = dict(base) | {k(SEM, i, REV, "2"): "2" for i in range(4)}  # 40% > 30%
    p = plan_of(desired(changed), state_of(base))
    assert p.refused and [(b.kind, b.values, b.values_managed) for b in p.breaches] == [("update", 4, 10)]
    assert len(p.changes) == 4  # never hidden
    with pytest.raises(RefusedError, match=r"updates 4 of 10 .*--force.*syncer.yaml"):
        check_safety(p, force=False)
    check_safety(p, force=True)
    forced = plan_of(desired(changed), state_of(base), force=True)
    assert forced.breaches and not forced.refused
    assert plan_of(desired(changed), state_of(base), safety=Safety(max_update_ratio=0.5)).breaches == ()


def test_forgets_over_the_ratio_are_marked() -> None:
    base = _managed(10)
    kept = {kk: v for kk, v in base.items() if kk[1] not in PEOPLE[:4]}
    p = plan_of(desired(kept), state_of(base))
    assert [(b.kind, b.values) for b in p.breaches] == [("forget", 4)]


def test_small_states_and_creates_never_trip_the_thresholds() -> None:
    base = _managed(9)
    all_changed = {kk: "2" for kk in base} | {k(SEM, 100 + i, REV, "2"): "1" for i in range(50)}
    assert plan_of(desired(all_changed), state_of(base)).breaches == ()  # 9 < min_existing
    base = _managed(10)
    creates = dict(base) | {k(SEM, 100 + i, REV, "2"): "1" for i in range(80)}
    assert plan_of(desired(creates), state_of(base)).breaches == ()


def test_exactly_at_the_ratio_passes() -> None:
    base = _managed(10)
    changed = dict(base) | {k(SEM, i, REV, "2"): "2" for i in range(3)}  # 30%: not more than 30%
    assert plan_of(desired(changed), state_of(base)).breaches == ()


# --- checksum, order, redaction, JSON ---------------------------------------------------------------------


def _shuffled(d: DesiredState, seed: int) -> DesiredState:
    items = list(d.values.items())
    random.Random(seed).shuffle(items)
    return DesiredState(
        values=dict(items), rows=d.rows, catalog=d.catalog, closed_semesters=d.closed_semesters, files=d.files
    )


def test_the_checksum_ignores_presentation_but_not_content() -> None:
    d = desired({k(SEM, 0, REV, "2"): "40", k(SEM, 1, REV, "2"): "60"})
    s = state_of({k(SEM, 0, REV, "2"): "30"})
    p = plan_of(d, s)
    assert p.checksum.startswith("sha256:") and len(p.checksum) == 71
    assert plan_of(d, s, notes=("x",), force=True).checksum == p.checksum
    assert (
        make_plan(
            d,
            s,
            PlanOptions(safety=Safety(), git=GitInfo("c" * 40, "c", True), target=IDENT, state_location="/elsewhere"),
        ).checksum
        == p.checksum
    )
    assert plan_of(d, state_of({k(SEM, 0, REV, "2"): "30"}, serial=8)).checksum != p.checksum
    assert plan_of(desired({k(SEM, 0, REV, "2"): "41", k(SEM, 1, REV, "2"): "60"}), s).checksum != p.checksum


def test_redaction_hides_every_value_and_keeps_the_checksum() -> None:
    secret, owner = "Secret note 7Q", PEOPLE[150]
    d = desired({k(SEM, 0, REV, "7"): secret, k(SEM, 0, REV, "8"): owner})
    s = state_of({k(SEM, 0, REV, "7"): "Old secret 3Z"})
    full, redacted = plan_document(plan_of(d, s), redact=False), plan_document(plan_of(d, s), redact=True)
    assert full["checksum"] == redacted["checksum"] and redacted["redacted"] is True
    text = json.dumps(redacted)
    assert secret not in text and "Old secret" not in text and owner not in text
    assert PEOPLE[0] in text  # reviewees are not field values: shown
    assert secret in json.dumps(full) and owner in json.dumps(full)


def test_the_plan_document_matches_its_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    row = RowKey(SEM, PEOPLE[3], REV)
    base = _managed(10)
    d = desired(dict(base) | {k(SEM, i, REV, "2"): "5" for i in range(5)} | {k(SEM, 3, REV, "4"): "1"})
    s = state_of(base | {k(SEM, 9, NPS, "4"): "x"}, rejections={row: _rejection(row, {"2": "5", "4": "1"})})
    for redact in (False, True):
        doc = plan_document(plan_of(d, s), redact=redact)
        assert doc["safety"]["breaches"] and doc["quarantined"] and doc["batches"]
        jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    jsonschema.Draft202012Validator(SCHEMA).validate(plan_document(plan_of(d, None), redact=False))


def _walk(schema: Any, path: str = "#") -> list[str]:
    missing = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            if not ({"title", "description"} <= sub.keys()):
                missing.append(f"{path}/properties/{name}")
        for key, sub in schema.items():
            missing += _walk(sub, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            missing += _walk(sub, f"{path}/{i}")
    return missing


def test_every_schema_property_has_a_title_and_description() -> None:
    assert SCHEMA["$id"] == schema_url("plan.schema.json")
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _walk(SCHEMA) == []


# --- properties -------------------------------------------------------------------------------------------

key_strategy = st.tuples(
    st.sampled_from([SEM, SEM2, CLOSED]),
    st.integers(0, 5),
    st.sampled_from([REV, NPS]),
    st.sampled_from(["2", "4", "5"]),
).map(lambda t: k(t[0], t[1], t[2], t[3]))
values_strategy = st.dictionaries(key_strategy, st.sampled_from(["1", "2", "40", "x y", "<b>", ""]), max_size=25)


def _apply(plan: Plan, d: DesiredState, path: Path) -> State:
    """What apply does with a plan: send changed rows whole, record them, forget what is gone."""
    store = LocalStateStore(path, clock=lambda: T0)
    store.lock()
    if not store.exists():
        store.create(IDENT)
    sendable = desired_rows(d.values, [r for rows in plan.rows_by_semester().values() for r in rows])
    for sem, rows in plan.rows_by_semester().items():
        for i in range(0, len(rows), 50):
            chunk = rows[i : i + 50]
            store.record_batch(
                BatchRecord(sem, f"tok-{sem}-{i}", "rec", GIT.commit, "n", T0, {r: sendable[r] for r in chunk})
            )
    store.forget(plan.forgotten())
    store.compact()
    store.unlock()
    loaded = store.load()
    assert loaded is not None
    return loaded


@settings(max_examples=60, deadline=None)
@given(before=values_strategy, after=values_strategy)
def test_planning_again_after_applying_is_empty(
    before: dict[tuple[str, str, str, str], str], after: dict[tuple[str, str, str, str], str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state"
        first = desired(before, cat=catalog(closed=False))  # 2026-H1 still open: its values are applied
        state = _apply(plan_of(first, None), first, path)
        assert plan_of(first, state).empty
        second = desired(after)  # now 2026-H1 is closed
        state = _apply(plan_of(second, state), second, path)
        again = plan_of(second, state)
        assert again.empty, [c for c in again.changes]
        # A closed semester keeps what it had: out of every plan, never forgotten, never updated.
        closed_before = {ValueKey(*kk): v for kk, v in before.items() if kk[0] == CLOSED}
        assert {x: v for x, (v, _) in state.iter_values() if x.semester == CLOSED} == closed_before


@settings(max_examples=60, deadline=None)
@given(values=values_strategy, managed=values_strategy, seed=st.integers(0, 1000))
def test_checksum_is_stable_under_file_order_and_redaction(
    values: dict[tuple[str, str, str, str], str], managed: dict[tuple[str, str, str, str], str], seed: int
) -> None:
    d, s = desired(values), state_of(managed)
    p = plan_of(d, s)
    shuffled = plan_of(_shuffled(d, seed), s)
    assert shuffled.changes == p.changes and shuffled.checksum == p.checksum
    assert plan_document(p, redact=True)["checksum"] == plan_document(p, redact=False)["checksum"] == p.checksum
    keys = [c.key for c in p.changes]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@settings(max_examples=40, deadline=None)
@given(values=values_strategy, managed=values_strategy)
def test_renaming_aliases_changes_nothing(
    values: dict[tuple[str, str, str, str], str], managed: dict[tuple[str, str, str, str], str]
) -> None:
    p = plan_of(desired(values), state_of(managed))
    renamed = plan_of(desired(values, cat=catalog(people_prefix="person-", metric_alias="sales")), state_of(managed))
    assert renamed.changes == p.changes and renamed.checksum == p.checksum and renamed.counts == p.counts
    doc_a, doc_b = plan_document(p, redact=False), plan_document(renamed, redact=False)
    doc_a.pop("names"), doc_b.pop("names")
    assert doc_a == doc_b


def test_the_plan_names_the_people_it_shows_and_only_them() -> None:
    """Names hold an alias for each reviewee and each person ID among the old and new values that the
    catalog knows, none for the people the plan does not show, and none for a person known by email only
    (no ID yet), whatever the values hold (None for a create's old value)."""
    cat = catalog()
    people = {**cat.people, "pending": PersonDef("pending", None, "pending@example.com")}
    cat = dataclasses.replace(cat, people=people)
    values = {k(SEM, 0, REV, "2"): "40", k(SEM, 1, REV, "2"): PEOPLE[5], k(SEM, 2, REV, "2"): "x"}
    p = plan_of(desired(values, cat=cat), state_of({k(SEM, 2, REV, "2"): PEOPLE[7]}))
    assert p.names.people == {PEOPLE[i]: f"p{i}" for i in (0, 1, 2, 5, 7)}
