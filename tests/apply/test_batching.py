"""Batching: rows -> import requests, by example and by hypothesis with tiny limits."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.apply.batching import (
    KEEP,
    LOWER,
    RAISE,
    ChangedRow,
    ImportRequest,
    build_requests,
    id_sort_key,
    plan_requests,
    weight_direction,
)
from syncer.model import Catalog, DesiredValue, FieldDef, FieldType, Identity, MetricDef, RowKey, request_count
from syncer.state.model import State, StateMeta

REVENUE = "7272580325522276372"
OWNER = "7283776005142675476"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
H2 = "7293040702907514899"


def metric(metric_id: str, alias: str) -> MetricDef:
    return MetricDef(
        alias=alias,
        id=metric_id,
        fields={
            "weight": FieldDef("weight", "2", "percentage", role="weight"),
            "target": FieldDef("target", "4", "number"),
            "actual": FieldDef("actual", "5", "number"),
            "note": FieldDef("note", "7", "text"),
            "owner": FieldDef("owner", OWNER, "person"),
            "ten": FieldDef("ten", "10", "number"),
        },
    )


METRIC_IDS = [REVENUE, "11", "12", "13", "14", "15"]
CATALOG = Catalog(metrics={f"m{i}": metric(mid, f"m{i}") for i, mid in enumerate(METRIC_IDS)})
TYPES: dict[str, FieldType] = {f.id: f.type for f in metric("0", "x").fields.values()}


def dv(value: str, field_id: str) -> DesiredValue:
    return DesiredValue(value, TYPES[field_id], "data/a.yaml", 1, 1)


def row(values: dict[str, str], last_weight: str | None = None) -> ChangedRow:
    return ChangedRow({fid: dv(v, fid) for fid, v in values.items()}, last_weight)


def test_item_shape_percentages_persons_and_field_order() -> None:
    rows = {
        RowKey(H2, ALICE, REVENUE): row(
            {OWNER: BOB, "7": "多行\n文本", "10": "3", "2": "40", "4": "1200000", "5": "0012"}
        )
    }
    [request] = build_requests(rows, catalog=CATALOG, percentage_format="40%")
    assert request == ImportRequest(H2, 0, (RowKey(H2, ALICE, REVENUE),), request.items)
    assert request.items[0] == {
        "reviewee_user_id": ALICE,
        "metric_id": REVENUE,
        "fields": [
            {"field_id": "2", "field_value": "40%"},
            {"field_id": "4", "field_value": "1200000"},
            {"field_id": "5", "field_value": "0012"},
            {"field_id": "7", "field_value": "多行\n文本"},
            {"field_id": "10", "field_value": "3"},
            {"field_id": OWNER, "field_value": BOB, "field_value_person": BOB},
        ],
    }
    [bare] = build_requests(rows, catalog=CATALOG, percentage_format="40")
    assert bare.items[0]["fields"][0] == {"field_id": "2", "field_value": "40"}
    assert request.body(import_record_name="syncer abc") == {
        "semester_id": H2,
        "import_record_name": "syncer abc",
        "imported_metrics": list(request.items),
    }


def test_packing_counts() -> None:
    rows = {RowKey(H2, f"ou_{i:032x}", REVENUE): row({"4": str(i)}) for i in range(120)}
    rows |= {RowKey("10", ALICE, m): row({"4": "1"}) for m in METRIC_IDS}
    requests = build_requests(rows, catalog=CATALOG, percentage_format="40%")
    assert [(r.semester_id, r.seq, len(r.items)) for r in requests] == [
        ("10", 0, 6),
        (H2, 0, 50),
        (H2, 1, 50),
        (H2, 2, 20),
    ]
    assert request_count(120) == 3 and request_count(0) == 0 and request_count(50) == 1
    assert request_count(7, batch_size=2) == 4


def test_lowering_goes_first_within_a_reviewee() -> None:
    rows = {
        RowKey(H2, ALICE, "11"): row({"2": "50"}, last_weight="20"),  # raise
        RowKey(H2, ALICE, "12"): row({"2": "30"}),  # create: counts as a raise
        RowKey(H2, ALICE, "13"): row({"4": "1"}, last_weight="10"),  # weight untouched
        RowKey(H2, ALICE, "14"): row({"2": "10"}, last_weight="60"),  # lower
        RowKey(H2, BOB, "11"): row({"2": "10%"}, last_weight="10"),  # same
    }
    requests = build_requests(rows, catalog=CATALOG, percentage_format="40%", batch_size=1)
    assert [(r.rows[0].reviewee, r.rows[0].metric) for r in requests] == [
        (BOB, "11"),  # reviewees in ID order: "ou_0a..." < "ou_32..."
        (ALICE, "14"),  # lowers
        (ALICE, "13"),  # keeps
        (ALICE, "11"),  # raises
        (ALICE, "12"),  # creates
    ]


def test_weight_direction() -> None:
    assert weight_direction("30", "60") == LOWER
    assert weight_direction("60", "30") == RAISE
    assert weight_direction("30.0", "30") == KEEP
    assert weight_direction("30%", "30") == KEEP
    assert weight_direction("30", None) == RAISE
    assert weight_direction(None, "30") == KEEP
    assert weight_direction("x", "30") == RAISE


def test_id_sort_key() -> None:
    assert sorted(["10", "2", "7283776005142675476", "abc", "02"], key=id_sort_key) == [
        "02",
        "2",
        "10",
        "7283776005142675476",
        "abc",
    ]


@pytest.mark.parametrize(
    ("rows", "options", "match"),
    [
        ({RowKey(H2, ALICE, "999"): row({"4": "1"})}, {}, "metric 999"),
        ({RowKey(H2, ALICE, REVENUE): ChangedRow({"3": dv("1", "4")})}, {}, "field 3"),
        ({RowKey(H2, ALICE, REVENUE): ChangedRow({})}, {}, "fields"),
        ({RowKey(H2, ALICE, REVENUE): row({"4": "1", "5": "2", "7": "x"})}, {"max_fields": 2}, "3 fields"),
        ({}, {"percentage_format": "40 %"}, "percentage_format"),
        ({}, {"batch_size": 51}, "batch_size"),
        ({}, {"batch_size": 0}, "batch_size"),
        ({}, {"max_fields": 100}, "max_fields"),
    ],
)
def test_refused_inputs(rows: dict[RowKey, ChangedRow], options: dict[str, object], match: str) -> None:
    kwargs: dict[str, object] = {"catalog": CATALOG, "percentage_format": "40%", **options}
    with pytest.raises(ValueError, match=match):
        build_requests(rows, **kwargs)  # type: ignore[arg-type]


def test_empty() -> None:
    assert build_requests({}, catalog=CATALOG, percentage_format="40") == []


# --- properties -----------------------------------------------------------------------------------------

FIELD_IDS = ["2", "4", "5", "7", OWNER, "10"]
weights = st.integers(0, 100).map(str)
row_values = st.dictionaries(
    st.sampled_from(FIELD_IDS), st.sampled_from(["1", "2.5", "7", "40"]), min_size=1, max_size=6
).flatmap(
    lambda values: st.builds(
        lambda w, keep: {**values, "2": w} if keep else {k: v for k, v in values.items() if k != "2"} or values,
        weights,
        st.booleans(),
    )
)
changed_rows = st.dictionaries(
    st.builds(
        RowKey,
        st.sampled_from(["1", "2", "10", H2]),
        st.sampled_from([ALICE, BOB, "ou_c", "ou_d", "u_e"]),
        st.sampled_from(METRIC_IDS),
    ),
    st.builds(lambda values, last: row(values, last), row_values, st.none() | weights),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(changed_rows, st.integers(1, 7), st.sampled_from(["40%", "40"]))
def test_batching_properties(rows: dict[RowKey, ChangedRow], batch_size: int, fmt: str) -> None:
    requests = build_requests(rows, catalog=CATALOG, percentage_format=fmt, batch_size=batch_size)

    # every row exactly once, each item the row it claims to be
    sent = [key for r in requests for key in r.rows]
    assert Counter(sent) == Counter(rows.keys())
    for r in requests:
        assert len(r.rows) == len(r.items)
        for key, item in zip(r.rows, r.items, strict=True):
            assert key.semester == r.semester_id
            assert (item["reviewee_user_id"], item["metric_id"]) == (key.reviewee, key.metric)
            field_ids = [f["field_id"] for f in item["fields"]]
            assert field_ids == sorted(rows[key].values, key=id_sort_key)
            assert 1 <= len(field_ids) <= 99 and len(set(field_ids)) == len(field_ids)

    # limits and exact request counts, per semester, in semester order with consecutive seq numbers
    per_semester = Counter(k.semester for k in rows)
    assert [r.semester_id for r in requests] == sorted((r.semester_id for r in requests), key=id_sort_key)
    for semester, n in per_semester.items():
        mine = [r for r in requests if r.semester_id == semester]
        assert len(mine) == math.ceil(n / batch_size) == request_count(n, batch_size=batch_size)
        assert [r.seq for r in mine] == list(range(len(mine)))
        assert all(1 <= len(r.items) <= min(batch_size, 50) for r in mine)
        assert all(len(r.items) == batch_size for r in mine[:-1])  # full batches

    # no duplicate (reviewee, metric) inside a request (1580307)
    for r in requests:
        assert len({(k.reviewee, k.metric) for k in r.rows}) == len(r.rows)

    # within a reviewee, lowering rows go no later than raising rows
    position = {key: i for i, r in enumerate(requests) for key in r.rows}
    direction = {
        key: weight_direction(c.values["2"].value if "2" in c.values else None, c.last_weight)
        for key, c in rows.items()
    }
    for low in (k for k, d in direction.items() if d == LOWER):
        for high in (k for k, d in direction.items() if d == RAISE):
            if (low.semester, low.reviewee) == (high.semester, high.reviewee):
                assert position[low] <= position[high]

    # deterministic: the input order does not matter
    assert (
        build_requests(
            dict(reversed(list(rows.items()))), catalog=CATALOG, percentage_format=fmt, batch_size=batch_size
        )
        == requests
    )


@settings(max_examples=50, deadline=None)
@given(changed_rows)
def test_default_limits_are_the_api_limits(rows: dict[RowKey, ChangedRow]) -> None:
    for r in build_requests(rows, catalog=CATALOG, percentage_format="40%"):
        assert 1 <= len(r.items) <= 50
        assert all(1 <= len(item["fields"]) <= 99 for item in r.items)


weighted_rows = st.dictionaries(
    st.builds(RowKey, st.just("1"), st.sampled_from([ALICE, BOB]), st.sampled_from(METRIC_IDS)),
    st.builds(lambda w, last: row({"2": w, "4": "1"}, last), weights, st.none() | weights),
    min_size=2,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(weighted_rows, st.integers(1, 3))
def test_lowering_rows_never_come_after_raising_rows(rows: dict[RowKey, ChangedRow], batch_size: int) -> None:
    requests = build_requests(rows, catalog=CATALOG, percentage_format="40%", batch_size=batch_size)
    position = {key: i for i, r in enumerate(requests) for key in r.rows}
    for low, c in rows.items():
        if weight_direction(c.values["2"].value, c.last_weight) != LOWER:
            continue
        for high, h in rows.items():
            if high.reviewee == low.reviewee and weight_direction(h.values["2"].value, h.last_weight) == RAISE:
                assert position[low] <= position[high]


def _state_with_weight(key: RowKey, weight: str) -> State:
    meta = StateMeta(
        format=1,
        lineage="0123456789abcdef",
        serial=1,
        created="2026-01-01T00:00:00.000Z",
        identity=Identity("open.feishu.cn", "cli_x", "open_id"),
    )
    rows = {(key.semester, key.reviewee, key.metric): ({"2": weight}, 1)}
    return State(meta=meta, rows=rows, batches={}, rejections={}, journal={}, per_semester={key.semester: 1})


def test_plan_requests_orders_weights_by_what_the_state_last_applied() -> None:
    """A plan's rows go out with the weight the state last applied to each: a row lowering its weight
    (40% -> 10%) goes before a create of the same reviewee, whatever the metric IDs say."""
    cut = RowKey(H2, ALICE, REVENUE)
    create = RowKey(H2, ALICE, "15")
    by_row = {create: {"2": dv("30", "2")}, cut: {"2": dv("10", "2")}}
    [request] = plan_requests(by_row, _state_with_weight(cut, "40"), catalog=CATALOG, percentage_format="40%")
    assert request.rows == (cut, create)
    [unknown] = plan_requests(by_row, None, catalog=CATALOG, percentage_format="40%")
    assert unknown.rows == (create, cut)  # no state: both are raises, by metric ID
