from __future__ import annotations

import socket

import pytest


def test_non_loopback_connections_are_refused_in_tests() -> None:
    with pytest.raises(RuntimeError, match="only use loopback"):
        socket.create_connection(("192.0.2.1", 443), timeout=0.1)
    with pytest.raises(RuntimeError, match="only use loopback"):
        socket.getaddrinfo("open.feishu.cn", 443)


def test_loopback_is_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
