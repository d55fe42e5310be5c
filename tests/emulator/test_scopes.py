"""The app's permission scopes: a tenant that lists `app.scopes` grants exactly those, and a request to an
endpoint none of whose scopes is granted is refused with 99991672, naming the scopes any one of which would
do; `user_id_type=user_id` also needs contact:user.employee_id:readonly. Without the key, every scope."""

from __future__ import annotations

import dataclasses

from syncer.emulator import ManualClock, Tenant
from syncer.emulator.scopes import ENDPOINT_SCOPES

from .helpers import ALICE, H2, REVENUE, WEIGHT, code_of, field, item, make_api

REVIEWEES = "/open-apis/performance/v2/reviewees/query"


def granted(tenant: Tenant, *scopes: str) -> Tenant:
    return dataclasses.replace(tenant, app=dataclasses.replace(tenant.app, scopes=frozenset(scopes)))


def test_a_read_without_any_of_its_scopes_is_refused_naming_them(tenant: Tenant, clock: ManualClock) -> None:
    api = make_api(granted(tenant, "performance:metric_lib:read"), clock)
    resp = api.query(ALICE)
    assert code_of(resp) == 99991672
    assert resp.status_code == 400
    assert "performance:metric:read" in resp.json()["msg"]


def test_any_one_of_the_listed_scopes_opens_an_endpoint(tenant: Tenant, clock: ManualClock) -> None:
    for scope in ENDPOINT_SCOPES["metric_details.query"]:
        assert code_of(make_api(granted(tenant, scope), clock).query(ALICE)) == 0


def test_the_import_needs_the_write_scope(tenant: Tenant, clock: ManualClock) -> None:
    row = item(ALICE, REVENUE, field(WEIGHT, "40%"))
    assert code_of(make_api(granted(tenant, "performance:metric:read"), clock).import_(row)) == 99991672
    assert code_of(make_api(granted(tenant, "performance:metric:write"), clock).import_(row)) == 0


def test_user_id_type_user_id_needs_the_employee_id_scope(tenant: Tenant, clock: ManualClock) -> None:
    reads = "performance:semester_user:read"
    body = {"semester_id": H2}
    without = make_api(granted(tenant, reads), clock)
    refused = without.call("POST", REVIEWEES, params={"user_id_type": "user_id"}, json=body)
    assert code_of(refused) == 99991672 and "contact:user.employee_id:readonly" in refused.json()["msg"]
    assert code_of(without.call("POST", REVIEWEES, params={"user_id_type": "open_id"}, json=body)) == 0
    with_it = make_api(granted(tenant, reads, "contact:user.employee_id:readonly"), clock)
    assert code_of(with_it.call("POST", REVIEWEES, params={"user_id_type": "user_id"}, json=body)) == 0


def test_a_tenant_without_the_key_grants_every_scope(tenant: Tenant, clock: ManualClock) -> None:
    assert tenant.app.scopes is None
    assert code_of(make_api(tenant, clock).query(ALICE, user_id_type="user_id")) != 99991672


def test_a_tenant_file_lists_the_granted_scopes() -> None:
    import yaml

    from syncer.emulator import parse_tenant
    from syncer.emulator.loader import default_tenant_path

    data = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    data.setdefault("app", {})["scopes"] = ["performance:metric:write"]
    assert parse_tenant(data).app.scopes == frozenset({"performance:metric:write"})
