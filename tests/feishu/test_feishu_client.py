"""The HTTP client against a scripted fake server: auth, envelope, retries, rate limits, read/write split."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from syncer import __version__
from syncer.emulator import Emulator, EmulatorTransport
from syncer.errors import FeishuError
from syncer.feishu.auth import TOKEN_PATH
from syncer.feishu.client import (
    METRIC_DETAILS_QUERY,
    METRIC_FIELDS_QUERY,
    METRIC_LIBS_QUERY,
    REVIEWEES_QUERY,
    SEMESTERS_LIST,
    ReadClient,
)
from syncer.feishu.errors import (
    AuthError,
    BadResponseError,
    DuplicateTokenError,
    FeishuAPIError,
    NetworkError,
    RateLimitedError,
    RequestBugError,
    RequestRejected,
    RevieweeRejected,
    RowRejected,
    ServerError,
)
from syncer.feishu.pacing import Pacer
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.write import METRIC_DETAILS_IMPORT, WriteClient
from tests.emulated import EMULATOR_CREDENTIALS
from tests.feishu.fakefeishu import APP_SECRET, FakeFeishu, FakeTime, fail, ok

ITEM: Any = {
    "reviewee_user_id": "ou_3245842393d09e9428ad4655da6e30b3",
    "metric_id": "7272580325522276372",
    "fields": [{"field_id": "2", "field_value": "40%"}],
}
IMPORTED = ok({"import_record_id": "7241404194141224979"})


def do_import(client: WriteClient, *, token: str = "tok-1", **kw: Any) -> str:
    return client.import_metric_details(
        semester_id="7293040702907514899",
        import_record_name="syncer abc1234",
        imported_metrics=[ITEM],
        client_token=token,
        user_id_type="open_id",
        **kw,
    )


def bearer(request: httpx.Request) -> str:
    return request.headers["authorization"].removeprefix("Bearer ")


# --- auth ---------------------------------------------------------------------------------------------


def test_token_fetched_once_and_cached(server: FakeFeishu, make_client: Any) -> None:
    client = make_client(ReadClient)
    client.list_semesters()
    client.list_semesters()
    client.query_metric_fields()
    assert server.token_fetches() == 1
    auth = server.calls(TOKEN_PATH)[0]
    assert json.loads(auth.content) == {"app_id": "cli_test_app", "app_secret": APP_SECRET}
    used = {bearer(r) for r in server.requests if r.url.path != TOKEN_PATH}
    assert used == {"T-SECRET-TOKEN-1"}


def test_user_agent_timeout_and_json_headers(server: FakeFeishu, make_client: Any) -> None:
    make_client(ReadClient).list_semesters()
    for request in server.requests:
        assert request.headers["user-agent"] == f"feishu-syncer/{__version__}"
        timeout = request.extensions["timeout"]
        assert all(isinstance(timeout[k], float) for k in ("connect", "read", "write", "pool"))
    post = server.calls(TOKEN_PATH)[0]
    assert post.headers["content-type"] == "application/json; charset=utf-8"


def test_token_refreshed_well_before_expiry(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    client = make_client(ReadClient)
    client.list_semesters()
    fake_time.now += 7200 - 30 * 60 - 1  # 30 min + 1 s left: still cached
    client.list_semesters()
    assert server.token_fetches() == 1
    fake_time.now += 2  # under 30 minutes left: refreshed
    client.list_semesters()
    assert server.token_fetches() == 2
    assert bearer(server.calls(SEMESTERS_LIST)[-1]) == "T-SECRET-TOKEN-2"


def test_short_lived_token_refreshed_at_half_life(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.expire = 600
    client = make_client(ReadClient)
    client.authenticate()
    fake_time.now += 299
    client.authenticate()
    assert server.token_fetches() == 1
    fake_time.now += 2
    client.authenticate()
    assert server.token_fetches() == 2


@pytest.mark.parametrize("code", [99991661, 99991663, 99991671])
def test_reauth_once_on_token_codes(code: int, server: FakeFeishu, make_client: Any) -> None:
    client = make_client(ReadClient)
    client.authenticate()
    server.script(SEMESTERS_LIST, fail(code, "token problem"))
    assert client.list_semesters() == []
    assert server.token_fetches() == 2
    first, second = server.calls(SEMESTERS_LIST)
    assert bearer(first) == "T-SECRET-TOKEN-1" and bearer(second) == "T-SECRET-TOKEN-2"


def test_revoked_token_is_replaced(server: FakeFeishu, make_client: Any) -> None:
    client = make_client(ReadClient)
    client.list_semesters()
    server.revoke_all()  # the default handler now answers 99991663
    client.list_semesters()
    assert server.token_fetches() == 2


def test_reauth_only_once(server: FakeFeishu, make_client: Any) -> None:
    client = make_client(ReadClient)
    server.script(SEMESTERS_LIST, fail(99991663), fail(99991671))
    with pytest.raises(AuthError) as info:
        client.list_semesters()
    assert info.value.code == 99991671
    assert "refused again" in str(info.value)
    assert server.token_fetches() == 2


def test_token_failure_with_http_200(server: FakeFeishu, make_client: Any) -> None:
    server.script(TOKEN_PATH, fail(10003, "invalid param", status=200))
    with pytest.raises(AuthError) as info:
        make_client(ReadClient).authenticate()
    assert info.value.code == 10003 and info.value.http_status == 200
    assert "FEISHU_APP_ID" in str(info.value)


def test_token_answer_without_token(server: FakeFeishu, make_client: Any) -> None:
    server.script(TOKEN_PATH, httpx.Response(200, json={"code": 0, "msg": "ok"}))
    with pytest.raises(BadResponseError):
        make_client(ReadClient).authenticate()


# --- envelope and error codes ---------------------------------------------------------------------------


def test_failure_with_http_200_and_nonzero_code(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, fail(1580102, "param is invalid", status=200))
    with pytest.raises(RequestRejected) as info:
        do_import(make_client())
    err = info.value
    assert (err.code, err.http_status, err.msg, err.scope) == (1580102, 200, "param is invalid", "request")
    assert err.remedy == "fix the request"
    assert "1580102" in str(err) and "HTTP 200" in str(err)
    assert len(server.calls(METRIC_DETAILS_IMPORT)) == 1  # not retried


@pytest.mark.parametrize(
    ("code", "cls", "scope"),
    [
        (1580304, RevieweeRejected, "reviewee"),
        (1580112, RevieweeRejected, "reviewee"),
        (1580311, RowRejected, "row"),
        (1580301, RowRejected, "row"),
        (1580307, RequestBugError, "bug"),
        (1580309, RequestRejected, "request"),
        (4242, RequestRejected, "request"),
    ],
)
def test_error_classes_by_scope(
    code: int, cls: type[FeishuError], scope: str, server: FakeFeishu, make_client: Any
) -> None:
    server.script(METRIC_DETAILS_IMPORT, fail(code))
    with pytest.raises(cls) as info:
        do_import(make_client())
    assert getattr(info.value, "scope") == scope  # noqa: B009
    assert isinstance(info.value, FeishuError)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, text="not found"),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"msg": "no code"}),
        httpx.Response(200, json=[1, 2]),
    ],
)
def test_answers_that_are_not_the_envelope(answer: httpx.Response, server: FakeFeishu, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, answer)
    with pytest.raises(BadResponseError):
        make_client(ReadClient).list_semesters()
    assert len(server.calls(SEMESTERS_LIST)) == 1


# --- retries --------------------------------------------------------------------------------------------


def test_5xx_and_1580101_retried_with_the_same_token_and_body(
    server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    server.script(
        METRIC_DETAILS_IMPORT,
        httpx.Response(502, text="<html>bad gateway</html>"),
        fail(1580101, "internal error", status=500),
        fail(1580101, "internal error", status=200),
        httpx.Response(503, json={"code": 0, "msg": ""}),
        IMPORTED,
    )
    assert do_import(make_client(), token="batch-token-7") == "7241404194141224979"
    attempts = server.calls(METRIC_DETAILS_IMPORT)
    assert len(attempts) == 5
    assert {r.url.params["client_token"] for r in attempts} == {"batch-token-7"}
    assert len({r.content for r in attempts}) == 1
    # full jitter with random() == 0.5 over 1, 2, 4, 8 s
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, *[fail(1580101, status=500)] * 6, ok({}))
    client = make_client(ReadClient, random=lambda: 0.999, retry=RetryPolicy(max_attempts=10, backoff_cap=3.0))
    client.list_semesters()
    assert max(fake_time.sleeps) <= 3.0
    assert fake_time.sleeps[-1] == pytest.approx(2.997)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.ReadError("reset"),
    ],
)
def test_transport_errors_and_timeouts_retried(
    exc: Exception, server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    server.script(METRIC_DETAILS_IMPORT, exc, exc, IMPORTED)
    assert do_import(make_client(), token="tok-x") == "7241404194141224979"
    attempts = server.calls(METRIC_DETAILS_IMPORT)
    assert [r.url.params["client_token"] for r in attempts] == ["tok-x"] * 3
    assert len(fake_time.sleeps) == 2


def test_retry_cap_on_server_errors(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, *[fail(1580101, "internal error", status=500)] * 3)
    with pytest.raises(ServerError) as info:
        do_import(make_client(retry=RetryPolicy(max_attempts=3)))
    assert info.value.attempts == 3 and info.value.code == 1580101
    assert "after 3 attempts" in str(info.value)
    assert len(server.calls(METRIC_DETAILS_IMPORT)) == 3


def test_retry_cap_on_network_errors(server: FakeFeishu, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, *[httpx.ReadTimeout("timed out")] * 4)
    with pytest.raises(NetworkError) as info:
        make_client(ReadClient, retry=RetryPolicy(max_attempts=4)).list_semesters()
    assert "after 4 attempts" in str(info.value) and "ReadTimeout" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # scrubbed text only


def test_unsupported_protocol_not_retried(server: FakeFeishu, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, httpx.UnsupportedProtocol("nope"))
    with pytest.raises(NetworkError):
        make_client(ReadClient).list_semesters()
    assert len(server.calls(SEMESTERS_LIST)) == 1


def test_row_errors_not_retried(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, fail(1580303))
    with pytest.raises(RowRejected):
        do_import(make_client())
    assert fake_time.sleeps == []


def test_duplicate_token_after_an_ambiguous_attempt(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, httpx.ReadTimeout("lost"), fail(1580110, "request ID repeat"))
    with pytest.raises(DuplicateTokenError) as info:
        do_import(make_client())
    assert info.value.after_retry is True


@pytest.mark.parametrize("first", [None, httpx.ConnectError("refused")])
def test_duplicate_token_on_first_sent_attempt(first: Exception | None, server: FakeFeishu, make_client: Any) -> None:
    if first is not None:  # a connect error never reached Feishu
        server.script(METRIC_DETAILS_IMPORT, first)
    server.script(METRIC_DETAILS_IMPORT, fail(1580110))
    with pytest.raises(DuplicateTokenError) as info:
        do_import(make_client())
    assert info.value.after_retry is False


LONG_429 = fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": "3600"})


@pytest.mark.parametrize(
    ("then", "raised"),
    [
        ([LONG_429], RateLimitedError),
        ([fail(1580999, "new code")], RequestRejected),
        ([fail(99991663), fail(99991663)], AuthError),
        ([fail(1580101, status=500)] * 4, ServerError),
        ([httpx.ReadTimeout("lost")] * 4, NetworkError),
    ],
)
def test_the_error_that_ends_a_call_after_a_lost_answer_says_it_may_have_landed(
    then: list[Any], raised: type[Exception], server: FakeFeishu, make_client: Any
) -> None:
    """A lost answer (a read timeout: the request may have been processed), then a failure that says nothing
    about the token: the error carries `maybe_landed`, so that the caller does not close the batch as not
    landed."""
    server.script(METRIC_DETAILS_IMPORT, httpx.ReadTimeout("lost"), *then)
    with pytest.raises(raised) as info:
        do_import(make_client())
    assert isinstance(info.value, FeishuError) and info.value.maybe_landed is True


@pytest.mark.parametrize("first", [LONG_429, fail(1580999), fail(1580306)])
def test_a_first_attempt_refused_did_not_land(first: Any, server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, first)
    with pytest.raises(FeishuAPIError) as info:
        do_import(make_client())
    assert info.value.maybe_landed is False


def test_a_connect_error_never_reached_feishu(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, httpx.ConnectError("refused"), LONG_429)
    with pytest.raises(RateLimitedError) as info:
        do_import(make_client())
    assert info.value.maybe_landed is False


# --- rate limits ----------------------------------------------------------------------------------------


def test_429_waits_the_reset_header(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    limited = fail(
        99991400,
        "request trigger frequency limit",
        status=429,
        headers={"x-ogw-ratelimit-limit": "10", "x-ogw-ratelimit-reset": "7"},
    )
    server.script(METRIC_DETAILS_IMPORT, limited, IMPORTED)
    do_import(make_client(), token="tok-r")
    assert fake_time.sleeps == [7.0]
    assert [r.url.params["client_token"] for r in server.calls(METRIC_DETAILS_IMPORT)] == ["tok-r"] * 2


def test_99991400_with_http_200_waits_too(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, fail(99991400, status=200, headers={"x-ogw-ratelimit-reset": "3"}), ok({}))
    make_client(ReadClient).list_semesters()
    assert fake_time.sleeps == [3.0]


def test_429_without_reset_header_waits_the_fallback(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, httpx.Response(429, text="slow down"), ok({}))
    make_client(ReadClient).list_semesters()
    assert fake_time.sleeps == [RetryPolicy().rate_limit_fallback]


def test_rate_limit_cap(server: FakeFeishu, make_client: Any) -> None:
    limited = fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": "1"})
    server.script(SEMESTERS_LIST, *[limited] * 3)
    with pytest.raises(RateLimitedError) as info:
        make_client(ReadClient, retry=RetryPolicy(max_rate_limited=2)).list_semesters()
    assert "still rate limited after 2 waits" in str(info.value)


def test_rate_limit_waits_stop_adding_up_past_the_total(
    server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    """One call sleeps at most max_rate_limit_total for throttling: a git lock's lease (renewed only as the
    apply writes) must not run out under a live apply that is waiting."""
    limited = fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": "120"})
    server.script(SEMESTERS_LIST, *[limited] * 4, ok({}))
    with pytest.raises(RateLimitedError) as info:
        make_client(ReadClient).list_semesters()
    assert fake_time.sleeps == [120.0, 120.0] and "300 s of waits in all" in str(info.value)


def test_absurd_reset_is_refused(server: FakeFeishu, fake_time: FakeTime, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": "86400"}))
    with pytest.raises(RateLimitedError):
        make_client(ReadClient).list_semesters()
    assert fake_time.sleeps == []


def test_pacer_gate_spaces_attempts_and_takes_the_429_wait(
    server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    pacer = Pacer(interval=6.0, last_request_at=fake_time.now - 1.0, clock=fake_time.clock, sleep=fake_time.sleep)
    client = make_client()
    client.authenticate()
    server.script(METRIC_DETAILS_IMPORT, fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": "20"}))
    server.script(METRIC_DETAILS_IMPORT, IMPORTED, IMPORTED)
    start = fake_time.now
    do_import(client, gate=pacer)
    do_import(client, token="tok-2", gate=pacer)
    # wait for the last apply's request (5 s), then the 429's reset (20 s), then one interval (6 s); the
    # client itself never slept: the gate did all the waiting
    assert fake_time.sleeps == [5.0, 20.0, 6.0]
    assert pacer.last_request_at == fake_time.now == start + 31.0


# --- read endpoints -------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_list", [False, True])
def test_metric_details_object_or_list(as_list: bool, server: FakeFeishu, make_client: Any) -> None:
    detail = {
        "metric_id": 7272580325522276372,  # a number where an ID belongs: kept exact, as text
        "name": "Revenue",
        "fields": [
            {"field_id": "2", "field_value": "40%"},
            {
                "field_id": "7283776005142675476",
                "field_value": "",
                "field_value_person": {"open_id": "ou_3245842393d09e9428ad4655da6e30b3", "user_id": "u1"},
            },
        ],
        "dimension_weight": "90%",
        "add_from": "admin",
    }
    server.defaults[METRIC_DETAILS_QUERY] = {
        "reviewee_metrics": [
            {
                "reviewee_user_id": {"open_id": "ou_3245842393d09e9428ad4655da6e30b3", "user_id": "u1"},
                "metric_template_id": "7000000000000000001",
                "metric_details": [detail, {**detail, "metric_id": "2"}] if as_list else detail,
            }
        ]
    }
    [reviewee] = make_client(ReadClient).query_metric_details(
        semester_id="7293040702907514899", reviewee_user_ids=["ou_3245842393d09e9428ad4655da6e30b3"]
    )
    assert reviewee.reviewee.get("open_id") == "ou_3245842393d09e9428ad4655da6e30b3"
    assert [m.metric_id for m in reviewee.metrics] == (
        ["7272580325522276372", "2"] if as_list else ["7272580325522276372"]
    )
    first = reviewee.metrics[0]
    assert first.fields[0].value == "40%"
    assert first.fields[1].person is not None and first.fields[1].person.user_id == "u1"
    [request] = server.calls(METRIC_DETAILS_QUERY)
    assert request.url.params["user_id_type"] == "open_id"


def test_metric_details_chunks_reviewees_by_50(server: FakeFeishu, make_client: Any) -> None:
    ids = [f"ou_{i:032x}" for i in range(120)]
    make_client(ReadClient).query_metric_details(semester_id="1", reviewee_user_ids=ids)
    sizes = [len(json.loads(r.content)["reviewee_user_ids"]) for r in server.calls(METRIC_DETAILS_QUERY)]
    assert sizes == [50, 50, 20]


def test_reviewees_query_sends_at_most_50_user_ids_a_request_and_pages_each(
    server: FakeFeishu, make_client: Any
) -> None:
    """reviewees/query documents at most 50 user_ids: 120 go as 50, 50 and 20, each request paged."""
    server.script(
        REVIEWEES_QUERY,
        ok({"reviewees": [{"reviewee_user_id": {"open_id": "ou_1"}}], "has_more": True, "page_token": "p2"}),
        ok({"reviewees": [{"reviewee_user_id": {"open_id": "ou_2"}}], "has_more": False}),
    )
    ids = [f"ou_{i:032x}" for i in range(120)]
    make_client(ReadClient).query_reviewees(semester_id="1", user_ids=ids)
    calls = server.calls(REVIEWEES_QUERY)
    sizes = [len(json.loads(r.content)["user_ids"]) for r in calls]
    assert sizes == [50, 50, 50, 20]  # the first 50 took two pages
    assert [json.loads(r.content)["user_ids"] for r in calls[1:]] == [ids[:50], ids[50:100], ids[100:]]


def test_the_emulator_which_refuses_51_user_ids_answers_every_request_of_a_long_list() -> None:
    emu = Emulator()
    enrolled = list(emu.tenant.semesters["7293040702907514899"].reviewees)
    ids = [f"ou_{i:032x}" for i in range(60)] + enrolled  # 60 unknown users, then the semester's reviewees
    with ReadClient(
        base_url="http://127.0.0.1", credentials=EMULATOR_CREDENTIALS, transport=EmulatorTransport(emu)
    ) as c:
        found = c.query_reviewees(semester_id="7293040702907514899", user_ids=ids)
    assert {r.user.open_id for r in found} == {i for i in enrolled if emu.tenant.app.in_scope(i)}
    sizes = [len(json.loads(e.body)["user_ids"]) for e in emu.requests("reviewees.query")]
    assert max(sizes) == 50 and sum(sizes) == len(ids)


@pytest.mark.parametrize(
    ("uid_type", "sent"),
    [("open_id", "open_id"), ("union_id", "union_id"), ("user_id", "user_id"), ("people_admin_id", None)],
)
def test_semesters_are_asked_with_a_documented_user_id_type_only(
    server: FakeFeishu, make_client: Any, uid_type: Any, sent: str | None
) -> None:
    """v1 semesters documents open_id, union_id and user_id: with people_admin_id the parameter is left out."""
    server.defaults[SEMESTERS_LIST] = {"items": []}
    make_client(ReadClient).list_semesters(user_id_type=uid_type)
    [request] = server.calls(SEMESTERS_LIST)
    assert request.url.params.get("user_id_type") == sent


def test_floats_never_reach_ids(server: FakeFeishu, make_client: Any) -> None:
    server.script(
        METRIC_FIELDS_QUERY,
        httpx.Response(200, content=b'{"code":0,"data":{"items":[{"field_id":1.5,"type":"text"}]}}'),
    )
    with pytest.raises(BadResponseError, match="field_id"):
        make_client(ReadClient).query_metric_fields()


def test_metric_fields_type_spelling(server: FakeFeishu, make_client: Any) -> None:
    server.defaults[METRIC_FIELDS_QUERY] = {
        "items": [
            {"field_id": "2", "name": {"zh_cn": "权重"}, "type": "pencentage"},
            {"field_id": "7", "name": {"en_us": "Note"}, "type": "text"},
        ]
    }
    fields = make_client(ReadClient).query_metric_fields(field_ids=["2", "7"])
    assert [(f.field_id, f.type) for f in fields] == [("2", "percentage"), ("7", "text")]


def test_metric_libs_paged(server: FakeFeishu, make_client: Any) -> None:
    lib = {
        "metric_id": "11",
        "name": "A",
        "is_active": True,
        "fields": [{"field_id": "2", "input_setting": "admin"}],
    }
    server.script(
        METRIC_LIBS_QUERY,
        ok({"items": [lib], "has_more": True, "page_token": "p2"}),
        ok({"items": [{**lib, "metric_id": "12"}], "has_more": False}),
    )
    libs = make_client(ReadClient).query_metric_libs(page_size=1)
    assert [m.metric_id for m in libs] == ["11", "12"]
    assert libs[0].fields[0].input_setting == "admin"
    first, second = server.calls(METRIC_LIBS_QUERY)
    assert "page_token" not in first.url.params and second.url.params["page_token"] == "p2"
    assert first.url.params["page_size"] == "1"


def test_paging_with_a_repeated_token_stops(server: FakeFeishu, make_client: Any) -> None:
    page = ok({"reviewees": [], "has_more": True, "page_token": "same"})
    server.script(REVIEWEES_QUERY, page, page)
    with pytest.raises(BadResponseError, match="page_token"):
        make_client(ReadClient).query_reviewees(semester_id="1")


def test_reviewees_semesters_and_user_ids(server: FakeFeishu, make_client: Any) -> None:
    server.defaults[REVIEWEES_QUERY] = {
        "reviewees": [{"reviewee_user_id": {"open_id": "ou_a"}, "activity_ids": ["9"]}],
        "has_more": False,
    }
    server.defaults[SEMESTERS_LIST] = {
        "items": [
            {
                "id": "7293040702907514899",
                "name": {"zh_cn": "2026 下半年"},
                "year": 2026,
                "progress": "enabled",
                "start_time": "1780000000000",
            }
        ]
    }
    server.defaults["/open-apis/contact/v3/users/batch_get_id"] = {
        "user_list": [
            {"user_id": "ou_b", "email": "bob@example.com"},
            {"user_id": "", "email": "x@example.com"},
        ]
    }
    client = make_client(ReadClient)
    [reviewee] = client.query_reviewees(semester_id="7293040702907514899", user_ids=["ou_a"])
    assert reviewee.user.open_id == "ou_a" and reviewee.activity_ids == ("9",)
    [semester] = client.list_semesters()
    assert semester.id == "7293040702907514899" and semester.year == "2026" and semester.progress == "enabled"
    users = client.batch_get_user_ids(emails=["bob@example.com", "x@example.com"])
    assert [u.user_id for u in users] == ["ou_b", None]


# --- read/write split -----------------------------------------------------------------------------------


def test_read_client_cannot_import(server: FakeFeishu, make_client: Any) -> None:
    reader = make_client(ReadClient)
    assert not hasattr(reader, "import_metric_details")
    assert not hasattr(ReadClient, "import_metric_details")
    with pytest.raises(PermissionError):
        reader._session.call("POST", METRIC_DETAILS_IMPORT, payload={})
    assert server.calls(METRIC_DETAILS_IMPORT) == []
    assert hasattr(WriteClient, "import_metric_details")


def test_import_sends_the_documented_request(server: FakeFeishu, make_client: Any) -> None:
    server.script(METRIC_DETAILS_IMPORT, ok({"import_record_id": 7241404194141224979}))
    assert do_import(make_client(), token="tok-1") == "7241404194141224979"
    [request] = server.calls(METRIC_DETAILS_IMPORT)
    assert request.method == "POST"
    assert dict(request.url.params) == {"client_token": "tok-1", "user_id_type": "open_id"}
    assert json.loads(request.content, parse_float=Decimal) == {
        "semester_id": "7293040702907514899",
        "import_record_name": "syncer abc1234",
        "imported_metrics": [ITEM],
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"imported_metrics": []}, "1 to 50"),
        ({"imported_metrics": [ITEM] * 51}, "1 to 50"),
        ({"client_token": ""}, "client_token"),
        ({"client_token": "x" * 65}, "client_token"),
    ],
)
def test_import_refuses_malformed_calls(kwargs: dict[str, Any], match: str, make_client: Any) -> None:
    args: dict[str, Any] = {
        "semester_id": "1",
        "import_record_name": "n",
        "imported_metrics": [ITEM],
        "client_token": "t",
        "user_id_type": "open_id",
    }
    with pytest.raises(ValueError, match=match):
        make_client().import_metric_details(**{**args, **kwargs})


def test_a_wrong_app_secret_is_named_with_what_to_do(server: FakeFeishu, make_client: Any) -> None:
    server.script(TOKEN_PATH, fail(10014, "app secret invalid", status=200))
    with pytest.raises(AuthError) as info:
        make_client(ReadClient).authenticate()
    assert "10014" in str(info.value) and "the app secret is invalid" in str(info.value)
    assert "FEISHU_APP_SECRET" in str(info.value)


def test_a_missing_scope_and_the_gateways_field_violations_are_explained(server: FakeFeishu, make_client: Any) -> None:
    server.script(
        SEMESTERS_LIST,
        fail(99991672, "Access denied. One of the following scopes is required: [performance:semester:read]"),
    )
    with pytest.raises(RequestRejected) as info:
        make_client(ReadClient).list_semesters()
    assert "lacks a permission" in str(info.value) and "performance:semester:read" in str(info.value)
    violations = {
        "code": 99992402,
        "msg": "field validation failed",
        "error": {"field_violations": [{"field": "page_size", "description": "must be between 1 and 50"}]},
    }
    server.script(SEMESTERS_LIST, httpx.Response(400, json=violations))
    with pytest.raises(RequestRejected) as info:
        make_client(ReadClient).list_semesters()
    assert info.value.violations == ("page_size: must be between 1 and 50",)
    assert "page_size: must be between 1 and 50" in str(info.value)


def test_an_unknown_code_keeps_feishus_own_message(server: FakeFeishu, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, fail(1234567, "the moon is in the wrong phase"))
    with pytest.raises(RequestRejected) as info:
        make_client(ReadClient).list_semesters()
    assert not info.value.known and "the moon is in the wrong phase" in str(info.value)


def test_paged_reads_ask_for_at_most_the_documented_page_size(server: FakeFeishu, make_client: Any) -> None:
    server.defaults[REVIEWEES_QUERY] = {"reviewees": [], "has_more": False}
    server.defaults[METRIC_LIBS_QUERY] = {"items": [], "has_more": False}
    client = make_client(ReadClient)
    client.query_reviewees(semester_id="1")
    client.query_metric_libs()
    for path in (REVIEWEES_QUERY, METRIC_LIBS_QUERY):
        (call,) = server.calls(path)
        assert 1 <= int(call.url.params["page_size"]) <= 50


# --- messages that say what happened ----------------------------------------------------------------------------

WALL = 1_796_736_600.0  # 2026-12-08 13:30:00 UTC


@pytest.mark.parametrize(
    ("reset", "policy", "told"),
    [
        ("3600", RetryPolicy(), "Feishu asked to wait 3600 s: run again after 14:30:00 UTC"),
        ("86400", RetryPolicy(), "Feishu asked to wait 86400 s: run again after 2026-12-09 13:30:00 UTC"),
        ("250", RetryPolicy(max_rate_limit_total=300), "Feishu asked to wait 250 s: run again after 13:34:10 UTC"),
        ("7", RetryPolicy(max_rate_limited=0), "Feishu asked to wait 7 s: run again after 13:30:07 UTC"),
    ],
)
def test_a_rate_limit_syncer_will_not_wait_out_says_how_long_and_until_when(
    reset: str, policy: RetryPolicy, told: str, server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    limited = fail(99991400, status=429, headers={"x-ogw-ratelimit-reset": reset})
    server.script(SEMESTERS_LIST, *[limited] * 3)
    with pytest.raises(RateLimitedError) as info:
        make_client(ReadClient, retry=policy, wall=lambda: WALL).list_semesters()
    assert told in str(info.value)
    assert "wait and run again" not in str(info.value)


def test_a_rate_limit_without_a_reset_says_feishu_gave_no_time(server: FakeFeishu, make_client: Any) -> None:
    server.script(SEMESTERS_LIST, httpx.Response(429, text="slow down"))
    with pytest.raises(RateLimitedError) as info:
        make_client(ReadClient, retry=RetryPolicy(max_rate_limited=0), wall=lambda: WALL).list_semesters()
    assert "Feishu gave no time to wait (x-ogw-ratelimit-reset); wait a minute and run again" in str(info.value)


@pytest.mark.parametrize("code", [10014, 10003])
def test_a_token_refused_mid_run_is_not_called_a_wrong_secret(
    code: int, server: FakeFeishu, fake_time: FakeTime, make_client: Any
) -> None:
    client = make_client(ReadClient)
    client.list_semesters()  # the first token: the credentials are accepted
    fake_time.now += 7200  # due for a refresh
    server.script(TOKEN_PATH, fail(code, "app is disabled", status=200))
    with pytest.raises(AuthError) as info:
        client.list_semesters()
    text = str(info.value)
    assert info.value.code == code and f"code {code}" in text
    assert "re-authentication failed after the first tenant token of this run was obtained" in text
    assert "were accepted earlier in this run" in text and "the app's status" in text and "network" in text
    assert "the app secret is invalid" not in text and "check FEISHU_APP_ID" not in text


def test_a_token_refused_at_the_start_still_names_the_secret(server: FakeFeishu, make_client: Any) -> None:
    server.script(TOKEN_PATH, fail(10014, "app secret invalid", status=200))
    with pytest.raises(AuthError) as info:
        make_client(ReadClient).list_semesters()
    assert "the app secret is invalid" in str(info.value) and "earlier in this run" not in str(info.value)
