"""The emulator behind a real HTTP server (stdlib `ThreadingHTTPServer`), for the official SDK, other
processes and `syncer emulator`.

    with EmulatorServer(Emulator()) as server:      # 127.0.0.1, a free port
        print(server.url)                            # http://127.0.0.1:PORT

Loopback by default; `is_loopback` tells the CLI when to warn. A lost response (fault injection) closes
the connection without a byte; so does an exception of a commit hook.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from syncer.emulator.app import Emulator
from syncer.emulator.faults import ResponseLost

log = logging.getLogger("syncer.emulator")

MAX_BODY = 64 * 1024 * 1024


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FeishuEmulator/1"
    sys_version = ""
    emulator: Emulator  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._body()
        except ValueError:
            body = None
        if body is None:
            self.send_error(413 if self.headers.get("content-length") else 400)
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        try:
            status, headers, content = self.emulator.handle(self.command, path, query, dict(self.headers), body)
        except ResponseLost:
            self.close_connection = True  # not a byte: the client sees the connection close
            return
        except Exception:
            log.exception("emulator: exception while answering %s %s (connection closed)", self.command, path)
            self.close_connection = True
            return
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class EmulatorServer:
    """An `Emulator` on `host:port` (port 0: a free one), served from a background thread."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        handler = type("Handler", (_Handler,), {"emulator": emulator})
        cls = _Server6 if ":" in host.strip("[]") else _Server
        self._httpd = cls((host.strip("[]"), port), handler)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="feishu-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.emulator.faults.release_holds()  # parked responses go, so their threads end
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_until_stopped(
    emulator: Emulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[EmulatorServer], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (or `stop` is set), then shut down cleanly.

    Signal handlers are installed only when called from the main thread, and restored afterwards."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with EmulatorServer(emulator, host, port) as server:
            if on_ready is not None:
                on_ready(server)
            while not stop.wait(0.1):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
