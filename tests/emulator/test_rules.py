"""Every documented rule of metric_details/import, each provoked, with its code and HTTP status."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from syncer.emulator import Emulator, ManualClock, Tenant

from .helpers import (
    ACTUAL,
    ALICE,
    BOB,
    CALIBRATION,
    CHEN,
    CSAT,
    DEV,
    GRACE,
    H1,
    H2,
    INCIDENTS,
    NOTE,
    NPS,
    OLD_METRIC,
    OTD,
    OUTSIDE,
    OWNER,
    PENDING,
    REVENUE,
    TANG,
    TARGET,
    UNIT,
    WEIGHT,
    Api,
    code_of,
    field,
    item,
    make_api,
)

OK_ITEM = item(ALICE, REVENUE, field(TARGET, "1000"))


def assert_rejected(resp: Any, code: int, status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert body["msg"]
    assert body["data"] == {}


def test_the_seed_pages_exact_request_succeeds(api: Api) -> None:
    from .helpers import SEED_BODY

    resp = api.call(
        "POST",
        "/open-apis/performance/v2/metric_details/import",
        params={"client_token": "12454646", "user_id_type": "open_id"},
        json=SEED_BODY,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["code"] == 0 and body["msg"] == "success"
    record_id = body["data"]["import_record_id"]
    assert isinstance(record_id, str) and len(record_id) == 19 and record_id.isdigit()
    assert api.stored(ALICE, REVENUE) == {OWNER: ALICE}


def test_an_accepted_import_is_kept_as_an_import_record(api: Api, clock: ManualClock) -> None:
    resp = api.import_(
        item(ALICE, REVENUE, field(WEIGHT, "60%"), field(OWNER, person=BOB)),
        item(BOB, NPS, field(TARGET, "45")),
        client_token="tok-1",
        name="syncer abc1234",
    )
    rid = resp.json()["data"]["import_record_id"]
    [record] = api.emu.import_records()
    assert record.import_record_id == rid
    assert record.name == "syncer abc1234"
    assert record.created_at == int(clock() * 1000)
    assert record.client_token == "tok-1"
    assert [(r.reviewee_user_id, r.metric_id) for r in record.rows] == [(ALICE, REVENUE), (BOB, NPS)]
    assert record.rows[0].fields[1].field_value_person == BOB
    second = api.import_(item(CHEN, NPS, field(TARGET, "1"))).json()["data"]["import_record_id"]
    assert int(second) > int(rid)
    assert api.emu.import_records()[1].name == "API录入"  # the documented default


# -- 1580102: parameters -------------------------------------------------------------------------------

BAD_BODIES: dict[str, Any] = {
    "semester_id missing": {"imported_metrics": [OK_ITEM]},
    "semester_id a number": {"semester_id": int(H2), "imported_metrics": [OK_ITEM]},
    "semester_id not an ID": {"semester_id": "2026-H2", "imported_metrics": [OK_ITEM]},
    "import_record_name a number": {
        "semester_id": H2,
        "import_record_name": 5,
        "imported_metrics": [OK_ITEM],
    },
    "imported_metrics missing": {"semester_id": H2},
    "imported_metrics an object": {"semester_id": H2, "imported_metrics": OK_ITEM},
    "imported_metrics empty": {"semester_id": H2, "imported_metrics": []},
    "51 metrics": {"semester_id": H2, "imported_metrics": [OK_ITEM] * 51},
    "item not an object": {"semester_id": H2, "imported_metrics": ["x"]},
    "reviewee missing": {
        "semester_id": H2,
        "imported_metrics": [{"metric_id": REVENUE, "fields": [field(TARGET, "1")]}],
    },
    "reviewee a number": {"semester_id": H2, "imported_metrics": [item(7, REVENUE, field(TARGET, "1"))]},  # type: ignore[arg-type]
    "metric_id missing": {
        "semester_id": H2,
        "imported_metrics": [{"reviewee_user_id": ALICE, "fields": [field(TARGET, "1")]}],
    },
    "metric_id a number": {
        "semester_id": H2,
        "imported_metrics": [item(ALICE, int(REVENUE), field(TARGET, "1"))],  # type: ignore[arg-type]
    },
    "fields missing": {
        "semester_id": H2,
        "imported_metrics": [{"reviewee_user_id": ALICE, "metric_id": REVENUE}],
    },
    "fields empty": {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE)]},
    "100 fields": {
        "semester_id": H2,
        "imported_metrics": [item(ALICE, REVENUE, *[field(TARGET, "1")] * 100)],
    },
    "field not an object": {"semester_id": H2, "imported_metrics": [{**OK_ITEM, "fields": ["4"]}]},
    "field_id missing": {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, {"field_value": "1"})]},
    "field_value a number": {
        "semester_id": H2,
        "imported_metrics": [item(ALICE, REVENUE, {"field_id": TARGET, "field_value": 1})],
    },
    "field_value_person a list": {
        "semester_id": H2,
        "imported_metrics": [item(ALICE, REVENUE, {"field_id": OWNER, "field_value_person": [ALICE]})],
    },
    "body a list": [OK_ITEM],
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_1580102_bad_bodies(api: Api, case: str) -> None:
    assert_rejected(api.import_(body=BAD_BODIES[case]), 1580102)
    assert api.emu.values(H2) == [v for v in api.emu.values(H2) if v.source == "admin"]


def test_1580102_body_not_json(api: Api) -> None:
    resp = api.call(
        "POST", "/open-apis/performance/v2/metric_details/import", params={"client_token": "x"}, content=b"{"
    )
    assert_rejected(resp, 1580102)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({}, "client_token missing"),
        ({"client_token": ""}, "client_token empty"),
        ({"client_token": "x" * 65}, "client_token over 64"),
        ({"client_token": "x", "user_id_type": "email"}, "unknown user_id_type"),
    ],
)
def test_1580102_bad_query(api: Api, params: dict[str, str], why: str) -> None:
    body = {"semester_id": H2, "imported_metrics": [OK_ITEM]}
    resp = api.call("POST", "/open-apis/performance/v2/metric_details/import", params=params, json=body)
    assert_rejected(resp, 1580102)
    assert resp.json()["error"]["field_violations"][0]["field"] in ("client_token", "user_id_type"), why


def test_the_limits_themselves_are_accepted(api: Api) -> None:
    assert code_of(api.import_(OK_ITEM, client_token="x" * 64)) == 0
    reviewees = [v.reviewee_user_id for v in api.emu.tenant.semesters[H2].reviewees.values()][:30]
    fifty = []
    for r in reviewees:
        tpl = api.emu.tenant.templates[api.emu.tenant.semesters[H2].reviewees[r].metric_template_id]
        fifty += [item(r, m, field(TARGET, "1")) for m in tpl.metric_ids]
    assert code_of(api.import_(*fifty[:50])) == 0
    # 99 fields pass the size check (and then fail on content: a field twice)
    assert code_of(api.import_(item(ALICE, REVENUE, *[field(TARGET, "1")] * 99))) == 1580308


# -- the request-wide codes ----------------------------------------------------------------------------


def test_1580105_unknown_semester(api: Api) -> None:
    assert_rejected(api.import_(OK_ITEM, semester="1234567890123456789"), 1580105)


def test_1580110_repeated_client_token(api: Api) -> None:
    assert code_of(api.import_(OK_ITEM, client_token="same")) == 0
    # same content or different: a repeated token is rejected, the original result is not replayed
    assert_rejected(api.import_(OK_ITEM, client_token="same"), 1580110)
    assert_rejected(api.import_(item(BOB, NPS, field(TARGET, "2")), client_token="same"), 1580110)
    assert api.stored(BOB, NPS) == {}
    assert len(api.emu.import_records()) == 1


def test_1580309_after_the_deadline(api: Api, clock: ManualClock) -> None:
    assert_rejected(api.import_(item(ALICE, REVENUE, field(TARGET, "1")), semester=H1), 1580309)
    clock.set(1_782_900_000)  # 2026-07-01: before 2026-H1's deadline (2026-07-15)
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "1")), semester=H1)) == 0


def test_1580310_old_version_metric(api: Api) -> None:
    resp = api.import_(OK_ITEM, item(ALICE, OLD_METRIC, field(TARGET, "1")))
    assert_rejected(resp, 1580310)
    assert api.stored(ALICE, REVENUE) == {}


def test_1580901_no_licence(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(dataclasses.replace(tenant, licence=False), clock)
    assert_rejected(api.import_(OK_ITEM), 1580901)


# -- reviewee- and row-level codes ---------------------------------------------------------------------


def test_1580112_outside_the_data_scope(api: Api) -> None:
    assert_rejected(api.import_(item(OUTSIDE, REVENUE, field(TARGET, "1"))), 1580112)


@pytest.mark.parametrize(
    ("reviewee", "why"),
    [
        ("ou_ffffffffffffffffffffffffffffffff", "no such user"),
        (GRACE, "a user, not in the semester"),
        (PENDING, "project not started"),
    ],
)
def test_1580306_reviewee_not_found(api: Api, reviewee: str, why: str) -> None:
    resp = api.import_(item(reviewee, REVENUE, field(TARGET, "1")))
    assert_rejected(resp, 1580306)
    assert resp.json()["error"]["details"][0]["value"], why


def test_1580307_same_metric_twice_for_a_reviewee(api: Api) -> None:
    resp = api.import_(item(ALICE, REVENUE, field(TARGET, "1")), item(ALICE, REVENUE, field(ACTUAL, "2")))
    assert_rejected(resp, 1580307)


def test_1580308_same_field_twice(api: Api) -> None:
    assert_rejected(api.import_(item(ALICE, REVENUE, field(TARGET, "1"), field(TARGET, "2"))), 1580308)


@pytest.mark.parametrize(
    ("reviewee", "metric"),
    [(ALICE, INCIDENTS), (DEV, REVENUE), (ALICE, "1234567890123456789")],
    ids=["metric of another template", "sales metric for an engineer", "unknown metric"],
)
def test_1580312_metric_not_in_the_reviewees_template(api: Api, reviewee: str, metric: str) -> None:
    assert_rejected(api.import_(item(reviewee, metric, field(TARGET, "1"))), 1580312)


def test_1580305_field_not_in_the_metric(api: Api) -> None:
    assert_rejected(api.import_(item(ALICE, NPS, field(UNIT, "CNY"))), 1580305)  # nps has no unit
    assert_rejected(api.import_(item(ALICE, REVENUE, field("999", "1"))), 1580305)


def test_1580311_overwriting_an_admin_entered_value(api: Api) -> None:
    assert_rejected(api.import_(item(TANG, CSAT, field(CALIBRATION, "mine now"))), 1580311)
    assert api.stored(TANG, CSAT) == {CALIBRATION: "Calibrated by HR in the October review"}
    # the same admin-only field without an admin value (switch admin_fields: entered, the default)
    from .helpers import ZHOU

    assert code_of(api.import_(item(ZHOU, CSAT, field(CALIBRATION, "ok")))) == 0


@pytest.mark.parametrize(
    ("metric", "field_id", "value"),
    [
        (REVENUE, TARGET, "12a"),
        (REVENUE, TARGET, "1e3"),
        (REVENUE, TARGET, "1,000"),
        (REVENUE, TARGET, " 12"),
        (REVENUE, WEIGHT, "forty"),
        (REVENUE, WEIGHT, "40 %"),
        (REVENUE, WEIGHT, "%40"),
    ],
)
def test_1580301_wrong_value_shape(api: Api, metric: str, field_id: str, value: str) -> None:
    assert_rejected(api.import_(item(ALICE, metric, field(field_id, value))), 1580301)


@pytest.mark.parametrize("value", ["1200", "-3.5", "0", "1310000.25"])
def test_numbers_that_are_accepted(api: Api, value: str) -> None:
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, value)))) == 0


def test_1580301_person_that_does_not_resolve(api: Api) -> None:
    bad = "ou_ffffffffffffffffffffffffffffffff"
    assert_rejected(api.import_(item(ALICE, REVENUE, field(OWNER, person=bad))), 1580301)
    # an open_id is not a user_id: with user_id_type=user_id it does not resolve
    resp = api.import_(
        item(api.emu.tenant.users[ALICE].user_id, REVENUE, field(OWNER, person=BOB)), user_id_type="user_id"
    )
    assert_rejected(resp, 1580301)


def test_1580302_required_field_empty(api: Api) -> None:
    assert_rejected(api.import_(item(DEV, INCIDENTS, field(TARGET, ""))), 1580302)
    assert_rejected(api.import_(item(DEV, INCIDENTS, {"field_id": TARGET})), 1580302)
    assert code_of(api.import_(item(DEV, INCIDENTS, field(NOTE, "")))) == 0  # not required: empty is fine


def test_1580303_too_long(api: Api) -> None:
    assert_rejected(api.import_(item(ALICE, REVENUE, field(UNIT, "x" * 21))), 1580303)
    assert code_of(api.import_(item(ALICE, REVENUE, field(UNIT, "人" * 20)))) == 0  # characters, not bytes
    assert_rejected(api.import_(item(ALICE, NPS, field(NOTE, "n" * 1001))), 1580303)  # default maximum 1000
    assert code_of(api.import_(item(ALICE, NPS, field(NOTE, "n" * 1000)))) == 0


def test_1580304_weights_over_100_in_one_request(api: Api) -> None:
    resp = api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%")), item(ALICE, NPS, field(WEIGHT, "41%")))
    assert_rejected(resp, 1580304)
    assert code_of(api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%")), item(ALICE, NPS, field(WEIGHT, "40")))) == 0


def test_1580304_counts_stored_metrics_the_request_does_not_touch(api: Api) -> None:
    assert code_of(api.import_(item(ALICE, NPS, field(WEIGHT, "40%")))) == 0
    assert_rejected(api.import_(item(ALICE, REVENUE, field(WEIGHT, "60.5%"))), 1580304)
    assert code_of(api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%")))) == 0
    # lowering one and raising the other in the same request is judged on the result
    ok = api.import_(item(ALICE, NPS, field(WEIGHT, "30%")), item(ALICE, REVENUE, field(WEIGHT, "70%")))
    assert code_of(ok) == 0
    # another reviewee's weights don't count
    assert code_of(api.import_(item(BOB, REVENUE, field(WEIGHT, "100%")))) == 0


def test_all_or_nothing(api: Api) -> None:
    before = api.emu.values()
    resp = api.import_(
        item(ALICE, REVENUE, field(TARGET, "1000")),
        item(BOB, REVENUE, field(TARGET, "1000")),
        item(CHEN, REVENUE, field(TARGET, "not a number")),
    )
    assert_rejected(resp, 1580301)
    assert api.emu.values() == before
    assert api.emu.import_records() == []
    assert resp.json()["error"]["field_violations"][0]["field"] == "imported_metrics[2].fields[0].field_value"


def test_a_rejected_request_leaves_its_token_free_by_default(api: Api) -> None:
    assert_rejected(api.import_(item(ALICE, REVENUE, field(TARGET, "x")), client_token="t1"), 1580301)
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "1")), client_token="t1")) == 0


@pytest.mark.parametrize("uid_type", ["open_id", "union_id", "user_id", "people_admin_id"])
def test_every_user_id_type_on_input(api: Api, emu: Emulator, uid_type: str) -> None:
    alice, bob = emu.tenant.users[ALICE], emu.tenant.users[BOB]
    resp = api.import_(
        item(alice.id_of(uid_type), REVENUE, field(OWNER, person=bob.id_of(uid_type))), user_id_type=uid_type
    )
    assert code_of(resp) == 0
    assert api.stored(ALICE, REVENUE) == {OWNER: BOB}  # kept by person, whatever the ID type


def test_an_id_of_another_type_is_not_found(api: Api) -> None:
    resp = api.import_(item(ALICE, REVENUE, field(TARGET, "1")), user_id_type="union_id")  # an open_id
    assert_rejected(resp, 1580306)


def test_person_fields_ignore_field_value_and_non_person_fields_ignore_persons(api: Api) -> None:
    resp = api.import_(item(DEV, OTD, field(OWNER, "whatever", person=ALICE), field(TARGET, "90", person=BOB)))
    assert code_of(resp) == 0
    assert api.stored(DEV, OTD) == {OWNER: ALICE, TARGET: "90"}
