"""Each switch of the tenant file (an UNCONFIRMED point of docs/feishu-api.md), both ways."""

from __future__ import annotations

import pytest

from syncer.emulator import ManualClock, Tenant

from .helpers import (
    ACTUAL,
    ALICE,
    CALIBRATION,
    CSAT,
    DEV,
    H2,
    INCIDENTS,
    NPS,
    REVENUE,
    TANG,
    TARGET,
    WEIGHT,
    ZHOU,
    code_of,
    field,
    item,
    make_api,
)


@pytest.mark.parametrize("shape", ["object", "list"])
def test_metric_details_shape(tenant: Tenant, clock: ManualClock, shape: str) -> None:
    api = make_api(tenant.with_switches(metric_details_shape=shape), clock)
    api.import_(item(ALICE, REVENUE, field(TARGET, "1000")), item(ALICE, NPS, field(TARGET, "45")))
    metrics = api.query(ALICE).json()["data"]["reviewee_metrics"]
    if shape == "object":  # one element per metric, as the SDKs model it
        assert len(metrics) == 2
        assert all(m["reviewee_user_id"]["open_id"] == ALICE for m in metrics)
        assert [m["metric_details"]["metric_id"] for m in metrics] == [REVENUE, NPS]
    else:  # one element per reviewee with the list of metrics
        assert len(metrics) == 1
        assert [d["metric_id"] for d in metrics[0]["metric_details"]] == [REVENUE, NPS]


@pytest.mark.parametrize("remember", [False, True])
def test_remember_rejected_tokens(tenant: Tenant, clock: ManualClock, remember: bool) -> None:
    api = make_api(tenant.with_switches(remember_rejected_tokens=remember), clock)
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "bad")), client_token="t")) == 1580301
    retry = api.import_(item(ALICE, REVENUE, field(TARGET, "1")), client_token="t")
    assert code_of(retry) == (1580110 if remember else 0)
    # a token that was never valid is never remembered
    no_token = api.call("POST", "/open-apis/performance/v2/metric_details/import", json={})
    assert code_of(no_token) == 1580102


def test_partial_rows_merge(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(tenant.with_switches(partial_rows="merge"), clock)
    api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%"), field(TARGET, "1000")))
    api.import_(item(ALICE, REVENUE, field(ACTUAL, "1200")))
    assert api.stored(ALICE, REVENUE) == {WEIGHT: "60%", TARGET: "1000", ACTUAL: "1200"}


def test_partial_rows_replace(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(tenant.with_switches(partial_rows="replace"), clock)
    api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%"), field(TARGET, "1000")))
    api.import_(item(ALICE, REVENUE, field(ACTUAL, "1200")))
    assert api.stored(ALICE, REVENUE) == {ACTUAL: "1200"}
    # admin-entered values survive a replacing row
    api.import_(item(TANG, CSAT, field(WEIGHT, "70%")))
    assert api.stored(TANG, CSAT) == {WEIGHT: "70%", CALIBRATION: "Calibrated by HR in the October review"}
    # a required field a replacing row leaves out is empty after it: 1580302
    assert code_of(api.import_(item(DEV, INCIDENTS, field(ACTUAL, "1")))) == 1580302
    assert code_of(api.import_(item(DEV, INCIDENTS, field(TARGET, "3"), field(ACTUAL, "1")))) == 0


def test_partial_rows_replace_frees_weight(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(tenant.with_switches(partial_rows="replace"), clock)
    api.import_(item(ALICE, REVENUE, field(WEIGHT, "60%")))
    api.import_(item(ALICE, REVENUE, field(TARGET, "1")))  # the weight is gone
    assert code_of(api.import_(item(ALICE, NPS, field(WEIGHT, "100%")))) == 0


@pytest.mark.parametrize(
    ("wire", "accepted", "refused"),
    [("40%", ["40%", "12.5%"], ["40"]), ("40", ["40", "12.5"], ["40%"]), ("both", ["40%", "40"], ["40%%"])],
)
def test_percentage_wire_format(
    tenant: Tenant, clock: ManualClock, wire: str, accepted: list[str], refused: list[str]
) -> None:
    api = make_api(tenant.with_switches(percentage_wire_format=wire), clock)
    for value in accepted:
        assert code_of(api.import_(item(ALICE, REVENUE, field(WEIGHT, value)))) == 0, value
    for value in refused:
        assert code_of(api.import_(item(ALICE, REVENUE, field(WEIGHT, value)))) == 1580301, value


@pytest.mark.parametrize("accept", [False, True])
def test_accept_numeric_ids(tenant: Tenant, clock: ManualClock, accept: bool) -> None:
    api = make_api(tenant.with_switches(accept_numeric_ids=accept), clock)
    body = {
        "semester_id": int(H2),
        "imported_metrics": [
            {
                "reviewee_user_id": ALICE,
                "metric_id": int(REVENUE),
                "fields": [{"field_id": 4, "field_value": "1"}],
            }
        ],
    }
    assert code_of(api.import_(body=body)) == (0 if accept else 1580102)
    if accept:
        assert api.stored(ALICE, REVENUE) == {TARGET: "1"}  # stored under the ID as text


@pytest.mark.parametrize("mode", ["entered", "always"])
def test_admin_fields(tenant: Tenant, clock: ManualClock, mode: str) -> None:
    api = make_api(tenant.with_switches(admin_fields=mode), clock)
    # no admin value for zhou.xin's calibration: writable unless every admin field is refused
    assert code_of(api.import_(item(ZHOU, CSAT, field(CALIBRATION, "x")))) == (0 if mode == "entered" else 1580311)
    # over an admin-entered value: refused either way
    assert code_of(api.import_(item(TANG, CSAT, field(CALIBRATION, "x")))) == 1580311
