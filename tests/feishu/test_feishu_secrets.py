"""The app secret and the tenant token never show: not in exceptions (str, repr, causes), reprs or logs."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from syncer.feishu.auth import TOKEN_PATH, Credentials, TokenCache, credentials_from_env
from syncer.feishu.client import SEMESTERS_LIST, ReadClient
from syncer.feishu.errors import MissingCredentialsError
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.write import METRIC_DETAILS_IMPORT, WriteClient
from tests.feishu.fakefeishu import APP_SECRET, BASE, FakeFeishu, fail

TOKEN = "T-SECRET-TOKEN"  # every token the fake server issues starts with this


def texts_of(exc: BaseException) -> list[str]:
    out: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        out += [str(seen), repr(seen), *(str(a) for a in seen.args)]
        # what a traceback shows: the cause, else the context unless suppressed
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return out


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert APP_SECRET not in text
        assert TOKEN not in text


def echo(request: httpx.Request) -> httpx.Response:
    """A server (or proxy) that echoes the request's secrets in its message."""
    leak = f"{request.headers.get('authorization', '')} {request.content.decode()}"
    return fail(1580102, f"bad request: {leak}")


SCENARIOS: list[tuple[str, list[Any]]] = [
    (TOKEN_PATH, [fail(10003, "invalid param", status=200)]),
    (TOKEN_PATH, [echo]),
    (TOKEN_PATH, [httpx.ConnectError(f"cannot connect ({APP_SECRET}?)")] * 2),
    (METRIC_DETAILS_IMPORT, [echo]),
    (METRIC_DETAILS_IMPORT, [fail(99991663), fail(99991663)]),
    (METRIC_DETAILS_IMPORT, [httpx.ReadTimeout("timed out")] * 2),
    (METRIC_DETAILS_IMPORT, [httpx.Response(500, text=f"oops {APP_SECRET}")] * 2),
    (METRIC_DETAILS_IMPORT, [fail(99991400, status=429)] * 2),
    (METRIC_DETAILS_IMPORT, [httpx.Response(400, text="<html>")]),
    (METRIC_DETAILS_IMPORT, [fail(1580110)]),
]


@pytest.mark.parametrize(("path", "answers"), SCENARIOS)
def test_no_secret_in_any_error_or_log(
    path: str, answers: list[Any], server: FakeFeishu, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client: WriteClient = make_client(retry=RetryPolicy(max_attempts=2, max_rate_limited=1))
    if path != TOKEN_PATH:
        client.authenticate()
    server.script(path, *answers)
    with pytest.raises(Exception) as info:
        client.import_metric_details(
            semester_id="1",
            import_record_name="n",
            imported_metrics=[
                {
                    "reviewee_user_id": "ou_a",
                    "metric_id": "2",
                    "fields": [{"field_id": "2", "field_value": "1"}],
                }
            ],
            client_token="tok",
            user_id_type="open_id",
        )
    assert_clean(*texts_of(info.value), repr(client), str(client), caplog.text)


def test_echoed_secrets_are_scrubbed(server: FakeFeishu, make_client: Any) -> None:
    client = make_client(ReadClient)
    client.authenticate()
    server.script(SEMESTERS_LIST, echo)
    with pytest.raises(Exception) as info:
        client.list_semesters()
    assert "<hidden>" in str(info.value)
    assert_clean(*texts_of(info.value))


def test_reprs_hide_secrets(server: FakeFeishu, make_client: Any) -> None:
    creds = Credentials("cli_x", APP_SECRET)
    assert_clean(repr(creds), str(creds))
    client = make_client(ReadClient, credentials=Credentials("cli_test_app", APP_SECRET))
    client.authenticate()
    assert_clean(repr(client), str(client), repr(client._session), repr(client._session._tokens))
    assert "cli_test_app" in repr(client)
    cache = TokenCache()
    cache.store("T-SECRET-TOKEN-9", expire=7200, now=0)
    assert_clean(repr(cache))


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, ["FEISHU_APP_ID", "FEISHU_APP_SECRET"]),
        ({"FEISHU_APP_ID": "cli_x"}, ["FEISHU_APP_SECRET"]),
        ({"FEISHU_APP_SECRET": APP_SECRET}, ["FEISHU_APP_ID"]),
        ({"FEISHU_APP_ID": "  ", "FEISHU_APP_SECRET": APP_SECRET}, ["FEISHU_APP_ID"]),
    ],
)
def test_missing_credentials_name_the_variables(env: dict[str, str], missing: list[str]) -> None:
    with pytest.raises(MissingCredentialsError) as info:
        credentials_from_env(env)
    message = str(info.value)
    assert message.startswith(" and ".join(missing))
    assert "FEISHU_APP_ID" in message and "FEISHU_APP_SECRET" in message
    assert_clean(message, repr(info.value))


def test_credentials_from_env(server: FakeFeishu) -> None:
    env = {"FEISHU_APP_ID": "cli_test_app", "FEISHU_APP_SECRET": APP_SECRET}
    assert credentials_from_env(env) == Credentials("cli_test_app", APP_SECRET)
    with ReadClient.from_env(base_url=BASE, env=env, transport=server.transport()) as client:
        client.authenticate()
    assert server.token_fetches() == 1
