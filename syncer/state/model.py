"""The state's vocabulary: what a state holds, as plain data.

A state records what syncer last applied to one Feishu target, keyed by resolved IDs. The interfaces of a
store are in `syncer.state.protocols`; the backends (local, git) in their own modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from syncer.errors import StateError
from syncer.model import Identity, RowKey, ValueKey

#: The on-disk format this syncer writes. A newer one is refused; an older one is migrated on load.
STATE_FORMAT = 3

#: (semester, reviewee, metric, field): `ValueKey` is one, and so is a plain tuple of four strings.
VKey = tuple[str, str, str, str]
#: (semester, reviewee, metric): `RowKey` is one, and so is a plain tuple of three strings.
RKey = tuple[str, str, str]
#: (value as last applied, in canonical form; the id of the batch that applied it).
Applied = tuple[str, int]
#: A managed row as held in memory: its values by field id, and the batch that applied them: one id when
#: they all came from one batch (the usual case: apply sends whole rows), else a batch id per field.
#: Rows are never mutated in place; a write replaces the tuple.
Row = tuple[Mapping[str, str], "int | Mapping[str, int]"]


def row_batch(row: Row, field_id: str) -> int:
    b = row[1]
    return b if isinstance(b, int) else b[field_id]


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(t: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`: the only time format the state holds."""
    if t.tzinfo is None:
        raise ValueError("naive datetime: the clock must return an aware (UTC) time")
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


class LastApply(NamedTuple):
    time: str
    commit: str
    batch: int


@dataclass(frozen=True, slots=True)
class StateMeta:
    format: int
    lineage: str
    serial: int
    created: str
    identity: Identity
    next_batch: int = 1
    generation: int = 0  # bumped by every compaction (content unchanged, files rewritten)
    last_import_request: str | None = None
    last_apply: LastApply | None = None
    # A random key (hex) that keys the value hashes of a plan's checksum, so that a redacted plan gives no
    # value away to brute force. Only in the state's files: never in a plan, an output or a commit message.
    plan_key: str | None = None
    # Values per semester as the last compaction wrote them to the shards: a shard emptied or cut short
    # afterwards is seen as damage when the state is read. None in states written before it was kept.
    values: Mapping[str, int] | None = None


class BatchInfo(NamedTuple):
    """One accepted import request. Stored once per batch; values refer to it by `id`."""

    id: int
    semester: str
    time: str
    import_record_id: str
    commit: str
    client_token: str
    import_record_name: str
    rows: int


#: How a rejection recorded by a refusal every row of a batch shared begins (see syncer.apply.isolate).
SHARED_REFUSAL = "refused alike with every row of its batch"
#: How the record of a row begins that landed in Feishu but that the state could not hold (code 0: Feishu
#: accepted it). Kept as a rejection is, held back as one (not sent again until its values change, not even by
#: --retry-rejected), and never recorded as applied (docs/state.md, "A value the state cannot hold").
UNRECORDED = "landed in Feishu, could not be recorded"


class Rejection(NamedTuple):
    """A row Feishu rejected. It is not sent again until its values change (`digest` no longer matches)
    or apply is asked to `--retry-rejected`; a row held back by a refusal every row shared is also sent
    again once Feishu accepted other rows of its semester (the refusal was not shared after all)."""

    row: RowKey
    code: int
    at: str  # time of the rejection (format_time)
    digest: str  # row_digest() of the values that were rejected
    message: str = ""
    client_token: str = ""

    @property
    def date(self) -> str:
        return self.at[:10]

    @property
    def shared(self) -> bool:
        return self.message.startswith(SHARED_REFUSAL)

    @property
    def unrecorded(self) -> bool:
        """A row Feishu holds that the state could not record (UNRECORDED): set aside, not rejected."""
        return self.message.startswith(UNRECORDED)


class JournalEntry(NamedTuple):
    """A batch about to be sent, written durably before the request so that a killed apply can settle it:
    the same `body` (exact JSON text) is re-sent with the same `client_token`."""

    client_token: str
    semester: str
    opened: str
    body: str
    values: tuple[tuple[ValueKey, str], ...]  # the keys of the batch and their canonical values
    import_record_name: str = ""
    commit: str = ""

    def rows(self) -> dict[RowKey, dict[str, str]]:
        out: dict[RowKey, dict[str, str]] = {}
        for key, value in self.values:
            out.setdefault(RowKey(key[0], key[1], key[2]), {})[key[3]] = value
        return out


class BatchRecord(NamedTuple):
    """What `record_batch` needs: an accepted request and the canonical values it applied."""

    semester: str
    client_token: str
    import_record_id: str
    commit: str
    import_record_name: str
    time: datetime
    rows: Mapping[RowKey, Mapping[str, str]]  # field id -> canonical value


class LockInfo(NamedTuple):
    pid: int
    host: str
    time: str
    command: str
    id: str
    expires: str = ""  # a lease's end (format_time): past it the holder counts as dead (git backend)


#: Whether a lock's holder still runs: "alive" (it does, or may: taken on this host by a live process),
#: "dead" (certainly gone: its lease ran out, or its process is gone), "other host" (taken elsewhere and not
#: expired: syncer cannot tell from here).
Liveness = Literal["alive", "dead", "other host"]


class LockHolder(NamedTuple):
    """Who holds a state's lock, and whether it still runs."""

    info: LockInfo
    status: Liveness


@dataclass(frozen=True, slots=True)
class State:
    """A loaded state: a snapshot. Writes through the store never change a `State` already returned.

    Values are held by row (`rows`), which loads a million values in a fraction of the time and memory of
    one entry per value; `get`, `row_values` and `iter_values` give the per-value view."""

    meta: StateMeta
    rows: Mapping[RKey, Row]
    batches: Mapping[int, BatchInfo]
    rejections: Mapping[RowKey, Rejection]
    journal: Mapping[str, JournalEntry]  # open entries, by client_token
    per_semester: Mapping[str, int] = field(default_factory=dict)  # managed values per semester

    @property
    def identity(self) -> Identity:
        return self.meta.identity

    @property
    def value_count(self) -> int:
        return sum(self.per_semester.values())

    def managed(self, semester: str) -> int:
        """How many values the state manages in this semester."""
        return self.per_semester.get(semester, 0)

    def get(self, key: VKey) -> Applied | None:
        row = self.rows.get((key[0], key[1], key[2]))
        if row is None:
            return None
        value = row[0].get(key[3])
        if value is None:
            return None
        return value, row_batch(row, key[3])

    def row_values(self, row: RKey) -> dict[str, Applied]:
        r = self.rows.get((row[0], row[1], row[2]))
        if r is None:
            return {}
        return {f: (v, row_batch(r, f)) for f, v in r[0].items()}

    def iter_values(self, *, semester: str | None = None) -> Iterator[tuple[ValueKey, Applied]]:
        for (sem, rev, met), r in self.rows.items():
            if semester is not None and sem != semester:
                continue
            for f, v in r[0].items():
                yield ValueKey(sem, rev, met, f), (v, row_batch(r, f))


def row_digest(fields: Mapping[str, str]) -> str:
    """A digest of a row's values (field id -> canonical value), to tell whether a rejected row changed."""
    canon = json.dumps(sorted(fields.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def check_identity(
    recorded: Identity, *, host: str, user_id_type: str, app_id: str | None, location: str
) -> tuple[str, ...]:
    """Refuse a run against a state of another target; return notes about what could not be compared."""
    mismatches = []
    if recorded.host != host:
        mismatches.append(f"host {recorded.host} (this run: {host})")
    if recorded.user_id_type != user_id_type:
        mismatches.append(f"user_id_type {recorded.user_id_type} (this run: {user_id_type})")
    if app_id is not None and recorded.app_id is not None and recorded.app_id != app_id:
        mismatches.append(f"app ID {recorded.app_id} (this run: {app_id})")
    if mismatches:
        raise StateError(
            f"the state at {location} belongs to another target: {'; '.join(mismatches)}. "
            "Point this run at its own state with --state PATH (e.g. --state /tmp/rehearsal-state), "
            "or fix target/FEISHU_BASE_URL/FEISHU_APP_ID"
        )
    if app_id is None and recorded.app_id is not None:
        return (
            "FEISHU_APP_ID is not set: host and user_id_type match the state; its app ID "
            f"({recorded.app_id}) was not compared",
        )
    return ()
