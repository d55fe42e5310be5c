"""The write client, built here for whoever runs an apply (the CLI, the demo): apply is the only package
that imports syncer.feishu.write, and an import contract keeps it so."""

from __future__ import annotations

import httpx

from syncer.feishu.auth import Credentials
from syncer.feishu.write import WriteClient

__all__ = ["WriteClient", "write_client"]


def write_client(
    *, base_url: str, credentials: Credentials, transport: httpx.BaseTransport | None = None, redact: bool = False
) -> WriteClient:
    """`redact` (--redact-values): what Feishu says to an import never shows a value the import sent."""
    return WriteClient(base_url=base_url, credentials=credentials, transport=transport, redact=redact)
