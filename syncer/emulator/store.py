"""The emulator's mutable state: stored values, import records, tokens, client tokens, the request log.

Records handed out are frozen dataclasses; the containers are only touched under the emulator's lock.
Users are kept by open_id inside the store, whatever `user_id_type` a request used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syncer.emulator.tenant import Tenant

if TYPE_CHECKING:
    from syncer.emulator.rules import ImportPlan

FIRST_IMPORT_RECORD_ID = 7_400_000_000_000_000_001  # 19 digits, like Feishu's


@dataclass(frozen=True, slots=True)
class StoredValue:
    semester_id: str
    reviewee_user_id: str  # open_id
    metric_id: str
    field_id: str
    field_value: str | None
    field_value_person: str | None  # open_id
    source: Literal["admin", "import"]
    import_record_id: str | None = None
    updated_at: int = 0  # ms


@dataclass(frozen=True, slots=True)
class ImportedField:
    field_id: str
    field_value: str | None
    field_value_person: str | None  # open_id


@dataclass(frozen=True, slots=True)
class ImportedRow:
    reviewee_user_id: str  # open_id
    metric_id: str
    fields: tuple[ImportedField, ...]


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One accepted import: what Feishu shows on its import record page (name, time, rows)."""

    import_record_id: str
    semester_id: str
    name: str
    created_at: int  # ms
    client_token: str
    user_id_type: str
    rows: tuple[ImportedRow, ...]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request as the emulator saw it. `status` and `code` are what it answered (or would have, for
    a lost response); `fault` names an injected fault."""

    seq: int
    time: float
    method: str
    path: str
    endpoint: str | None
    client_token: str | None
    status: int
    code: int | None
    fault: str | None = None
    app_id: str | None = None
    body: str = ""


@dataclass(frozen=True, slots=True)
class Token:
    token: str
    app_id: str
    expires_at: float  # clock seconds


Row = dict[str, StoredValue]  # by field_id


class Store:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        # (semester, reviewee open_id) -> metric_id -> field_id -> value
        self.values: dict[tuple[str, str], dict[str, Row]] = {}
        self.records: list[ImportRecord] = []
        self.tokens: dict[str, Token] = {}
        self.latest_token: dict[str, str] = {}
        self.client_tokens: dict[tuple[str, str], str] = {}  # (app_id, client_token) -> outcome
        self.log: list[LogEntry] = []
        self.next_record_id = FIRST_IMPORT_RECORD_ID
        for sem in tenant.semesters.values():
            for a in sem.admin_values:
                self.put(
                    StoredValue(
                        sem.id,
                        a.reviewee_user_id,
                        a.metric_id,
                        a.field_id,
                        a.field_value,
                        a.field_value_person,
                        "admin",
                    )
                )

    def put(self, v: StoredValue) -> None:
        self.values.setdefault((v.semester_id, v.reviewee_user_id), {}).setdefault(v.metric_id, {})[v.field_id] = v

    def reviewee_rows(self, semester_id: str, open_id: str) -> Mapping[str, Row]:
        return self.values.get((semester_id, open_id), {})

    def row(self, semester_id: str, open_id: str, metric_id: str) -> Row:
        return self.values.get((semester_id, open_id), {}).get(metric_id, {})

    def replace_row(self, semester_id: str, open_id: str, metric_id: str, row: Row) -> None:
        rows = self.values.setdefault((semester_id, open_id), {})
        if row:
            rows[metric_id] = row
        else:
            rows.pop(metric_id, None)

    def iter_values(self, semester_id: str | None = None) -> Iterator[StoredValue]:
        for (sem, _), rows in sorted(self.values.items()):
            if semester_id is not None and sem != semester_id:
                continue
            for _, row in sorted(rows.items()):
                for _, v in sorted(row.items()):
                    yield v

    def new_record_id(self) -> str:
        rid = str(self.next_record_id)
        self.next_record_id += 1
        return rid


def import_record(plan: ImportPlan, record_id: str, now_ms: int) -> ImportRecord:
    """The record of an accepted import."""
    p = plan.parsed
    return ImportRecord(
        import_record_id=record_id,
        semester_id=p.semester_id,
        name=p.name,
        created_at=now_ms,
        client_token=p.client_token,
        user_id_type=p.user_id_type,
        rows=plan.rows,
    )
