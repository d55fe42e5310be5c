"""The core: tenant tokens (issue, reuse, expiry, every auth code), routing, the envelope, the entry point."""

from __future__ import annotations

import json

import pytest

from syncer.emulator import Emulator, ManualClock, Tenant

from .helpers import ALICE, QUERY, TARGET, Api, code_of, field, item

TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
CREDS = {"app_id": "cli_emulator", "app_secret": "emulator_secret"}


def test_tenant_token(api: Api) -> None:
    resp = api.call("POST", TOKEN, json=CREDS, auth=False)
    assert resp.status_code == 200
    body = resp.json()
    assert body["code"] == 0 and body["msg"] == "ok" and body["expire"] == 7200
    assert body["tenant_access_token"].startswith("t-")
    assert "data" not in body  # this endpoint answers at the top level
    ok = api.call(
        "POST",
        QUERY,
        json={"semester_id": "7293040702907514899", "reviewee_user_ids": [ALICE]},
        headers={"Authorization": f"Bearer {body['tenant_access_token']}"},
    )
    assert code_of(ok) == 0


def test_the_same_token_until_less_than_30_minutes_are_left(api: Api, clock: ManualClock) -> None:
    first = api.call("POST", TOKEN, json=CREDS, auth=False).json()
    clock.advance(3600)
    again = api.call("POST", TOKEN, json=CREDS, auth=False).json()
    assert again["tenant_access_token"] == first["tenant_access_token"]
    assert again["expire"] == 3600
    clock.advance(1801)  # 1799 s left
    fresh = api.call("POST", TOKEN, json=CREDS, auth=False).json()
    assert fresh["tenant_access_token"] != first["tenant_access_token"] and fresh["expire"] == 7200
    # both live until their own expiry
    for token in (first["tenant_access_token"], fresh["tenant_access_token"]):
        assert code_of(api.call("POST", QUERY, json={}, headers={"Authorization": f"Bearer {token}"})) == 1580102


def test_an_expired_token_answers_99991663(api: Api, clock: ManualClock) -> None:
    assert code_of(api.import_(item(ALICE, "7272580325522276372", field(TARGET, "1")))) == 0
    clock.advance(7200)
    resp = api.import_(item(ALICE, "7272580325522276372", field(TARGET, "2")))
    assert resp.status_code == 400 and code_of(resp) == 99991663
    assert api.stored(ALICE, "7272580325522276372") == {TARGET: "1"}


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, 99991661),
        ("", 99991661),
        ("Bearer ", 99991661),
        ("Bearer", 99991661),
        ("t-abcdef0123", 99991671),
        ("Basic dXNlcjpwYXNz", 99991671),
        ("Bearer not a token", 99991671),
        ("Bearer abc", 99991671),
        ("Bearer t-0123456789abcdef0123456789abcdef01234567", 99991663),
        ("Bearer u-0123456789abcdef", 99991663),
    ],
)
def test_auth_codes(api: Api, header: str | None, code: int) -> None:
    headers = {} if header is None else {"Authorization": header}
    resp = api.call("POST", QUERY, json={}, headers=headers, auth=False)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == code and body["msg"]


def test_expire_tokens(api: Api) -> None:
    assert code_of(api.query(ALICE)) == 0
    assert api.emu.expire_tokens() >= 1
    assert code_of(api.query(ALICE)) == 99991663


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"app_id": "cli_other", "app_secret": "emulator_secret"}, 10003),
        ({"app_secret": "emulator_secret"}, 10003),
        ({"app_id": "cli_emulator", "app_secret": "wrong"}, 10014),
        ({"app_id": "cli_emulator"}, 10014),
        ("not json", 10003),
    ],
)
def test_bad_app_credentials(api: Api, body: object, code: int) -> None:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    resp = api.call("POST", TOKEN, content=content, auth=False)
    assert resp.status_code == 200  # a failure with HTTP 200: check `code`
    assert resp.json()["code"] == code and "tenant_access_token" not in resp.json()


def test_credentials_from_the_tenant_file(tenant: Tenant, clock: ManualClock) -> None:
    import dataclasses

    app = dataclasses.replace(tenant.app, app_id="cli_custom", app_secret="s3cret", token_ttl_seconds=60)
    api = Api(Emulator(dataclasses.replace(tenant, app=app), clock=clock))
    assert api.call("POST", TOKEN, json=CREDS, auth=False).json()["code"] == 10003
    body = api.call("POST", TOKEN, json={"app_id": "cli_custom", "app_secret": "s3cret"}, auth=False).json()
    assert body["code"] == 0 and body["expire"] == 60


def test_unknown_paths_and_methods_answer_404(api: Api) -> None:
    for method, path in [
        ("GET", "/open-apis/nothing"),
        ("GET", QUERY),
        ("POST", "/open-apis/performance/v1/semesters"),
    ]:
        resp = api.call(method, path)
        assert resp.status_code == 404 and resp.json() == {"code": 404, "msg": "404 page not found", "data": {}}


def test_envelope_and_headers(api: Api) -> None:
    ok = api.query(ALICE)
    assert ok.headers["content-type"] == "application/json; charset=utf-8"
    assert ok.headers["x-tt-logid"]
    assert set(ok.json()) == {"code", "msg", "data"}
    bad = api.query(ALICE, semester="1")
    body = bad.json()
    assert set(body) == {"code", "msg", "data", "error"}
    assert body["error"]["log_id"] == bad.headers["x-tt-logid"]
    assert body["error"]["field_violations"] == [
        {"field": "semester_id", "description": body["error"]["details"][0]["value"]}
    ]


def test_the_entry_point_is_plain(emu: Emulator) -> None:
    token = emu.issue_token()
    body = json.dumps({"semester_id": "7293040702907514899", "reviewee_user_ids": [ALICE]}).encode()
    status, _headers, content = emu.handle(
        "POST", "/open-apis/performance/v2/metric_details/query", "user_id_type=open_id",
        {"Authorization": f"Bearer {token}"}, body,
    )  # fmt: skip
    assert status == 200 and json.loads(content)["code"] == 0
    # the query may come in the path too, or as pairs
    r = emu.handle("POST", f"{QUERY}?user_id_type=open_id", None, {"authorization": f"Bearer {token}"}, body)
    assert r.json()["code"] == 0
    r = emu.handle("POST", QUERY, [("user_id_type", "user_id")], {"AUTHORIZATION": f"Bearer {token}"}, body)
    assert r.json()["data"]["reviewee_metrics"] == []  # an open_id is not a user_id


def test_ids_stay_strings_end_to_end(api: Api) -> None:
    rid = api.import_(item(ALICE, "7272580325522276372", field(TARGET, "1"))).json()["data"]["import_record_id"]
    assert isinstance(rid, str)
    raw = api.query(ALICE).content.decode()
    assert '"metric_id":"7272580325522276372"' in raw and '"semester_id":"7293040702907514899"' in raw
