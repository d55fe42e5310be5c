"""Conformance: the official lark-oapi SDK, unchanged, against the emulator on loopback.

The SDK fetches its tenant token with cli_emulator/emulator_secret, imports the documentation page's exact
example body, and reads it back with metric_details/query; its other read models parse our answers too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.contact.v3 import BatchGetIdUserRequest, BatchGetIdUserRequestBody
from lark_oapi.api.performance.v1 import ListSemesterRequest
from lark_oapi.api.performance.v2 import (
    ImportedMetric,
    ImportedMetricField,
    ImportMetricDetailRequest,
    ImportMetricDetailRequestBody,
    QueryMetricDetailRequest,
    QueryMetricDetailRequestBody,
    QueryMetricFieldRequest,
    QueryMetricFieldRequestBody,
    QueryMetricLibRequest,
    QueryMetricLibRequestBody,
    QueryRevieweeRequest,
    QueryRevieweeRequestBody,
)
from lark_oapi.core.cache.local_cache import LocalCache
from lark_oapi.core.exception import UnmarshalException

from syncer.emulator import Emulator, EmulatorServer, Tenant

SEMESTER = "7293040702907514899"
METRIC = "7272580325522276372"
FIELD = "7283776005142675476"
REVIEWEE = "ou_3245842393d09e9428ad4655da6e30b3"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK uses `requests`, which honours proxy variables: loopback must go direct."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def _restore_sdk_cache() -> Iterator[None]:
    """`builder.cache(...)` replaces the SDK's process-wide token cache: put the original back."""
    from lark_oapi.core.token.manager import TokenManager

    original = TokenManager.cache
    yield
    TokenManager.cache = original


def make_server(tenant: Tenant) -> EmulatorServer:
    return EmulatorServer(Emulator(tenant))


@pytest.fixture
def server(tenant: Tenant) -> Iterator[EmulatorServer]:
    with make_server(tenant) as srv:
        yield srv


def sdk(server: EmulatorServer, *, app_id: str = "cli_emulator", app_secret: str = "emulator_secret") -> Any:
    # A fresh token cache: the SDK's default one is process-wide and would carry tokens across emulators.
    return (
        lark.Client.builder()
        .app_id(app_id)
        .app_secret(app_secret)
        .domain(server.url)
        .cache(LocalCache())
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


def seed_request(client_token: str = "12454646") -> ImportMetricDetailRequest:
    """The Python SDK example of the import endpoint's documentation page, verbatim."""
    return (
        ImportMetricDetailRequest.builder()
        .client_token(client_token)
        .user_id_type("open_id")
        .request_body(
            ImportMetricDetailRequestBody.builder()
            .semester_id("7293040702907514899")
            .import_record_name("API录入")
            .imported_metrics(
                [
                    ImportedMetric.builder()
                    .reviewee_user_id("ou_3245842393d09e9428ad4655da6e30b3")
                    .metric_id("7272580325522276372")
                    .fields(
                        [
                            ImportedMetricField.builder()
                            .field_id("7283776005142675476")
                            .field_value("100")
                            .field_value_person("ou_3245842393d09e9428ad4655da6e30b3")
                            .build()
                        ]
                    )
                    .build()
                ]
            )
            .build()
        )
        .build()
    )


def query_request() -> QueryMetricDetailRequest:
    body = QueryMetricDetailRequestBody.builder().semester_id(SEMESTER).reviewee_user_ids([REVIEWEE]).build()
    return QueryMetricDetailRequest.builder().user_id_type("open_id").request_body(body).build()


def test_sdk_imports_the_seed_example_and_reads_it_back(server: EmulatorServer) -> None:
    client = sdk(server)
    resp = client.performance.v2.metric_detail.import_(seed_request())
    assert resp.success(), (resp.code, resp.msg)
    record_id = str(resp.data.import_record_id)
    assert len(record_id) == 19 and record_id.isdigit()
    assert resp.get_log_id()  # the SDK finds X-Tt-Logid

    log = server.emulator.requests()
    assert [e.endpoint for e in log] == ["auth.tenant_access_token", "metric_details.import"]
    assert log[1].client_token == "12454646"
    assert server.emulator.import_records()[0].name == "API录入"

    q = client.performance.v2.metric_detail.query(query_request())
    assert q.success(), (q.code, q.msg)
    assert q.data.semester_id == SEMESTER
    details = {m.metric_details.metric_id: m.metric_details for m in q.data.reviewee_metrics}
    assert set(details) == {METRIC, "7272580325522276401"}
    [owner] = details[METRIC].fields
    assert (owner.field_id, owner.field_value) == (FIELD, "100")
    assert owner.field_value_person.open_id == REVIEWEE
    assert q.data.reviewee_metrics[0].reviewee_user_id.open_id == REVIEWEE

    again = client.performance.v2.metric_detail.import_(seed_request())
    assert (again.code, again.raw.status_code) == (1580110, 400)
    assert len([e for e in server.emulator.requests() if e.endpoint == "auth.tenant_access_token"]) == 1  # cached


def test_sdk_sees_bad_credentials(server: EmulatorServer) -> None:
    from lark_oapi.core.exception import ObtainAccessTokenException

    with pytest.raises(ObtainAccessTokenException) as err:
        sdk(server, app_secret="wrong").performance.v2.metric_detail.import_(seed_request())
    assert err.value.code == 10014


def test_sdk_read_models_parse_the_answers(server: EmulatorServer) -> None:
    client = sdk(server)
    fields = client.performance.v2.metric_field.query(
        QueryMetricFieldRequest.builder()
        .request_body(QueryMetricFieldRequestBody.builder().field_ids([]).build())
        .build()
    )
    assert fields.success() and {f.type for f in fields.data.items} == {
        "text",
        "pencentage",
        "number",
        "person",
    }

    libs = client.performance.v2.metric_lib.query(
        QueryMetricLibRequest.builder().page_size(2).request_body(QueryMetricLibRequestBody.builder().build()).build()
    )
    assert libs.success() and len(libs.data.items) == 2 and libs.data.has_more is True
    assert libs.data.items[0].fields[0].input_setting == "data_source_inputter"
    nxt = client.performance.v2.metric_lib.query(
        QueryMetricLibRequest.builder().page_size(2).page_token(libs.data.page_token)
        .request_body(QueryMetricLibRequestBody.builder().build()).build()
    )  # fmt: skip
    assert nxt.success() and nxt.data.items[0].metric_id != libs.data.items[0].metric_id

    reviewees = client.performance.v2.reviewee.query(
        QueryRevieweeRequest.builder().user_id_type("open_id").page_size(50)
        .request_body(QueryRevieweeRequestBody.builder().semester_id(SEMESTER).build()).build()
    )  # fmt: skip
    assert reviewees.success() and REVIEWEE in {r.reviewee_user_id.open_id for r in reviewees.data.reviewees}

    semesters = client.performance.v1.semester.list(ListSemesterRequest.builder().user_id_type("open_id").build())
    assert semesters.success() and semesters.data.items[0].id == SEMESTER
    # The documentation's example keys names zh-CN/en-US; the SDK's I18n model reads zh_cn/en_us and finds none.
    assert semesters.data.items[0].name.en_us is None

    users = client.contact.v3.user.batch_get_id(
        BatchGetIdUserRequest.builder().user_id_type("open_id")
        .request_body(BatchGetIdUserRequestBody.builder().emails(["bob@example.com"]).build()).build()
    )  # fmt: skip
    assert users.success() and users.data.user_list[0].user_id == "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert users.data.user_list[0].status.is_resigned is False


def test_the_sdk_reads_semester_names_and_integer_times_in_its_own_reading(tenant: Tenant) -> None:
    with make_server(tenant.with_switches(semester_names="zh_cn", semester_times="int")) as server:
        semesters = sdk(server).performance.v1.semester.list(ListSemesterRequest.builder().build())
    assert semesters.success() and semesters.data.items[0].name.en_us == "2026 H2"
    assert isinstance(semesters.data.items[0].start_time, int)


def test_the_list_shape_switch_is_what_the_sdk_cannot_parse(tenant: Tenant) -> None:
    """Why `metric_details_shape: object` is the default: every SDK models one object per element."""
    server = make_server(tenant.with_switches(metric_details_shape="list"))
    with server as srv, pytest.raises(UnmarshalException):
        sdk(srv).performance.v2.metric_detail.query(query_request())


def test_every_read_the_client_uses_works_with_ids_typed_as_the_sdk_types_them(tenant: Tenant) -> None:
    """The SDK's models type semester, metric and field IDs as int: with `accept_numeric_ids` the emulator
    takes them as such in every read syncer's client makes (semesters, metric library, field library,
    reviewees, metric details, contact IDs) and in the import, and the answers parse into those models."""
    with make_server(tenant.with_switches(accept_numeric_ids=True)) as srv:
        client = sdk(srv)
        semester, metric = int(SEMESTER), int(METRIC)
        imported = client.performance.v2.metric_detail.import_(
            ImportMetricDetailRequest.builder().client_token("numeric-1").user_id_type("open_id")
            .request_body(
                ImportMetricDetailRequestBody.builder().semester_id(semester).import_record_name("ints")
                .imported_metrics([
                    ImportedMetric.builder().reviewee_user_id(REVIEWEE).metric_id(metric)
                    .fields([ImportedMetricField.builder().field_id(2).field_value("60%").build()]).build()
                ]).build()
            ).build()
        )  # fmt: skip
        assert imported.success(), (imported.code, imported.msg)
        details = client.performance.v2.metric_detail.query(
            QueryMetricDetailRequest.builder().user_id_type("open_id")
            .request_body(
                QueryMetricDetailRequestBody.builder().semester_id(semester).reviewee_user_ids([REVIEWEE]).build()
            ).build()
        )  # fmt: skip
        assert details.success(), (details.code, details.msg)
        held = {
            (str(m.metric_details.metric_id), str(f.field_id)): f.field_value
            for m in details.data.reviewee_metrics
            for f in m.metric_details.fields
        }
        assert held[(METRIC, "2")] == "60%"
        fields = client.performance.v2.metric_field.query(
            QueryMetricFieldRequest.builder()
            .request_body(QueryMetricFieldRequestBody.builder().field_ids([2, 4]).build()).build()
        )  # fmt: skip
        assert fields.success() and sorted(str(f.field_id) for f in fields.data.items) == ["2", "4"]
        libs = client.performance.v2.metric_lib.query(
            QueryMetricLibRequest.builder().page_size(50).request_body(QueryMetricLibRequestBody.builder().build())
            .build()
        )  # fmt: skip
        assert libs.success() and METRIC in {str(m.metric_id) for m in libs.data.items}
        reviewees = client.performance.v2.reviewee.query(
            QueryRevieweeRequest.builder().user_id_type("open_id").page_size(50)
            .request_body(QueryRevieweeRequestBody.builder().semester_id(semester).build()).build()
        )  # fmt: skip
        assert reviewees.success() and REVIEWEE in {r.reviewee_user_id.open_id for r in reviewees.data.reviewees}
        semesters = client.performance.v1.semester.list(ListSemesterRequest.builder().user_id_type("open_id").build())
        assert semesters.success() and SEMESTER in {str(s.id) for s in semesters.data.items}
        users = client.contact.v3.user.batch_get_id(
            BatchGetIdUserRequest.builder().user_id_type("open_id")
            .request_body(BatchGetIdUserRequestBody.builder().emails(["alice@example.com"]).build()).build()
        )  # fmt: skip
        assert users.success() and users.data.user_list[0].user_id == REVIEWEE
