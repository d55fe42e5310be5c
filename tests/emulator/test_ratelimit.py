"""Rate limits: the sliding window (unit and property tests) and the endpoints' 429s, on a manual clock."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from syncer.emulator import Emulator, ManualClock, Tenant, parse_tenant
from syncer.emulator.ratelimit import SlidingWindowLimiter
from syncer.emulator.tenant import RateLimit

from .helpers import ALICE, H2, REVENUE, TARGET, Api, code_of, field, item

MINUTE = ((10, 60.0),)


def test_window_refuses_the_eleventh_and_says_when_to_come_back() -> None:
    clock = ManualClock(0)
    lim = SlidingWindowLimiter(clock)
    for _ in range(10):
        assert lim.check("app", "import", MINUTE).allowed
        clock.advance(1)
    d = lim.check("app", "import", MINUTE)  # t=10: the first (t=0) leaves at t=60
    assert (d.allowed, d.limit, d.reset) == (False, 10, 50)
    clock.advance(49.5)
    assert lim.check("app", "import", MINUTE).reset == 1  # 0.5 s rounded up
    clock.advance(0.5)
    assert lim.check("app", "import", MINUTE).allowed  # t=60: the oldest has left
    assert not lim.check("app", "import", MINUTE).allowed  # t=60: the one of t=1 is still in


def test_refused_requests_do_not_count_and_keys_are_separate() -> None:
    clock = ManualClock(0)
    lim = SlidingWindowLimiter(clock)
    for _ in range(10):
        lim.check("app", "import", MINUTE)
    for _ in range(100):
        assert not lim.check("app", "import", MINUTE).allowed
    assert lim.check("app", "query", MINUTE).allowed
    assert lim.check("other-app", "import", MINUTE).allowed
    clock.advance(60)
    assert lim.count("app", "import") == 0 and lim.check("app", "import", MINUTE).allowed


def test_two_windows() -> None:
    clock = ManualClock(0)
    lim = SlidingWindowLimiter(clock)
    windows = ((1000, 60.0), (50, 1.0))
    assert all(lim.check("a", "e", windows).allowed for _ in range(50))
    d = lim.check("a", "e", windows)
    assert (d.allowed, d.limit, d.reset) == (False, 50, 1)
    clock.advance(1)
    assert lim.check("a", "e", windows).allowed


@settings(max_examples=200, deadline=None, database=None)
@given(
    limit=st.integers(1, 6),
    gaps=st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=40),
)
def test_never_more_than_the_limit_in_any_window_and_reset_is_honest(limit: int, gaps: list[float]) -> None:
    clock = ManualClock(0)
    lim = SlidingWindowLimiter(clock)
    accepted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        d = lim.check("a", "e", ((limit, 60.0),))
        if d.allowed:
            accepted.append(clock())
        else:
            assert d.reset >= 1
            # replay the accepted history: waiting `reset` is enough, one second less is not
            for wait, allowed in ((d.reset, True), (d.reset - 1, False)):
                if wait < 1:
                    continue
                probe_clock = ManualClock(0)
                probe = SlidingWindowLimiter(probe_clock)
                for t in accepted:
                    probe_clock.set(t)
                    assert probe.check("a", "e", ((limit, 60.0),)).allowed
                probe_clock.set(clock() + wait)
                assert probe.check("a", "e", ((limit, 60.0),)).allowed is allowed
    ms = [round(t * 1000) for t in accepted]  # the limiter's resolution
    for t in ms:
        assert sum(1 for u in ms if t <= u < t + 60_000) <= limit


def test_import_is_limited_to_10_a_minute_by_default(tenant: Tenant, clock: ManualClock) -> None:
    api = Api(Emulator(tenant, clock=clock))
    for n in range(10):
        assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, str(n))))) == 0
        clock.advance(2)
    resp = api.import_(item(ALICE, REVENUE, field(TARGET, "10")))
    assert resp.status_code == 429
    assert resp.json() == {"code": 99991400, "msg": "request trigger frequency limit", "data": {}}
    assert resp.headers["x-ogw-ratelimit-limit"] == "10"
    assert resp.headers["x-ogw-ratelimit-reset"] == "40"
    assert api.stored(ALICE, REVENUE) == {TARGET: "9"}  # nothing of the refused request
    clock.advance(40)
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "11")))) == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "limit"),
    [
        (
            "POST",
            "/open-apis/performance/v2/metric_details/query",
            {"semester_id": H2, "reviewee_user_ids": [ALICE]},
            20,
        ),
        ("POST", "/open-apis/performance/v2/metric_fields/query", {}, 20),
        ("POST", "/open-apis/performance/v2/metric_libs/query", {}, 20),
        ("POST", "/open-apis/performance/v2/reviewees/query", {"semester_id": H2}, 20),
        ("GET", "/open-apis/performance/v1/semesters", None, 10),
        ("POST", "/open-apis/contact/v3/users/batch_get_id", {"emails": ["bob@example.com"]}, 50),  # 50/s
    ],
)
def test_default_limits_of_the_other_endpoints(
    tenant: Tenant, clock: ManualClock, method: str, path: str, body: object, limit: int
) -> None:
    api = Api(Emulator(tenant, clock=clock))
    for _ in range(limit):
        assert api.call(method, path, json=body).status_code == 200
    resp = api.call(method, path, json=body)
    assert resp.status_code == 429 and resp.headers["x-ogw-ratelimit-limit"] == str(limit)


def test_batch_get_id_has_a_minute_limit_too(tenant: Tenant, clock: ManualClock) -> None:
    api = Api(Emulator(tenant.with_rate_limit("users.batch_get_id", per_minute=3, per_second=50), clock=clock))
    for _ in range(3):
        assert api.call("POST", "/open-apis/contact/v3/users/batch_get_id", json={"emails": ["a@b"]}).status_code == 200
    assert api.call("POST", "/open-apis/contact/v3/users/batch_get_id", json={"emails": ["a@b"]}).status_code == 429
    assert api.emu.tenant.rate_limits["users.batch_get_id"] == RateLimit(per_minute=3, per_second=50)


def test_rejected_requests_use_quota_but_auth_failures_do_not(tenant: Tenant, clock: ManualClock) -> None:
    api = Api(Emulator(tenant, clock=clock, import_per_minute=2))
    no_token = api.call("POST", "/open-apis/performance/v2/metric_details/import", json={}, auth=False)
    assert code_of(no_token) == 99991661
    assert code_of(api.import_(body={})) == 1580102  # counts
    assert code_of(api.import_(item(ALICE, REVENUE, field(TARGET, "1")))) == 0
    assert api.import_(item(ALICE, REVENUE, field(TARGET, "1"))).status_code == 429
    assert api.emu.rate_count("metric_details.import") == 2


def test_import_per_minute_overrides_the_tenant(tenant: Tenant, clock: ManualClock) -> None:
    api = Api(Emulator(tenant, clock=clock, import_per_minute=3))
    codes = [api.import_(item(ALICE, REVENUE, field(TARGET, "1"))).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_limits_from_the_tenant_file(tenant: Tenant, clock: ManualClock) -> None:
    import yaml

    from syncer.emulator.loader import default_tenant_path

    data = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    data["rate_limits"] = {
        "metric_details.import": 1,
        "metric_details.query": None,
        "semesters.list": {"per_second": 2},
    }
    custom = parse_tenant(data)
    assert custom.rate_limits["metric_details.import"] == RateLimit(per_minute=1)
    assert custom.rate_limits["metric_fields.query"] == RateLimit(per_minute=20)  # untouched: the default
    api = Api(Emulator(custom, clock=clock))
    assert [api.import_(item(ALICE, REVENUE, field(TARGET, "1"))).status_code for _ in range(2)] == [200, 429]
    assert all(api.query(ALICE).status_code == 200 for _ in range(50))  # unlimited
    assert [api.call("GET", "/open-apis/performance/v1/semesters").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    clock.advance(1)
    assert api.call("GET", "/open-apis/performance/v1/semesters").status_code == 200
