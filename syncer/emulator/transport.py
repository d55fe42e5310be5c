"""The emulator behind httpx, in-process: no socket, no thread.

    emu = Emulator()
    client = httpx.Client(transport=EmulatorTransport(emu), base_url="https://open.feishu.cn")

The host of the URL doesn't matter. A lost response (fault injection) surfaces as
`httpx.RemoteProtocolError`, as a server that closes the connection would; an exception raised by a
commit hook goes through unchanged (a simulated crash of the caller at that instant).
`mock_transport(emu)` gives an `httpx.MockTransport` for code that wants exactly that.
"""

from __future__ import annotations

import httpx

from syncer.emulator.app import Emulator
from syncer.emulator.faults import ResponseLost

LOST = "Server disconnected without sending a response."


def _call(emu: Emulator, request: httpx.Request, body: bytes) -> httpx.Response:
    try:
        status, headers, content = emu.handle(
            request.method,
            request.url.path,
            request.url.query.decode("ascii", "replace"),
            dict(request.headers),
            body,
        )
    except ResponseLost as exc:
        raise httpx.RemoteProtocolError(LOST, request=request) from exc
    return httpx.Response(status, headers=headers, content=content, request=request)


class EmulatorTransport(httpx.BaseTransport):
    """An httpx transport that answers from an `Emulator` in the calling thread."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _call(self.emulator, request, request.read())


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """The same for `httpx.AsyncClient` (injected latency blocks the loop: use a fake `sleep`)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return _call(self.emulator, request, body)


def mock_transport(emu: Emulator) -> httpx.MockTransport:
    """`httpx.MockTransport` answering from `emu` (for code that expects exactly a MockTransport)."""

    def handle(request: httpx.Request) -> httpx.Response:
        return _call(emu, request, request.read())

    return httpx.MockTransport(handle)
