"""Fault injection: latency, 5xx, 429 storms, lost responses, errors after commit, scripted refusals, refusals
that repeat the request (echo_body), holds and commit hooks."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from syncer.emulator import Emulator, ImportRecord, ManualClock, Tenant, parse_tenant
from syncer.emulator.loader import default_tenant_path

from .helpers import ALICE, BOB, NOTE, REVENUE, TARGET, UNIT, Api, code_of, field, item


def one(n: int = 1) -> dict[str, object]:
    return item(ALICE, REVENUE, field(TARGET, str(n)))


def test_latency_is_slept_through_the_injected_sleep(api: Api, clock: ManualClock) -> None:
    api.emu.faults.configure(latency_ms=250)
    t0 = clock()
    assert code_of(api.import_(one())) == 0
    assert clock.slept == [0.25] and clock() - t0 == pytest.approx(0.25)


def test_latency_range_is_deterministic_from_the_seed(tenant: Tenant) -> None:
    def run() -> list[float]:
        clock = ManualClock()
        emu = Emulator(tenant, clock=clock, sleep=clock.sleep)
        emu.faults.configure(seed=42, latency_ms=(10, 500))
        api = Api(emu)
        for _ in range(5):
            api.query(ALICE)
        return clock.slept

    first = run()
    assert first == run()
    assert all(0.01 <= s <= 0.5 for s in first) and len(set(first)) == 5


def test_auth_is_not_slowed_or_broken_by_default(api: Api, clock: ManualClock) -> None:
    api.emu.faults.configure(latency_ms=100, error_rate=1.0)
    body = {"app_id": "cli_emulator", "app_secret": "emulator_secret"}
    resp = api.call("POST", "/open-apis/auth/v3/tenant_access_token/internal", json=body, auth=False)
    assert resp.json()["code"] == 0 and clock.slept == []


def test_error_rate_is_a_deterministic_share(tenant: Tenant, clock: ManualClock) -> None:
    def statuses(seed: int) -> list[int]:
        emu = Emulator(tenant, clock=clock, import_per_minute=10_000)
        emu.faults.configure(seed=seed, error_rate=0.3)
        api = Api(emu)
        return [api.import_(one(n)).status_code for n in range(200)]

    first = statuses(7)
    assert first == statuses(7) and first != statuses(8)
    assert set(first) == {200, 500}
    assert 40 <= first.count(500) <= 80


def test_an_injected_5xx_stores_nothing(api: Api) -> None:
    api.emu.faults.inject("error")
    resp = api.import_(one(), client_token="t")
    assert resp.status_code == 500
    assert resp.json()["code"] == 1580101 and resp.json()["msg"] == "internal error"
    assert api.stored(ALICE, REVENUE) == {}
    assert code_of(api.import_(one(), client_token="t")) == 0  # the token was not used up


def test_a_scripted_refusal_answers_its_code_and_stores_nothing(api: Api) -> None:
    api.emu.faults.inject("refuse", code=1234567, times=2)
    api.emu.faults.inject("refuse")  # the gateway's field validation by default
    resps = [api.import_(one(), client_token=f"t{i}") for i in range(4)]
    assert [(r.status_code, r.json()["code"]) for r in resps] == [
        (400, 1234567),
        (400, 1234567),
        (400, 99992402),
        (200, 0),
    ]
    assert api.emu.requests("metric_details.import")[0].fault == "refuse"
    assert code_of(api.import_(one(), client_token="t0")) == 0  # nothing was stored, no token used up


def test_echo_body_makes_every_refusal_repeat_the_request(api: Api) -> None:
    """In msg and error details as sent; in field violations a number one decimal place longer, and any
    other text JSON-quoted in ASCII escapes, cut in two entries."""
    api.emu.faults.configure(echo_body=True)
    rows = item(ALICE, REVENUE, field(TARGET, "95"), field(NOTE, 'été "x"'), field(UNIT, ""))
    resp = api.import_(item(BOB, "7100000000000000001", field(TARGET, "1")), rows)  # an old metric: 1580310
    body = resp.json()
    assert body["code"] == 1580310
    assert '"field_value":"95"' in body["msg"] and 'été \\"x\\"' in body["msg"]
    assert json.loads(body["error"]["details"][-1]["value"])["imported_metrics"][1] == rows
    whys = [v["description"] for v in body["error"]["field_violations"]]
    assert "invalid value 1.0" in whys and "invalid value 95.0" in whys
    assert "".join(whys).count(json.dumps('été "x"')) == 1 and json.dumps('été "x"') not in whys[-1]
    assert code_of(api.query(ALICE)) == 0  # a success is not touched
    api.emu.faults.configure(echo_body=False)
    assert "95" not in api.import_(item(BOB, "7100000000000000001", field(TARGET, "95"))).json()["msg"]


def test_scripted_429s(api: Api) -> None:
    api.emu.faults.inject("rate_limited", times=3, reset=7)
    resps = [api.import_(one()) for _ in range(4)]
    assert [r.status_code for r in resps] == [429, 429, 429, 200]
    assert resps[0].headers["x-ogw-ratelimit-reset"] == "7" and resps[0].json()["code"] == 99991400
    assert [e.fault for e in api.emu.requests("metric_details.import")] == ["rate_limited"] * 3 + [None]


def test_random_429_storms_come_in_runs(tenant: Tenant, clock: ManualClock) -> None:
    emu = Emulator(tenant, clock=clock)
    emu.faults.configure(
        seed=3, storm_rate=0.05, storm_length=4, storm_reset_seconds=2, endpoints=["metric_details.query"]
    )
    api = Api(emu)
    statuses = "".join("x" if api.query(ALICE).status_code == 429 else "." for _ in range(300))
    runs = [r for r in statuses.split(".") if r]
    assert runs and all(len(r) % 4 == 0 for r in runs)  # storms of 4 (back to back ones merge)
    assert code_of(api.import_(one())) == 0  # only the listed endpoint


def test_lost_response_after_commit(api: Api) -> None:
    api.emu.faults.inject("lost_response")
    with pytest.raises(httpx.RemoteProtocolError):
        api.import_(one(5), client_token="lost")
    assert api.stored(ALICE, REVENUE) == {TARGET: "5"}  # committed
    [record] = api.emu.import_records()
    assert record.client_token == "lost"
    entry = api.emu.requests("metric_details.import")[-1]
    assert (entry.status, entry.code, entry.fault, entry.client_token) == (200, 0, "lost_response", "lost")
    # the retry with the same token: 1580110 tells the client the first attempt landed
    assert code_of(api.import_(one(5), client_token="lost")) == 1580110


def test_lost_response_waits_for_a_success(api: Api) -> None:
    api.emu.faults.inject("lost_response")
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "bad")))) == 1580301  # not lost: nothing committed
    with pytest.raises(httpx.RemoteProtocolError):
        api.import_(one())


def test_random_lost_responses(tenant: Tenant, clock: ManualClock) -> None:
    emu = Emulator(tenant, clock=clock, import_per_minute=10_000)
    emu.faults.configure(seed=1, lost_response_rate=0.5)
    api = Api(emu)
    lost = 0
    for n in range(40):
        try:
            api.import_(one(n))
        except httpx.RemoteProtocolError:
            lost += 1
    assert 10 <= lost <= 30 and len(emu.import_records()) == 40


def test_error_after_commit(api: Api) -> None:
    api.emu.faults.inject("error_after_commit")
    resp = api.import_(one(9), client_token="e")
    assert resp.status_code == 500 and code_of(resp) == 1580101
    assert api.stored(ALICE, REVENUE) == {TARGET: "9"}
    assert code_of(api.import_(one(9), client_token="e")) == 1580110


def test_hold_parks_a_committed_response_until_released(api: Api) -> None:
    hold = api.emu.faults.hold_next()
    result: list[httpx.Response] = []
    t = threading.Thread(target=lambda: result.append(api.import_(one(3))))
    t.start()
    assert hold.wait_committed(5)
    assert isinstance(hold.record, ImportRecord)
    assert api.stored(ALICE, REVENUE) == {TARGET: "3"} and result == []  # stored, not answered
    # the emulator keeps serving others meanwhile
    other = Api(api.emu)
    assert code_of(other.import_(item(BOB, REVENUE, field(TARGET, "1")))) == 0
    hold.release()
    t.join(5)
    assert code_of(result[0]) == 0


def test_a_released_hold_can_lose_the_response(api: Api) -> None:
    hold = api.emu.faults.hold_next()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            api.import_(one())
        except httpx.RemoteProtocolError as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    assert hold.wait_committed(5)
    hold.release(lose=True)
    t.join(5)
    assert len(errors) == 1 and len(api.emu.import_records()) == 1


class Crash(Exception):
    pass


def test_a_commit_hook_is_a_kill_point(api: Api) -> None:
    seen: list[ImportRecord] = []

    def crash(record: ImportRecord) -> None:
        seen.append(record)
        raise Crash("the CI job died right here")

    api.emu.faults.add_commit_hook(crash)
    with pytest.raises(Crash):
        api.import_(one(4), client_token="k")
    assert seen[0].client_token == "k" and api.stored(ALICE, REVENUE) == {TARGET: "4"}
    assert api.emu.requests("metric_details.import")[-1].fault == "crash_in_commit_hook"
    api.emu.faults.remove_commit_hook(crash)
    assert code_of(api.import_(one(4), client_token="k")) == 1580110


def test_faults_from_the_tenant_file(clock: ManualClock) -> None:
    import yaml

    data = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    data["faults"] = {
        "seed": 5,
        "latency_ms": [1, 2],
        "error_rate": 1.0,
        "endpoints": ["metric_details.import"],
        "echo_body": True,
    }
    emu = Emulator(parse_tenant(data), clock=clock, sleep=clock.sleep)
    api = Api(emu)
    refused = api.import_(one())
    assert refused.status_code == 500 and '"field_value":"1"' in refused.json()["msg"]
    assert api.query(ALICE).status_code == 200
    assert len(clock.slept) == 1 and 0.001 <= clock.slept[0] <= 0.002


def test_unknown_fault_kind(api: Api) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        api.emu.faults.inject("explode")  # type: ignore[arg-type]


def test_reset_clears_scripted_faults(api: Api) -> None:
    assert api.token  # issued before the reset
    api.emu.faults.inject("error", times=5)
    api.emu.reset()
    assert api.emu.faults.pending() == {}
    assert code_of(api.import_(one())) == 99991663  # tokens go with a reset too
    fresh = Api(api.emu)
    assert code_of(fresh.import_(one())) == 0


def test_scripted_faults_before_and_after_processing_queue_separately(api: Api) -> None:
    api.emu.faults.inject("lost_response")
    api.emu.faults.inject("error")
    assert api.emu.faults.pending() == {"metric_details.import": ["error", "lost_response"]}
    assert api.import_(one()).status_code == 500  # the error strikes first: nothing committed
    with pytest.raises(httpx.RemoteProtocolError):
        api.import_(one())  # then the first success loses its response
    assert api.emu.faults.pending() == {}
