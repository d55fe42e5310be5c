"""The write client: a ReadClient that may also import metric values (`metric_details/import`). Only
syncer.apply builds one (an import contract says so); `plan` cannot write by construction."""

from __future__ import annotations

from collections.abc import Sequence

from syncer.feishu.client import READ_PATHS, ReadClient
from syncer.feishu.errors import BadResponseError
from syncer.feishu.records import MAX_CLIENT_TOKEN, ImportedMetric, import_body
from syncer.feishu.session import RequestGate
from syncer.model import UserIdType

METRIC_DETAILS_IMPORT = "/open-apis/performance/v2/metric_details/import"
WRITE_PATHS = frozenset({METRIC_DETAILS_IMPORT})


class WriteClient(ReadClient):
    """A ReadClient that may also import metric values. Only `apply` builds one."""

    _paths = READ_PATHS | WRITE_PATHS

    def import_metric_details(
        self,
        *,
        semester_id: str,
        import_record_name: str,
        imported_metrics: Sequence[ImportedMetric],
        client_token: str,
        user_id_type: UserIdType,
        gate: RequestGate | None = None,
    ) -> str:
        """Send one batch (1 to 50 rows) and return its import_record_id.

        `client_token` is decided by the caller, once per batch, and every retry of this call re-sends it
        with the very same body. A DuplicateTokenError with `after_retry` set means an earlier attempt of
        this call landed. `gate` (a Pacer) spaces every attempt, retries included.
        """
        if not 1 <= len(client_token) <= MAX_CLIENT_TOKEN:
            raise ValueError(f"client_token must be 1 to {MAX_CLIENT_TOKEN} characters")
        body = import_body(
            semester_id=semester_id,
            import_record_name=import_record_name,
            imported_metrics=list(imported_metrics),
        )
        data = self._session.call(
            "POST",
            METRIC_DETAILS_IMPORT,
            params={"client_token": client_token, "user_id_type": user_id_type},
            payload=body,
            gate=gate,
            echoes=sent_values(imported_metrics),
        )
        record_id = data.get("import_record_id")
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        if not isinstance(record_id, str) or not record_id:
            raise BadResponseError(f"POST {METRIC_DETAILS_IMPORT}: the answer has no import_record_id")
        return record_id


def sent_values(imported_metrics: Sequence[ImportedMetric]) -> list[str]:
    """The per-employee values an import sends (every field's value and person), what `--redact-values`
    hides in Feishu's answer to it; the IDs it sends (semester, reviewees, metrics, fields) stay visible."""
    out: list[str] = []
    for item in imported_metrics:
        for f in item["fields"]:
            out.append(f["field_value"])
            if "field_value_person" in f:
                out.append(f["field_value_person"])
    return out
