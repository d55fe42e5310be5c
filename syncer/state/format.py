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
This module does no I/O of its own: backends hand it text and write out what it returns; the state in
memory and the log's operations are syncer.state.image.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

from syncer.errors import StateDamaged, StateError
from syncer.model import Identity
from syncer.state.image import (
    StateData,
    batch_from_json,
    dumps,
    int_field,
    journal_op,
    merge_row,
    object_field,
    rejection_from_list,
    rejection_to_list,
    text_field,
    time_field,
)
from syncer.state.model import STATE_FORMAT, LastApply, StateMeta
from syncer.state.seal import SEALED, record_text, records, seal, seal_file, seal_meta, torn_tail, unseal, unseal_meta

META = "meta.json"
BATCHES = "batches.jsonl"
REJECTIONS = "rejections.jsonl"
JOURNAL = "journal.jsonl"
LOG = "log.jsonl"
PEOPLE = "people.json"
SEMESTERS = "semesters"
SHARD_SUFFIX = ".jsonl"
#: The log as segments, one small file per write (the git backend's working directory: each commit then adds
#: only what it wrote, never a new copy of the whole log), a hundred to a directory:
#: log.d/<serial // 10000>/<serial // 100 % 100>/<serial>.jsonl. (A branch lays them out its own way since
#: format 3: syncer.state.git.logtree.)
LOG_SEGMENTS = "log.d"
_SEGMENT = re.compile(r"\A\d{5}/\d{2}/\d{10}\.jsonl\Z")


def segment_name(serial: int) -> str:
    return f"{LOG_SEGMENTS}/{serial // 10000:05d}/{serial // 100 % 100:02d}/{serial:010d}.jsonl"


def is_segment(path: str) -> bool:
    """Whether a path relative to the state directory names a log segment."""
    head, _, rest = path.partition("/")
    return head == LOG_SEGMENTS and _SEGMENT.match(rest) is not None


#: Migrations of older formats, by the format they upgrade *from*: each takes the parsed meta.json of
#: format N and returns it in format N+1 (the files they read are then written anew by the next
#: compaction). Format 2 added checksums to the files (syncer.state.seal), not to what meta.json holds.
#: Format 3 moved the git backend's log segments in its branch (syncer.state.git.logtree), not a file's
#: content: a format-2 branch's segments are read where they are, and its next commit lays them out anew.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda obj: obj, 2: lambda obj: obj}

JSONObj = dict[str, Any]


def shard_name(semester: str) -> str:
    name = quote(semester, safe="")
    if name in ("", ".", ".."):
        raise StateError(f"semester ID {semester!r} cannot name a state file")
    return f"{SEMESTERS}/{name}{SHARD_SUFFIX}"


def shard_semester(filename: str) -> str:
    return unquote(filename[: -len(SHARD_SUFFIX)])


HEX = frozenset("0123456789abcdef")


def loads(text: str) -> Any:
    """json.loads, with nesting too deep for the parser (a damaged or hostile file) a ValueError like any
    other unreadable JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def new_plan_key() -> str:
    return secrets.token_hex(32)


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
    if meta.plan_key is not None:
        obj["plan_key"] = meta.plan_key
    if meta.values is not None:
        obj["values"] = dict(sorted(meta.values.items()))
    return seal_meta(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def meta_from_json(text: str, *, where: str) -> StateMeta:
    """meta.json read, its checksum checked; `format` is the format of the files as found (older ones are
    read as they are and written anew in this syncer's format by the next compaction)."""
    text, checked = unseal_meta(text, where=where)
    try:
        obj = object_field(loads(text), "the metadata")
        fmt = int_field(obj["format"], "the state format")
    except (ValueError, KeyError) as exc:
        raise StateDamaged(where, f"unreadable metadata ({why(exc)})") from None
    on_disk = fmt
    if fmt >= SEALED and not checked and fmt <= STATE_FORMAT:
        raise StateDamaged(where, "the metadata has lost its checksum")
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
        ident = object_field(obj["identity"], "the identity")
        last = obj.get("last_apply")
        if last is not None:
            last = object_field(last, "the last apply")
        paced = obj.get("last_import_request")
        app_id = ident.get("app_id")
        key = obj.get("plan_key")
        counts = obj.get("values")
        if counts is not None:
            counts = {
                text_field(k, "a semester"): int_field(v, "a value count")
                for k, v in object_field(counts, "the value counts").items()
            }
        if key is not None and not (type(key) is str and len(key) == 64 and all(c in HEX for c in key)):
            raise ValueError("the plan key is not 64 hex digits")
        return StateMeta(
            format=on_disk,
            lineage=text_field(obj["lineage"], "the lineage"),
            serial=int_field(obj["serial"], "the serial"),
            created=time_field(obj["created"], "the creation time"),
            identity=Identity(
                text_field(ident["host"], "the host"),
                None if app_id is None else text_field(app_id, "the app id"),
                text_field(ident["user_id_type"], "the user_id_type"),
            ),
            next_batch=int_field(obj.get("next_batch", 1), "next_batch"),
            generation=int_field(obj.get("generation", 0), "the generation"),
            last_import_request=None if paced is None else time_field(paced, "the last import request"),
            last_apply=LastApply(
                time_field(last["time"], "the last apply's time"),
                text_field(last["commit"], "the last apply's commit"),
                int_field(last["batch"], "the last apply's batch"),
            )
            if last
            else None,
            plan_key=key,
            values=counts,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateDamaged(where, f"unreadable metadata ({why(exc)})") from None


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
        out[sem] = seal_file([dumps(list(line)) for line in lines])
    return out


def decode_shard(data: StateData, semester: str, text: str, *, where: str, sealed: bool = True) -> None:
    """Add a shard's rows to `data`, its checksums checked (`sealed`: it must have them). Fast path: the
    whole file is parsed as one JSON array, and rows keep the field dicts the parser built (their keys are
    shared by the parser)."""
    text = record_text(text, where=where, sealed=sealed)
    body = text.rstrip("\n")
    if not body:
        return
    try:
        lines = loads("[" + body.replace("\n", ",") + "]")
    except ValueError:
        _raise_bad_line(text, where)
    if type(lines) is not list:  # a line like `1],[2`: JSON, but not one row per line
        _raise_bad_line(text, where)
    rows = data.rows
    memo = data._memo
    sem = memo.setdefault(semester, sys.intern(semester))
    count = 0
    prev_rev = ""
    n = 0  # the line being read, for the message
    try:
        for n, (rev, met, b, fields) in enumerate(lines, 1):  # noqa: B007 - n is read by the except
            if rev == prev_rev:  # lines are sorted by reviewee: share its string
                rev = prev_rev
            else:
                if type(rev) is not str:
                    raise TypeError("the reviewee must be text")
                prev_rev = rev
            if type(met) is not str or type(b) is not int or type(fields) is not dict:
                raise TypeError("metric, batch and fields must be text, an integer and an object")
            met = memo.setdefault(met, met)
            for v in fields.values():
                if type(v) is not str:
                    raise TypeError("values must be text")
            key = (sem, rev, met)
            old = rows.setdefault(key, (fields, b))
            if old[0] is not fields:  # a second line of the same row (fields from another batch)
                count -= len(old[0])
                rows[key] = merge_row(old, fields, b)
                count += len(rows[key][0])
            else:
                count += len(fields)
    except (TypeError, ValueError, AttributeError) as exc:
        raise StateDamaged(f"{where}:{n}", f"a malformed row ({why(exc)})") from None
    if count:
        data.per_semester[sem] = data.per_semester.get(sem, 0) + count


def _raise_bad_line(text: str, where: str) -> Any:
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            if type(loads(line)) is not list:
                raise ValueError("not a row")
        except ValueError as exc:
            raise StateDamaged(f"{where}:{n}", f"not a row syncer writes ({why(exc)})") from None
    raise StateDamaged(where, "not JSON Lines")


def why(exc: BaseException) -> str:
    """What is wrong, for a damage message: the reader's own words, or the JSON parser's."""
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}" if exc.args else "a missing key"
    return str(exc) or type(exc).__name__


def encode_batches(data: StateData) -> str:
    return seal_file([dumps(b._asdict()) for _, b in sorted(data.batches.items())])


def decode_batches(data: StateData, text: str, *, where: str, sealed: bool = True) -> None:
    for n, line in _lines(text, where, sealed):
        try:
            info = batch_from_json(loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateDamaged(f"{where}:{n}", f"a malformed batch ({why(exc)})") from None
        data.batches[info.id] = info


def encode_rejections(data: StateData) -> str:
    return seal_file([dumps(rejection_to_list(r)) for _, r in sorted(data.rejections.items())])


def decode_rejections(data: StateData, text: str, *, where: str, sealed: bool = True) -> None:
    for n, line in _lines(text, where, sealed):
        try:
            rej = rejection_from_list(loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise StateDamaged(f"{where}:{n}", f"a malformed rejection ({why(exc)})") from None
        data.rejections[rej.row] = rej


def encode_journal(data: StateData) -> str:
    return seal_file([dumps(journal_op(0, e)["entry"]) for _, e in sorted(data.journal.items())])


def decode_journal(data: StateData, text: str, *, where: str, sealed: bool = True) -> None:
    for n, line in _lines(text, where, sealed):
        try:
            data._op_journal({"entry": loads(line)})
        except (ValueError, KeyError, TypeError) as exc:
            raise StateDamaged(f"{where}:{n}", f"a malformed journal entry ({why(exc)})") from None


def _lines(text: str, where: str, sealed: bool) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(records(text, where=where, sealed=sealed), 1):
        if line.strip():
            yield n, line


def encode_op(op: JSONObj) -> str:
    """One operation as a line of the log (or a segment), sealed."""
    return seal(dumps(op))


def parse_log(text: str, *, where: str, sealed: bool = True, folded: int = 0) -> tuple[list[tuple[int, JSONObj]], int]:
    """The complete operations of a log, and the byte length they span, each line's checksum checked. A last
    line without its newline is a write torn by a crash: it is ignored (the batch it described was not
    recorded, so its journal entry, written before it, settles it), when it can be one (seal.torn_tail). Any
    other unreadable line is corruption and refused. `sealed`: lines must have checksums, but for those of
    operations at or below `folded` (meta.json's serial), left by a compaction that upgraded the files and
    was killed before it emptied the log: they are not replayed."""
    ops: list[tuple[int, JSONObj]] = []
    end = text.rfind("\n") + 1  # everything after the last newline is torn
    complete = text[:end]
    lines = complete.split("\n")[:-1]
    if not torn_tail(text[end:]):
        raise StateDamaged(f"{where}:{len(lines) + 1}", "the last line does not end as syncer writes it")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = unseal(line, where=where, n=n)
        try:
            op = loads(line if record is None else record)
            if not isinstance(op, dict) or "op" not in op or "s" not in op:
                raise ValueError("not an operation")
        except ValueError as exc:
            raise StateDamaged(f"{where}:{n}", f"an unreadable log line ({why(exc)})") from None
        if record is None and sealed:
            if type(op["s"]) is int and op["s"] <= folded:
                continue
            raise StateDamaged(f"{where}:{n}", "a line without its checksum")
        ops.append((n, op))
    return ops, len(complete.encode("utf-8"))


# --- the people cache -----------------------------------------------------------------------------------


def encode_people(doc: Mapping[str, Any]) -> str:
    """people.json: indented, keys sorted at every level, non-ASCII kept, so that a diff shows the addresses
    that changed."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def decode_people(text: str, *, where: str) -> dict[str, Any]:
    """The people cache as a JSON object (its content is checked by syncer.people)."""
    try:
        doc = loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise StateError(
            f"{where}: the people cache is damaged ({exc}); run `syncer people resolve --refresh` to write it anew"
        ) from exc
    return doc
