"""The emulator behind a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from syncer.emulator import Emulator, EmulatorServer, ManualClock, Tenant, is_loopback, run_until_stopped

from .helpers import ALICE, H2, IMPORT, REVENUE, TARGET, code_of, field, item


@pytest.fixture
def server(tenant: Tenant, clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(Emulator(tenant, clock=clock, import_per_minute=10_000)) as srv:
        yield srv


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    token = server.emulator.issue_token()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as c:
        yield c


def test_url_is_loopback_with_the_chosen_port(server: EmulatorServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0


def test_import_and_query_over_http(client: httpx.Client, server: EmulatorServer) -> None:
    body = {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, field(TARGET, "1"))]}
    resp = client.post(IMPORT, params={"client_token": "h1"}, json=body)
    assert resp.status_code == 200 and resp.json()["code"] == 0
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    q = client.post(
        "/open-apis/performance/v2/metric_details/query",
        json={"semester_id": H2, "reviewee_user_ids": [ALICE]},
    )
    assert q.json()["data"]["reviewee_metrics"][0]["metric_details"]["fields"] == [
        {"field_id": TARGET, "field_value": "1"}
    ]
    assert client.get("/_emulator/requests").json()["requests"][0]["client_token"] == "h1"
    assert client.get("/nothing").status_code == 404


def test_rate_limit_headers_over_http(tenant: Tenant, clock: ManualClock) -> None:
    with EmulatorServer(Emulator(tenant, clock=clock, import_per_minute=1)) as srv:
        h = {"Authorization": f"Bearer {srv.emulator.issue_token()}"}
        with httpx.Client(base_url=srv.url, headers=h, trust_env=False) as c:
            body = {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, field(TARGET, "1"))]}
            assert c.post(IMPORT, params={"client_token": "a"}, json=body).status_code == 200
            r = c.post(IMPORT, params={"client_token": "b"}, json=body)
    assert r.status_code == 429
    assert (r.headers["x-ogw-ratelimit-limit"], r.headers["x-ogw-ratelimit-reset"]) == ("1", "60")


def test_a_lost_response_closes_the_connection(client: httpx.Client, server: EmulatorServer) -> None:
    server.emulator.faults.inject("lost_response")
    body = {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, field(TARGET, "7"))]}
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(IMPORT, params={"client_token": "lost"}, json=body)
    assert server.emulator.value(H2, ALICE, REVENUE, TARGET) is not None
    again = client.post(IMPORT, params={"client_token": "lost"}, json=body)  # a new connection
    assert code_of(again) == 1580110


def test_a_held_response_over_http(client: httpx.Client, server: EmulatorServer) -> None:
    hold = server.emulator.faults.hold_next()
    body = {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, field(TARGET, "8"))]}
    out: list[httpx.Response] = []
    t = threading.Thread(target=lambda: out.append(client.post(IMPORT, params={"client_token": "held"}, json=body)))
    t.start()
    assert hold.wait_committed(5)
    assert out == []
    hold.release()
    t.join(5)
    assert code_of(out[0]) == 0


def test_concurrent_imports_are_consistent(server: EmulatorServer) -> None:
    emu = server.emulator
    reviewees = [
        r for r, e in emu.tenant.semesters[H2].reviewees.items() if e.metric_template_id == "7300000000000000001"
    ]
    reviewees = [
        r for r in reviewees if emu.tenant.app.in_scope(r) and emu.tenant.semesters[H2].reviewees[r].project_started
    ]
    token = emu.issue_token()
    results: list[int] = []

    def push(n: int, reviewee: str) -> None:
        with httpx.Client(base_url=server.url, trust_env=False) as c:
            body = {"semester_id": H2, "imported_metrics": [item(reviewee, REVENUE, field(TARGET, str(n)))]}
            r = c.post(
                IMPORT,
                params={"client_token": f"c{n}"},
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            results.append(r.json()["code"])

    threads = [threading.Thread(target=push, args=(n, r)) for n, r in enumerate(reviewees)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [0] * len(reviewees)
    ids = [r.import_record_id for r in emu.import_records()]
    assert len(set(ids)) == len(reviewees)


def test_a_chunked_request_body(server: EmulatorServer) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /_emulator/reset HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        )
        reply = b""
        while not reply.endswith(b"}"):
            chunk = s.recv(4096)
            assert chunk, reply
            reply += chunk
    head, _, payload = reply.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200") and json.loads(payload) == {"ok": True}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_run_until_stopped_serves_and_stops(tenant: Tenant) -> None:
    stop = threading.Event()
    urls: list[str] = []

    def ready(srv: EmulatorServer) -> None:
        urls.append(srv.url)
        with httpx.Client(trust_env=False) as c:
            assert c.get(f"{srv.url}/_emulator/health").json()["ok"] is True
        stop.set()

    t = threading.Thread(target=run_until_stopped, args=(Emulator(tenant),), kwargs={"on_ready": ready, "stop": stop})
    t.start()
    t.join(5)
    assert not t.is_alive() and urls[0].startswith("http://127.0.0.1:")
