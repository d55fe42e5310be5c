"""The in-process httpx transports."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from syncer.emulator import AsyncEmulatorTransport, Emulator, mock_transport

from .helpers import ALICE, H2, QUERY


def test_mock_transport(emu: Emulator) -> None:
    with httpx.Client(transport=mock_transport(emu), base_url="https://open.larksuite.com") as client:
        token = client.post(
            "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": "cli_emulator", "app_secret": "emulator_secret"},
        ).json()["tenant_access_token"]
        resp = client.post(
            QUERY,
            json={"semester_id": H2, "reviewee_user_ids": [ALICE]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert resp.json()["code"] == 0


def test_mock_transport_loses_responses_like_a_closed_connection(emu: Emulator) -> None:
    emu.faults.inject("lost_response", endpoint="semesters.list")
    headers = {"Authorization": f"Bearer {emu.issue_token()}"}
    client = httpx.Client(transport=mock_transport(emu), base_url="https://open.feishu.cn")
    with client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/open-apis/performance/v1/semesters", headers=headers)


def test_async_transport(emu: Emulator) -> None:
    async def main() -> int:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(emu), base_url="https://open.feishu.cn") as c:
            r = await c.get(
                "/open-apis/performance/v1/semesters",
                headers={"Authorization": f"Bearer {emu.issue_token()}"},
            )
            code: int = r.json()["code"]
            return code

    assert asyncio.run(main()) == 0
