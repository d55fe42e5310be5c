"""A local stand-in for the Feishu endpoints syncer uses: faithful enough that the official lark-oapi SDK
works against it unchanged. It knows nothing of syncer. See docs/emulator.md.

    from syncer.emulator import Emulator, EmulatorTransport
    emu = Emulator()                                     # the default tenant (default_tenant.yaml)
    client = httpx.Client(transport=EmulatorTransport(emu), base_url="https://open.feishu.cn")

Modules: `tenant` (the model) and `loader` (the tenant file and its schema); then, in the order a request
meets them, `routes` (the endpoints served), `app` (auth and dispatch), `ratelimit`, `faults`, `rules` (the
import), `reads` (the other endpoints), `store` (the state), `envelope` (the answers as bytes) and `admin`
(`/_emulator/...`); `clock` (injectable time); `transport` (httpx, in process) and `server` (loopback HTTP).
"""

from __future__ import annotations

from syncer.emulator.app import Emulator
from syncer.emulator.clock import ManualClock
from syncer.emulator.envelope import Response
from syncer.emulator.faults import FaultInjector, Hold, ResponseLost
from syncer.emulator.loader import TenantError, default_tenant_path, load_tenant, parse_tenant
from syncer.emulator.server import EmulatorServer, is_loopback, run_until_stopped
from syncer.emulator.store import ImportRecord, LogEntry, StoredValue
from syncer.emulator.tenant import Tenant
from syncer.emulator.transport import AsyncEmulatorTransport, EmulatorTransport, mock_transport

__all__ = [
    "AsyncEmulatorTransport",
    "Emulator",
    "EmulatorServer",
    "EmulatorTransport",
    "FaultInjector",
    "Hold",
    "ImportRecord",
    "LogEntry",
    "ManualClock",
    "Response",
    "ResponseLost",
    "StoredValue",
    "Tenant",
    "TenantError",
    "default_tenant_path",
    "is_loopback",
    "load_tenant",
    "mock_transport",
    "parse_tenant",
    "run_until_stopped",
]
