"""Inspection: the `/_emulator/...` HTTP paths and the Python API they mirror."""

from __future__ import annotations

from .helpers import ALICE, CSAT, H2, REVENUE, TANG, TARGET, Api, code_of, field, item


def test_request_log(api: Api) -> None:
    api.import_(item(ALICE, REVENUE, field(TARGET, "1")), client_token="tok-a")
    api.import_(item(ALICE, REVENUE, field(TARGET, "x")), client_token="tok-b")
    api.query(ALICE)
    log = api.emu.requests()
    assert [(e.method, e.path, e.client_token, e.status, e.code) for e in log] == [
        ("POST", "/open-apis/performance/v2/metric_details/import", "tok-a", 200, 0),
        ("POST", "/open-apis/performance/v2/metric_details/import", "tok-b", 400, 1580301),
        ("POST", "/open-apis/performance/v2/metric_details/query", None, 200, 0),
    ]
    assert [e.seq for e in log] == sorted(e.seq for e in log)
    assert '"field_value":"x"' in log[1].body  # the exact body sent
    assert [e.client_token for e in api.emu.requests("metric_details.import")] == ["tok-a", "tok-b"]
    over_http = api.client.get("/_emulator/requests", params={"endpoint": "metric_details.import"}).json()
    assert [(r["client_token"], r["status"], r["code"]) for r in over_http["requests"]] == [
        ("tok-a", 200, 0),
        ("tok-b", 400, 1580301),
    ]
    assert not any(r["path"].startswith("/_emulator") for r in api.client.get("/_emulator/requests").json()["requests"])


def test_credentials_are_not_logged(api: Api) -> None:
    body = {"app_id": "cli_emulator", "app_secret": "emulator_secret"}
    api.call("POST", "/open-apis/auth/v3/tenant_access_token/internal", json=body, auth=False)
    assert "emulator_secret" not in api.client.get("/_emulator/requests").text


def test_values_and_import_records(api: Api) -> None:
    rid = api.import_(item(ALICE, REVENUE, field(TARGET, "1000")), name="n").json()["data"]["import_record_id"]
    values = api.client.get("/_emulator/values", params={"semester_id": H2}).json()["values"]
    mine = [v for v in values if v["reviewee_user_id"] == ALICE]
    assert mine == [
        {
            "semester_id": H2, "reviewee_user_id": ALICE, "metric_id": REVENUE, "field_id": TARGET,
            "field_value": "1000", "field_value_person": None, "source": "import", "import_record_id": rid,
            "updated_at": int(api.emu.clock() * 1000),
        }
    ]  # fmt: skip
    admin = [v for v in values if v["reviewee_user_id"] == TANG]
    assert admin[0]["source"] == "admin" and admin[0]["metric_id"] == CSAT
    only = api.client.get("/_emulator/values", params={"reviewee_user_id": ALICE}).json()["values"]
    assert only == mine
    assert api.emu.value(H2, ALICE, REVENUE, TARGET) is not None
    records = api.client.get("/_emulator/import_records").json()["import_records"]
    assert records[0]["import_record_id"] == rid and records[0]["name"] == "n"
    assert records[0]["rows"][0]["fields"] == [{"field_id": TARGET, "field_value": "1000", "field_value_person": None}]


def test_fault_control_over_http(api: Api) -> None:
    r = api.client.post("/_emulator/faults", json={"kind": "error", "endpoint": "metric_details.import", "times": 2})
    assert r.json() == {"pending": {"metric_details.import": ["error", "error"]}}
    assert api.client.get("/_emulator/faults").json()["pending"] == {"metric_details.import": ["error", "error"]}
    assert [api.import_(item(ALICE, REVENUE, field(TARGET, "1"))).status_code for _ in range(3)] == [
        500,
        500,
        200,
    ]
    r = api.client.post("/_emulator/faults", json={"settings": {"seed": 9, "error_rate": 1.0}})
    assert r.json()["settings"]["error_rate"] == 1.0
    assert api.query(ALICE).status_code == 500
    r = api.client.post("/_emulator/faults", json={"kind": "refuse", "code": 1580309})
    assert r.json()["pending"] == {"metric_details.import": ["refuse"]}
    api.emu.faults.configure(error_rate=0.0)
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "1")))) == 1580309
    assert api.client.post("/_emulator/faults", json={"kind": "nope"}).status_code == 400
    assert api.client.post("/_emulator/faults", json={"settings": {"no_such_setting": 1}}).status_code == 400
    assert api.client.post("/_emulator/faults", content=b"{").status_code == 400


def test_tokens_expire_and_reset_over_http(api: Api) -> None:
    assert code_of(api.query(ALICE)) == 0
    assert api.client.post("/_emulator/tokens/expire").json()["expired"] == 1
    assert code_of(api.query(ALICE)) == 99991663
    fresh = Api(api.emu)
    fresh.import_(item(ALICE, REVENUE, field(TARGET, "1")))
    assert api.client.post("/_emulator/reset").json() == {"ok": True}
    assert api.emu.import_records() == [] and api.emu.requests() == []
    assert [v.source for v in api.emu.values()] == ["admin", "admin"]


def test_health_and_unknown_paths(api: Api) -> None:
    assert api.client.get("/_emulator/health").json() == {"ok": True, "app_id": "cli_emulator"}
    assert api.client.get("/_emulator/nothing").status_code == 404
    assert api.client.get("/_emulator").status_code == 404
