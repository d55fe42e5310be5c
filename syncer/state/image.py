"""A state in memory while it is loaded or written (`StateData`), and the operations of its log: each is one
JSON object that sets or removes whole keys (a value, a batch, a rejection, a journal entry, a pacing
mark), interpreted in one place (`StateData.apply`) both when a write happens and when a log is replayed.
No I/O here: syncer.state.format reads and writes the files."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from syncer.errors import StateError
from syncer.model import RowKey, ValueKey
from syncer.state.model import (
    BatchInfo,
    JournalEntry,
    LastApply,
    Rejection,
    RKey,
    Row,
    State,
    StateMeta,
    parse_time,
    row_batch,
)

JSONObj = dict[str, Any]


class Malformed(ValueError):
    """A record of a shape syncer never writes. Raised while decoding; whoever knows the file and the line
    turns it into a StateDamaged."""


# Strict readers of decoded JSON: a state holds exactly what syncer wrote, so anything else is damage,
# found when the state is read rather than later, in a plan, a summary or the pacing.


def text_field(v: Any, what: str) -> str:
    if type(v) is not str:
        raise Malformed(f"{what} is not text")
    return v


def int_field(v: Any, what: str) -> int:
    if type(v) is not int:
        raise Malformed(f"{what} is not an integer")
    return v


def time_field(v: Any, what: str) -> str:
    try:
        parse_time(text_field(v, what))
    except ValueError:
        raise Malformed(f"{what} is not a time") from None
    return str(v)


def object_field(v: Any, what: str) -> JSONObj:
    if type(v) is not dict:
        raise Malformed(f"{what} is not an object")
    return v


def list_field(v: Any, what: str, *, length: int | tuple[int, int] | None = None) -> list[Any]:
    if type(v) is not list:
        raise Malformed(f"{what} is not a list")
    low, high = (length, length) if isinstance(length, int) else length or (0, len(v))
    if not low <= len(v) <= high:
        raise Malformed(f"{what} has {len(v)} items")
    return v


def values_field(v: Any, what: str) -> dict[str, str]:
    for value in object_field(v, what).values():
        if type(value) is not str:
            raise Malformed(f"a value in {what} is not text")
    return v  # type: ignore[no-any-return]


def batch_from_json(b: JSONObj) -> BatchInfo:
    """A batch's metadata as batches.jsonl and the log hold it."""
    b = object_field(b, "the batch")
    return BatchInfo(
        int_field(b["id"], "the batch id"),
        text_field(b["semester"], "the batch's semester"),
        time_field(b["time"], "the batch's time"),
        text_field(b["import_record_id"], "the batch's import record id"),
        text_field(b["commit"], "the batch's commit"),
        text_field(b["client_token"], "the batch's client_token"),
        text_field(b["import_record_name"], "the batch's import record name"),
        int_field(b["rows"], "the batch's row count"),
    )


def dumps(obj: object) -> str:
    """Compact, deterministic JSON on one line (non-ASCII kept: the files are UTF-8 text)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class StateData:
    """A state being loaded or written. Backends own one; `snapshot()` hands out an immutable view."""

    meta: StateMeta
    rows: dict[RKey, Row] = field(default_factory=dict)
    batches: dict[int, BatchInfo] = field(default_factory=dict)
    rejections: dict[RowKey, Rejection] = field(default_factory=dict)
    journal: dict[str, JournalEntry] = field(default_factory=dict)
    per_semester: dict[str, int] = field(default_factory=dict)
    shared: bool = False  # rows handed out by snapshot(): copy the dict before the next write
    dirty: set[str] = field(default_factory=set)  # semesters whose shard differs from its file
    _memo: dict[str, str] = field(default_factory=dict)

    def snapshot(self) -> State:
        self.shared = True
        return State(
            meta=self.meta,
            rows=self.rows,
            batches=dict(self.batches),
            rejections=dict(self.rejections),
            journal=dict(self.journal),
            per_semester=dict(self.per_semester),
        )

    def _own(self) -> None:
        if self.shared:
            self.rows = dict(self.rows)
            self.shared = False

    def _intern(self, s: str) -> str:
        return self._memo.setdefault(s, s)

    def _count(self, semester: str, delta: int) -> None:
        n = self.per_semester.get(semester, 0) + delta
        if n > 0:
            self.per_semester[semester] = n
        else:
            self.per_semester.pop(semester, None)

    # Operations. Each is a JSON object with "s" (the serial it sets) and "op"; `apply` is the one place
    # that interprets them, both when a write happens and when the log is replayed.

    def apply(self, op: JSONObj) -> None:
        kind = op["op"]
        serial = int_field(op["s"], "the operation's serial")
        handler = _HANDLERS.get(kind) if type(kind) is str else None
        if handler is None:
            if type(kind) is str and kind.isidentifier() and kind.islower():
                raise StateError(f"unknown state operation {kind!r}: written by a newer syncer? Upgrade syncer")
            raise Malformed("the operation's kind is not one syncer writes")
        self._own()
        handler(self, op)
        if serial > self.meta.serial:
            self.meta = _replace(self.meta, serial=serial)

    def _op_batch(self, op: JSONObj) -> None:
        info = batch_from_json(op["batch"])
        self.batches[info.id] = info
        sem = self._intern(info.semester)
        rows = self.rows
        for row in list_field(op["rows"], "the batch's rows"):
            rev, met, fields = list_field(row, "a row", length=3)
            key = (sem, self._intern(text_field(rev, "a reviewee")), self._intern(text_field(met, "a metric")))
            fields = {self._intern(f): v for f, v in values_field(fields, "a row").items()}
            old = rows.get(key)
            rows[key] = merge_row(old, fields, info.id)
            self._count(sem, len(fields) - (len(old[0].keys() & fields.keys()) if old else 0))
            self.rejections.pop(RowKey(*key), None)
        self.dirty.add(sem)
        self.journal.pop(info.client_token, None)
        meta = self.meta
        last = meta.last_apply
        if last is None or last.batch <= info.id:
            last = LastApply(info.time, info.commit, info.id)
        self.meta = _replace(meta, next_batch=max(meta.next_batch, info.id + 1), last_apply=last)

    def _op_journal(self, op: JSONObj) -> None:
        e = object_field(op["entry"], "the journal entry")
        values = []
        for item in list_field(e["values"], "the journal entry's values"):
            *k, v = (text_field(x, "a journal value") for x in list_field(item, "a journal value", length=5))
            values.append((ValueKey(*k), v))
        entry = JournalEntry(
            text_field(e["client_token"], "the journal entry's client_token"),
            text_field(e["semester"], "the journal entry's semester"),
            time_field(e["opened"], "the journal entry's time"),
            text_field(e["body"], "the journal entry's body"),
            tuple(values),
            text_field(e.get("import_record_name", ""), "the journal entry's import record name"),
            text_field(e.get("commit", ""), "the journal entry's commit"),
        )
        self.journal[entry.client_token] = entry

    def _op_settle(self, op: JSONObj) -> None:
        self.journal.pop(text_field(op["token"], "the settled client_token"), None)

    def _op_reject(self, op: JSONObj) -> None:
        for r in list_field(op["rows"], "the rejected rows"):
            rej = rejection_from_list(r)
            self.rejections[rej.row] = rej

    def _op_forget(self, op: JSONObj) -> None:
        by_row: dict[RKey, set[str]] = {}
        for k in list_field(op["keys"], "the forgotten keys"):
            sem, rev, met, fid = (text_field(x, "a forgotten key") for x in list_field(k, "a forgotten key", length=4))
            by_row.setdefault((sem, rev, met), set()).add(fid)
        rows = self.rows
        for key, gone in by_row.items():
            old = rows.get(key)
            if old is None:
                continue
            new = drop_fields(old, gone)
            removed = len(old[0]) - (len(new[0]) if new else 0)
            if new is None:
                del rows[key]
            else:
                rows[key] = new
            if removed:
                self._count(key[0], -removed)
                self.dirty.add(key[0])

    def _op_paced(self, op: JSONObj) -> None:
        at = time_field(op["at"], "the pacing mark")
        last = self.meta.last_import_request
        if last is None or last < at:
            self.meta = _replace(self.meta, last_import_request=at)


def merge_row(old: Row | None, fields: dict[str, str], batch: int) -> Row:
    """A row after `batch` set `fields` (other fields keep their values and batches)."""
    if old is None or old[0].keys() <= fields.keys():
        return (fields, batch)
    merged = dict(old[0])
    merged.update(fields)
    batches = {f: row_batch(old, f) for f in old[0]}
    batches.update(dict.fromkeys(fields, batch))
    return (merged, _squeeze(batches))


def drop_fields(old: Row, gone: set[str]) -> Row | None:
    kept = {f: v for f, v in old[0].items() if f not in gone}
    if not kept:
        return None
    b = old[1]
    if isinstance(b, int):
        return (kept, b)
    return (kept, _squeeze({f: b[f] for f in kept}))


def _squeeze(batches: dict[str, int]) -> int | dict[str, int]:
    ids = set(batches.values())
    return ids.pop() if len(ids) == 1 else batches


_HANDLERS: dict[str, Callable[[StateData, JSONObj], None]] = {
    "batch": StateData._op_batch,
    "journal": StateData._op_journal,
    "settle": StateData._op_settle,
    "reject": StateData._op_reject,
    "forget": StateData._op_forget,
    "paced": StateData._op_paced,
}


def _replace(meta: StateMeta, **changes: Any) -> StateMeta:
    return dataclasses.replace(meta, **changes)


def batch_op(serial: int, info: BatchInfo, rows: Iterable[tuple[RowKey, dict[str, str]]]) -> JSONObj:
    return {
        "s": serial,
        "op": "batch",
        "batch": info._asdict(),
        "rows": [[r.reviewee, r.metric, dict(sorted(f.items()))] for r, f in rows],
    }


def journal_op(serial: int, e: JournalEntry) -> JSONObj:
    return {
        "s": serial,
        "op": "journal",
        "entry": {
            "client_token": e.client_token,
            "semester": e.semester,
            "opened": e.opened,
            "body": e.body,
            "values": [[*k, v] for k, v in e.values],
            "import_record_name": e.import_record_name,
            "commit": e.commit,
        },
    }


def rejection_to_list(r: Rejection) -> list[Any]:
    return [*r.row, r.code, r.at, r.digest, r.message, r.client_token]


def rejection_from_list(r: list[Any]) -> Rejection:
    r = list_field(r, "the rejection", length=(6, 8))
    return Rejection(
        RowKey(*(text_field(x, "the rejected row") for x in r[:3])),
        int_field(r[3], "the rejection's code"),
        time_field(r[4], "the rejection's time"),
        text_field(r[5], "the rejection's digest"),
        text_field(r[6], "the rejection's message") if len(r) > 6 else "",
        text_field(r[7], "the rejection's client_token") if len(r) > 7 else "",
    )
