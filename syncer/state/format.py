"""The state's text format, shared by every backend: how a state is laid out in files, read and replayed.

A state is a directory of UTF-8 text files (see docs/state.md):

    meta.json                  format, lineage, serial, identity, next batch id, last apply, pacing
    batches.jsonl              one accepted batch per line (its metadata, once per batch)
    semesters/<semester>.jsonl one line per row and batch: [reviewee, metric, batch id, {field: value}]
    rejections.jsonl           one rejected row per line
    journal.jsonl              open journal entries (batches sent or about to be sent, not yet settled)
    log.jsonl                  operations appended since the last compaction, one JSON object per line
    people.json                the people cache: user IDs of the catalog's people given by email (optional)

Loading reads the compacted files, then replays the log. Every log operation sets or removes whole keys
(a value, a batch, a rejection, a journal entry), so replaying a log over any mix of the files before and
after a compaction gives the same state: that is what makes a compaction interrupted at any point safe.
The people cache is kept as it is written (a JSON document, replaced whole by `record_people`); it is no
part of the log or of `State`, and a state without it is simply a state with no cache (syncer.people).
This module does no I/O of its own: backends hand it text and write out what it returns.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from syncer.errors import StateError
from syncer.model import Identity, RowKey, ValueKey
from syncer.state.model import (
    STATE_FORMAT,
    BatchInfo,
    JournalEntry,
    LastApply,
    Rejection,
    RKey,
    Row,
    State,
    StateMeta,
    row_batch,
)

META = "meta.json"
BATCHES = "batches.jsonl"
REJECTIONS = "rejections.jsonl"
JOURNAL = "journal.jsonl"
LOG = "log.jsonl"
PEOPLE = "people.json"
SEMESTERS = "semesters"
SHARD_SUFFIX = ".jsonl"

#: Migrations of older formats, by the format they upgrade *from*: each takes the parsed meta.json of
#: format N and returns it in format N+1 (the files they read are then written anew by the next
#: compaction). Format 1 is the first, so there is nothing to migrate yet.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

JSONObj = dict[str, Any]


def batch_from_json(b: JSONObj) -> BatchInfo:
    """A batch's metadata as batches.jsonl and the log hold it."""
    return BatchInfo(
        int(b["id"]),
        str(b["semester"]),
        str(b["time"]),
        str(b["import_record_id"]),
        str(b["commit"]),
        str(b["client_token"]),
        str(b["import_record_name"]),
        int(b["rows"]),
    )


def dumps(obj: object) -> str:
    """Compact, deterministic JSON on one line (non-ASCII kept: the files are UTF-8 text)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def shard_name(semester: str) -> str:
    name = quote(semester, safe="")
    if name in ("", ".", ".."):
        raise StateError(f"semester ID {semester!r} cannot name a state file")
    return f"{SEMESTERS}/{name}{SHARD_SUFFIX}"


def shard_semester(filename: str) -> str:
    return unquote(filename[: -len(SHARD_SUFFIX)])


# --- meta -----------------------------------------------------------------------------------------------


def meta_to_json(meta: StateMeta) -> str:
    obj: JSONObj = {
        "format": meta.format,
        "lineage": meta.lineage,
        "serial": meta.serial,
        "generation": meta.generation,
        "created": meta.created,
        "identity": meta.identity._asdict(),
        "next_batch": meta.next_batch,
        "last_import_request": meta.last_import_request,
        "last_apply": meta.last_apply._asdict() if meta.last_apply else None,
    }
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def meta_from_json(text: str, *, where: str) -> StateMeta:
    try:
        obj = json.loads(text)
        fmt = obj["format"]
        if not isinstance(fmt, int):
            raise TypeError("format is not an integer")
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(
            f"{where}: unreadable state metadata ({exc}); restore it from a backup or "
            "from git, or start over with --state PATH"
        ) from exc
    if fmt > STATE_FORMAT:
        raise StateError(
            f"{where}: state format {fmt} is newer than this syncer understands "
            f"(format {STATE_FORMAT}); upgrade syncer (pip install -U feishu-syncer)"
        )
    while fmt < STATE_FORMAT:
        migrate = MIGRATIONS.get(fmt)
        if migrate is None:
            raise StateError(f"{where}: state format {fmt} cannot be migrated by this syncer")
        obj = migrate(obj)
        fmt = obj["format"] = fmt + 1
    try:
        ident = obj["identity"]
        last = obj.get("last_apply")
        return StateMeta(
            format=fmt,
            lineage=str(obj["lineage"]),
            serial=int(obj["serial"]),
            created=str(obj["created"]),
            identity=Identity(
                str(ident["host"]),
                None if ident.get("app_id") is None else str(ident["app_id"]),
                str(ident["user_id_type"]),
            ),
            next_batch=int(obj.get("next_batch", 1)),
            generation=int(obj.get("generation", 0)),
            last_import_request=obj.get("last_import_request"),
            last_apply=LastApply(str(last["time"]), str(last["commit"]), int(last["batch"])) if last else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{where}: unreadable state metadata ({exc!r})") from exc


# --- the mutable image of a state, and the operations of the log ---------------------------------------


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
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise StateError(f"unknown state operation {kind!r}: written by a newer syncer? Upgrade syncer")
        self._own()
        handler(self, op)
        serial = int(op["s"])
        if serial > self.meta.serial:
            self.meta = _replace(self.meta, serial=serial)

    def _op_batch(self, op: JSONObj) -> None:
        info = batch_from_json(op["batch"])
        self.batches[info.id] = info
        sem = self._intern(info.semester)
        rows = self.rows
        for rev, met, fields in op["rows"]:
            key = (sem, self._intern(rev), self._intern(met))
            fields = {self._intern(f): str(v) for f, v in fields.items()}
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
        e = op["entry"]
        values = tuple((ValueKey(*k), v) for *k, v in e["values"])
        entry = JournalEntry(
            str(e["client_token"]),
            str(e["semester"]),
            str(e["opened"]),
            str(e["body"]),
            values,
            str(e.get("import_record_name", "")),
            str(e.get("commit", "")),
        )
        self.journal[entry.client_token] = entry

    def _op_settle(self, op: JSONObj) -> None:
        self.journal.pop(str(op["token"]), None)

    def _op_reject(self, op: JSONObj) -> None:
        for r in op["rows"]:
            rej = rejection_from_list(r)
            self.rejections[rej.row] = rej

    def _op_forget(self, op: JSONObj) -> None:
        by_row: dict[RKey, set[str]] = {}
        for k in op["keys"]:
            by_row.setdefault((str(k[0]), str(k[1]), str(k[2])), set()).add(str(k[3]))
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
        at = str(op["at"])
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


# --- operation builders (what writers append) -----------------------------------------------------------


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
    return Rejection(
        RowKey(str(r[0]), str(r[1]), str(r[2])),
        int(r[3]),
        str(r[4]),
        str(r[5]),
        str(r[6]) if len(r) > 6 else "",
        str(r[7]) if len(r) > 7 else "",
    )


# --- compacted files ------------------------------------------------------------------------------------


def encode_shards(data: StateData, *, only: set[str] | None = None) -> dict[str, str]:
    """Every semester's shard text (or those in `only`): a line per (row, batch), sorted, fields sorted, so
    that a diff shows the rows that changed."""
    grouped: dict[str, list[tuple[str, str, int, dict[str, str]]]] = {}
    for (sem, rev, met), (fields, b) in data.rows.items():
        if only is not None and sem not in only:
            continue
        lines = grouped.get(sem)
        if lines is None:
            lines = grouped[sem] = []
        if isinstance(b, int):
            lines.append((rev, met, b, dict(sorted(fields.items()))))
        else:
            by_batch: dict[int, dict[str, str]] = {}
            for f, v in sorted(fields.items()):
                by_batch.setdefault(b[f], {})[f] = v
            lines.extend((rev, met, bid, part) for bid, part in by_batch.items())
    out = {}
    for sem, lines in grouped.items():
        lines.sort(key=lambda line: line[:3])
        out[sem] = "".join(dumps(list(line)) + "\n" for line in lines)
    return out


def decode_shard(data: StateData, semester: str, text: str, *, where: str) -> None:
    """Add a shard's rows to `data`. Fast path: the whole file is parsed as one JSON array, and rows keep
    the field dicts the parser built (their keys are shared by the parser)."""
    body = text.rstrip("\n")
    if not body:
        return
    try:
        lines = json.loads("[" + body.replace("\n", ",") + "]")
    except ValueError:
        _raise_bad_line(text, where)
    rows = data.rows
    memo = data._memo
    sem = memo.setdefault(semester, sys.intern(semester))
    count = 0
    prev_rev = ""
    try:
        for rev, met, b, fields in lines:
            if rev == prev_rev:  # lines are sorted by reviewee: share its string
                rev = prev_rev
            else:
                if type(rev) is not str:
                    raise TypeError("the reviewee must be text")
                prev_rev = rev
            met = memo.setdefault(met, met)
            if type(met) is not str or type(b) is not int or type(fields) is not dict:
                raise TypeError("metric, batch and fields must be text, an integer and an object")
            key = (sem, rev, met)
            old = rows.setdefault(key, (fields, b))
            if old[0] is not fields:  # a second line of the same row (fields from another batch)
                for v in fields.values():
                    if type(v) is not str:
                        raise TypeError("values must be text")
                count -= len(old[0])
                rows[key] = merge_row(old, fields, b)
                count += len(rows[key][0])
            else:
                count += len(fields)
    except (TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"{where}: malformed row ({exc}); restore the file from git or a backup") from exc
    if count:
        data.per_semester[sem] = data.per_semester.get(sem, 0) + count


def _raise_bad_line(text: str, where: str) -> Any:
    for n, line in enumerate(text.splitlines(), 1):
        try:
            json.loads(line)
        except ValueError as exc:
            raise StateError(f"{where}:{n}: not valid JSON ({exc}); restore the file from git or a backup") from exc
    raise StateError(f"{where}: not valid JSON Lines")


def encode_batches(data: StateData) -> str:
    return "".join(dumps(b._asdict()) + "\n" for _, b in sorted(data.batches.items()))


def decode_batches(data: StateData, text: str, *, where: str) -> None:
    for n, line in _lines(text, where):
        try:
            info = batch_from_json(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{where}:{n}: malformed batch ({exc!r})") from exc
        data.batches[info.id] = info


def encode_rejections(data: StateData) -> str:
    return "".join(dumps(rejection_to_list(r)) + "\n" for _, r in sorted(data.rejections.items()))


def decode_rejections(data: StateData, text: str, *, where: str) -> None:
    for n, line in _lines(text, where):
        try:
            rej = rejection_from_list(json.loads(line))
        except (ValueError, IndexError, TypeError) as exc:
            raise StateError(f"{where}:{n}: malformed rejection ({exc!r})") from exc
        data.rejections[rej.row] = rej


def encode_journal(data: StateData) -> str:
    return "".join(dumps(journal_op(0, e)["entry"]) + "\n" for _, e in sorted(data.journal.items()))


def decode_journal(data: StateData, text: str, *, where: str) -> None:
    for n, line in _lines(text, where):
        try:
            data._op_journal({"entry": json.loads(line)})
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"{where}:{n}: malformed journal entry ({exc!r})") from exc


def _lines(text: str, where: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            yield n, line


def parse_log(text: str, *, where: str) -> tuple[list[JSONObj], int]:
    """The complete operations of a log, and the byte length they span. A last line without its newline
    is a write torn by a crash: it is ignored (the batch it described was not recorded, so its journal
    entry, written before it, settles it). Any other unreadable line is corruption and refused."""
    ops: list[JSONObj] = []
    end = text.rfind("\n") + 1  # everything after the last newline is torn
    complete = text[:end]
    for n, line in enumerate(complete.split("\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            op = json.loads(line)
            if not isinstance(op, dict) or "op" not in op or "s" not in op:
                raise ValueError("not an operation")
        except ValueError as exc:
            raise StateError(
                f"{where}:{n}: unreadable log line ({exc}); restore the state from git or a backup"
            ) from exc
        ops.append(op)
    return ops, len(complete.encode("utf-8"))


# --- the people cache -----------------------------------------------------------------------------------


def encode_people(doc: Mapping[str, Any]) -> str:
    """people.json: indented, keys sorted at every level, non-ASCII kept, so that a diff shows the addresses
    that changed."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def decode_people(text: str, *, where: str) -> dict[str, Any]:
    """The people cache as a JSON object (its content is checked by syncer.people)."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise StateError(
            f"{where}: the people cache is damaged ({exc}); run `syncer people resolve --refresh` to write it anew"
        ) from exc
    return doc
