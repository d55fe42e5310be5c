"""The read endpoints: shapes, paging, filters, user ID types and their errors."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from syncer.emulator import Emulator, ManualClock, Tenant

from .helpers import (
    ALICE,
    BOB,
    FORMER,
    GRACE,
    H1,
    H2,
    NPS,
    OUTSIDE,
    OWNER,
    PENDING,
    REVENUE,
    TARGET,
    Api,
    code_of,
    field,
    item,
    make_api,
)

FIELDS = "/open-apis/performance/v2/metric_fields/query"
LIBS = "/open-apis/performance/v2/metric_libs/query"
REVIEWEES = "/open-apis/performance/v2/reviewees/query"
SEMESTERS = "/open-apis/performance/v1/semesters"
BATCH_GET_ID = "/open-apis/contact/v3/users/batch_get_id"


def data(resp: Any) -> Any:
    body = resp.json()
    assert resp.status_code == 200 and body["code"] == 0, body
    assert body["msg"] == "success"
    return body["data"]


# -- metric_details/query ------------------------------------------------------------------------------


def test_metric_details_query_returns_what_was_imported(api: Api) -> None:
    api.import_(item(ALICE, REVENUE, field(TARGET, "1000"), field(OWNER, person=BOB)))
    d = data(api.query(ALICE, BOB))
    assert d["semester_id"] == H2
    alice = [m for m in d["reviewee_metrics"] if m["reviewee_user_id"]["open_id"] == ALICE]
    revenue = next(m["metric_details"] for m in alice if m["metric_details"]["metric_id"] == REVENUE)
    assert revenue["fields"] == [
        {"field_id": TARGET, "field_value": "1000"},
        {
            "field_id": OWNER,
            "field_value_person": {"open_id": BOB, "user_id": BOB},  # user_id: the ID of the requested type
        },
    ]
    assert revenue["name"] == "Revenue"
    assert set(revenue) == {
        "metric_id", "name", "fields", "dimension_id", "dimension_name", "dimension_weight", "add_from",
        "is_from_library",
    }  # fmt: skip
    assert alice[0]["metric_template_id"] == "7300000000000000001"
    assert alice[0]["reviewee_stage_statuses"] == []
    bob_nps = next(
        m
        for m in d["reviewee_metrics"]
        if m["reviewee_user_id"]["open_id"] == BOB and m["metric_details"]["metric_id"] == NPS
    )
    assert bob_nps["metric_details"]["fields"] == []  # in the template, nothing stored


@pytest.mark.parametrize("uid_type", ["open_id", "union_id", "user_id", "people_admin_id"])
def test_metric_details_query_names_users_as_documented_under_every_user_id_type(api: Api, uid_type: str) -> None:
    """The documented user object: {open_id, user_id}, `user_id` holding the ID of the requested type."""
    alice, bob = api.emu.tenant.users[ALICE], api.emu.tenant.users[BOB]
    api.import_(item(ALICE, REVENUE, field(OWNER, person=BOB)))
    d = data(api.query(alice.id_of(uid_type), user_id_type=uid_type))
    first = d["reviewee_metrics"][0]
    assert first["reviewee_user_id"] == {"open_id": ALICE, "user_id": alice.id_of(uid_type)}
    person = first["metric_details"]["fields"][0]["field_value_person"]
    assert person == {"open_id": BOB, "user_id": bob.id_of(uid_type)}


@pytest.mark.parametrize("uid_type", ["open_id", "union_id", "user_id", "people_admin_id"])
def test_the_typed_key_reading_adds_a_key_named_after_the_type_and_keeps_the_employee_id(
    tenant: Tenant, clock: ManualClock, uid_type: str
) -> None:
    api = Api(Emulator(tenant.with_switches(user_object="typed_key"), clock=clock, sleep=clock.sleep))
    alice = tenant.users[ALICE]
    d = data(api.query(alice.id_of(uid_type), user_id_type=uid_type))
    named = d["reviewee_metrics"][0]["reviewee_user_id"]
    typed = {uid_type: alice.id_of(uid_type)} if uid_type in ("union_id", "people_admin_id") else {}
    assert named == {"open_id": ALICE, "user_id": alice.user_id, **typed}


def test_metric_details_query_leaves_out_unknown_and_unenrolled(api: Api) -> None:
    d = data(api.query("ou_ffffffffffffffffffffffffffffffff", GRACE, ALICE, ALICE))
    assert {m["reviewee_user_id"]["open_id"] for m in d["reviewee_metrics"]} == {ALICE}
    assert len(d["reviewee_metrics"]) == 2  # alice's two metrics, once


def test_metric_details_query_errors(api: Api) -> None:
    assert code_of(api.query(OUTSIDE)) == 1580112
    assert code_of(api.query(ALICE, semester="1")) == 1580105
    assert code_of(api.query()) == 1580102
    assert code_of(api.query(*[ALICE] * 51)) == 1580102
    assert code_of(api.query(ALICE, user_id_type="email")) == 1580102
    bad = api.call("POST", "/open-apis/performance/v2/metric_details/query", json={"reviewee_user_ids": [ALICE]})
    assert code_of(bad) == 1580102 and bad.status_code == 400
    assert data(api.query(ALICE, semester=H1))["reviewee_metrics"]  # a past semester still reads


# -- metric_fields/query -------------------------------------------------------------------------------


def test_metric_fields_query(api: Api) -> None:
    everything = data(api.call("POST", FIELDS, json={}))["items"]
    assert {f["field_id"] for f in everything} >= {"2", "4", OWNER}
    weight = next(f for f in everything if f["field_id"] == "2")
    assert weight == {"field_id": "2", "name": {"zh_cn": "权重", "en_us": "Weight"}, "type": "pencentage"}
    some = data(api.call("POST", FIELDS, json={"field_ids": [OWNER, "999"]}))["items"]
    assert some == [{"field_id": OWNER, "name": {"zh_cn": "负责人", "en_us": "Owner"}, "type": "person"}]
    assert code_of(api.call("POST", FIELDS, json={"field_ids": ["1"] * 51})) == 1580102
    assert code_of(api.call("POST", FIELDS, json={"field_ids": "2"})) == 1580102


# -- metric_libs/query ---------------------------------------------------------------------------------


def collect(api: Api, path: str, key: str, body: dict[str, Any], page_size: int) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"page_size": page_size}
        if token:
            params["page_token"] = token
        d = data(api.call("POST", path, params=params, json=body))
        items += d[key]
        if not d["has_more"]:
            assert "page_token" not in d
            return items
        token = d["page_token"]
    raise AssertionError("paging never ended")


def test_metric_libs_query_pages_through_the_library(api: Api) -> None:
    metrics = collect(api, LIBS, "items", {}, page_size=2)
    ids = [m["metric_id"] for m in metrics]
    assert ids == [m.metric_id for m in api.emu.tenant.metrics.values() if not m.old_version]
    csat = next(m for m in metrics if m["metric_id"] == "7272580325522276404")
    assert {"field_id": "7283776005142675480", "input_setting": "admin"} in csat["fields"]
    assert set(csat) >= {
        "metric_id",
        "name",
        "type_id",
        "tags",
        "fields",
        "scoring_setting_type",
        "is_active",
    }


def test_metric_libs_query_filters_and_errors(api: Api) -> None:
    assert data(api.call("POST", LIBS, json={"is_active": False}))["items"] == []
    assert len(data(api.call("POST", LIBS, json={"is_active": True}))["items"]) == 5
    assert code_of(api.call("POST", LIBS, params={"page_size": 0}, json={})) == 99992402  # the gateway's check
    too_big = api.call("POST", LIBS, params={"page_size": 51}, json={})
    assert code_of(too_big) == 99992402 and too_big.json()["error"]["field_violations"][0]["field"] == "page_size"
    assert code_of(api.call("POST", REVIEWEES, params={"page_size": 51}, json={"semester_id": H2})) == 99992402
    assert code_of(api.call("POST", LIBS, params={"page_token": "nonsense!"}, json={})) == 1580102
    assert code_of(api.call("POST", LIBS, json={"is_active": "yes"})) == 1580102


# -- reviewees/query -----------------------------------------------------------------------------------


def test_reviewees_query_pages_and_hides_out_of_scope(api: Api) -> None:
    reviewees = collect(api, REVIEWEES, "reviewees", {"semester_id": H2}, page_size=7)
    ids = [r["reviewee_user_id"]["open_id"] for r in reviewees]
    enrolled = list(api.emu.tenant.semesters[H2].reviewees)
    assert ids == [i for i in enrolled if i != OUTSIDE]
    assert PENDING in ids  # enrolled even if the project has not started
    assert set(reviewees[0]) == {"reviewee_user_id", "activity_ids", "reviewprofile_url"}


def test_reviewees_query_filters_and_errors(api: Api) -> None:
    bob = api.emu.tenant.users[BOB]
    d = data(
        api.call(
            "POST",
            REVIEWEES,
            params={"user_id_type": "union_id"},
            json={"semester_id": H2, "user_ids": [bob.union_id]},
        )
    )
    assert d["semester_id"] == H2
    assert d["reviewees"][0]["reviewee_user_id"] == {"open_id": BOB, "user_id": bob.union_id}
    assert code_of(api.call("POST", REVIEWEES, json={})) == 1580102
    assert code_of(api.call("POST", REVIEWEES, json={"semester_id": "42"})) == 1580105
    assert len(data(api.call("POST", REVIEWEES, json={"semester_id": H1}))["reviewees"]) == 4


def test_reviewees_query_takes_at_most_50_user_ids(api: Api) -> None:
    """Documented: user_ids holds at most 50 IDs. The code of a longer list is the emulator's guess (1580102,
    as for the other over-long lists of a body)."""
    fifty = data(api.call("POST", REVIEWEES, json={"semester_id": H2, "user_ids": [BOB] * 50}))
    assert [r["reviewee_user_id"]["open_id"] for r in fifty["reviewees"]] == [BOB]
    over = api.call("POST", REVIEWEES, json={"semester_id": H2, "user_ids": [BOB] * 51})
    assert code_of(over) == 1580102 and over.json()["error"]["field_violations"][0]["field"] == "user_ids"


# -- v1 semesters --------------------------------------------------------------------------------------


def test_semesters(api: Api) -> None:
    items = data(api.call("GET", SEMESTERS))["items"]
    assert [s["id"] for s in items] == [H2, H1]
    h2 = items[0]
    assert h2["name"] == {"zh-CN": "2026 下半年", "en-US": "2026 H2"}  # the documentation's example keys
    assert h2["progress"] == "enabled" and h2["type"] == "second_half" and h2["year"] == 2026
    assert isinstance(h2["start_time"], str) and h2["start_time"].isdigit()
    assert "input_deadline" not in h2  # no endpoint returns the deadline
    assert [s["id"] for s in data(api.call("GET", SEMESTERS, params={"type": "first_half"}))["items"]] == [H1]
    assert data(api.call("GET", SEMESTERS, params={"year": "2025"}))["items"] == []
    assert code_of(api.call("GET", SEMESTERS, params={"year": "last"})) == 1580102


def test_semesters_in_the_sdk_models_reading_key_names_zh_cn_and_give_times_as_integers(
    tenant: Tenant, clock: ManualClock
) -> None:
    api = make_api(tenant.with_switches(semester_names="zh_cn", semester_times="int"), clock)
    h2 = data(api.call("GET", SEMESTERS))["items"][0]
    assert h2["name"] == {"zh_cn": "2026 下半年", "en_us": "2026 H2"}
    assert (
        isinstance(h2["start_time"], int)
        and str(h2["start_time"]) == data(make_api(tenant, clock).call("GET", SEMESTERS))["items"][0]["start_time"]
    )


@pytest.mark.parametrize(
    ("uid_type", "code"), [("open_id", 0), ("union_id", 0), ("user_id", 0), ("people_admin_id", 99992402)]
)
def test_semesters_take_the_three_documented_user_id_types_only(api: Api, uid_type: str, code: int) -> None:
    assert code_of(api.call("GET", SEMESTERS, params={"user_id_type": uid_type})) == code


def test_semesters_without_licence(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(dataclasses.replace(tenant, licence=False), clock)
    for resp in (api.call("GET", SEMESTERS), api.query(ALICE), api.call("POST", LIBS, json={})):
        assert resp.status_code == 400 and code_of(resp) == 1580901


# -- contact batch_get_id ------------------------------------------------------------------------------


def test_batch_get_id(api: Api) -> None:
    bob = api.emu.tenant.users[BOB]
    body = {
        "emails": [
            "BOB@example.com",
            "nobody@example.com",
            "former.employee@example.com",
            "outside.scope@example.com",
        ]
    }
    users = data(api.call("POST", BATCH_GET_ID, params={"user_id_type": "user_id"}, json=body))["user_list"]
    assert users[0]["user_id"] == bob.user_id and users[0]["status"]["is_resigned"] is False
    assert [("user_id" in u) for u in users] == [True, False, False, False]  # unknown, resigned, out of scope
    with_resigned = {**body, "include_resigned": True}
    users = data(api.call("POST", BATCH_GET_ID, json=with_resigned))["user_list"]
    assert users[2]["user_id"] == FORMER and users[2]["status"]["is_resigned"] is True
    by_mobile = data(api.call("POST", BATCH_GET_ID, json={"mobiles": [bob.mobile]}))["user_list"]
    assert by_mobile == [{"mobile": bob.mobile, "user_id": BOB, "status": users[0]["status"]}]


def test_batch_get_id_errors(api: Api) -> None:
    for params, body in [
        ({"user_id_type": "people_admin_id"}, {"emails": ["bob@example.com"]}),
        ({}, {}),
        ({}, {"emails": ["a@b.c"] * 51}),
        ({}, {"emails": ["bob@example.com"], "include_resigned": "yes"}),
    ]:
        resp = api.call("POST", BATCH_GET_ID, params=params, json=body)
        assert resp.status_code == 400 and code_of(resp) == 99992402, (params, body)
