"""The postgres backend's rows: the SQL text of every statement, and the records a row is read into.

Each table a reader selects from has a record class whose fields are the columns' names; its SELECT lists
exactly those names and is read through psycopg's `class_row`, so a row is read by column name, never by
position, and a column added to a SELECT without its field (or the other way round) fails at once. The
mappers turn a record into the state's model (syncer.state.model) and a model into a statement's
parameters; the tables themselves are in syncer.state.postgres.schema."""

from __future__ import annotations

import json
from typing import NamedTuple

from syncer.model import Identity, RowKey, ValueKey
from syncer.state.history import Change
from syncer.state.model import BatchInfo, JournalEntry, LastApply, Rejection, StateMeta


def _select(fields: tuple[str, ...], rest: str) -> str:
    return f"SELECT {', '.join(fields)} {rest}"


# --- syncer_states ----------------------------------------------------------------------------------------


class MetaRow(NamedTuple):
    """A state's row of syncer_states, without its people cache."""

    format: int
    lineage: str
    serial: int
    generation: int
    created: str
    host: str
    app_id: str | None
    user_id_type: str
    next_batch: int
    last_import_request: str | None
    last_apply_at: str | None
    last_apply_commit: str | None
    last_apply_batch: int | None
    plan_key: str | None


SELECT_META = _select(MetaRow._fields, "FROM syncer_states WHERE name = %s")
SELECT_EXISTS = "SELECT 1 FROM syncer_states WHERE name = %s"
SELECT_PEOPLE = "SELECT people FROM syncer_states WHERE name = %s"
SELECT_NEXT_BATCH = "SELECT next_batch FROM syncer_states WHERE name = %s"
INSERT_STATE = (
    f"INSERT INTO syncer_states (name, {', '.join(MetaRow._fields)}, people) "
    f"VALUES (%s, {', '.join(['%s'] * len(MetaRow._fields))}, %s)"
)
BUMP_SERIAL = "UPDATE syncer_states SET serial = serial + 1 WHERE name = %s RETURNING serial"
SET_PEOPLE = "UPDATE syncer_states SET people = %s WHERE name = %s"
SET_LAST_APPLY = (
    "UPDATE syncer_states SET next_batch = greatest(next_batch, %s), last_apply_at = %s, last_apply_commit = %s, "
    "last_apply_batch = %s WHERE name = %s"
)
SET_IMPORT_REQUEST = (
    "UPDATE syncer_states SET last_import_request = %s WHERE name = %s AND "
    "(last_import_request IS NULL OR last_import_request < %s)"
)


def meta_of(row: MetaRow) -> StateMeta:
    last = (
        None
        if row.last_apply_batch is None
        else LastApply(str(row.last_apply_at), str(row.last_apply_commit), row.last_apply_batch)
    )
    return StateMeta(
        format=row.format,
        lineage=row.lineage,
        serial=row.serial,
        generation=row.generation,
        created=row.created,
        identity=Identity(row.host, row.app_id, row.user_id_type),
        next_batch=row.next_batch,
        last_import_request=row.last_import_request,
        last_apply=last,
        plan_key=row.plan_key,
    )


def state_params(name: str, meta: StateMeta, *, people: str | None) -> tuple[object, ...]:
    """INSERT_STATE's parameters: the state's name, its metadata as MetaRow's columns, its people cache."""
    last = meta.last_apply
    row = MetaRow(
        format=meta.format,
        lineage=meta.lineage,
        serial=meta.serial,
        generation=meta.generation,
        created=meta.created,
        host=meta.identity.host,
        app_id=meta.identity.app_id,
        user_id_type=meta.identity.user_id_type,
        next_batch=meta.next_batch,
        last_import_request=meta.last_import_request,
        last_apply_at=last.time if last else None,
        last_apply_commit=last.commit if last else None,
        last_apply_batch=last.batch if last else None,
        plan_key=meta.plan_key,
    )
    return (name, *row, people)


# --- syncer_values and syncer_history ---------------------------------------------------------------------


class ValueRow(NamedTuple):
    semester: str
    reviewee: str
    metric: str
    field: str
    value: str
    batch: int


SELECT_VALUES = _select(
    ValueRow._fields, "FROM syncer_values WHERE state = %s ORDER BY semester, reviewee, metric, field"
)
#: (state, batch, semesters[], reviewees[], metrics[], fields[], values[]).
#: (value): whether the database holds a text value (one value of a batch it refused).
PROBE_TEXT = "SELECT %s::text"
UPSERT_VALUES = (
    "INSERT INTO syncer_values (state, semester, reviewee, metric, field, value, batch) "
    "SELECT %s, s, r, m, f, v, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
    "AS u(s, r, m, f, v) ON CONFLICT (state, semester, reviewee, metric, field) DO UPDATE SET "
    "value = excluded.value, batch = excluded.batch"
)
#: (state, serial, at, batch, semesters[], reviewees[], metrics[], fields[], values[]).
INSERT_SET_HISTORY = (
    "INSERT INTO syncer_history (state, serial, at, op, semester, reviewee, metric, field, value, batch) "
    "SELECT %s, %s, %s, 'set', s, r, m, f, v, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[]) AS u(s, r, m, f, v)"
)
_KEYS_IN = (
    "(semester, reviewee, metric, field) IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]))"
)
#: (state, semesters[], reviewees[], metrics[], fields[]).
COUNT_VALUES = f"SELECT count(*) FROM syncer_values WHERE state = %s AND {_KEYS_IN}"
#: (state, semesters[], reviewees[], metrics[], fields[]); returns the keys deleted.
DELETE_VALUES = f"DELETE FROM syncer_values WHERE state = %s AND {_KEYS_IN} RETURNING semester, reviewee, metric, field"
#: (state, serial, at, reason, semesters[], reviewees[], metrics[], fields[]).
INSERT_FORGET_HISTORY = (
    "INSERT INTO syncer_history (state, serial, at, op, semester, reviewee, metric, field, reason) "
    "SELECT %s, %s, %s, 'forget', s, r, m, f, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
    "%s::text[]) AS u(s, r, m, f)"
)


class HistoryRow(NamedTuple):
    """A row of syncer_history with the batch that set it (its batch_* fields are None for a forget, or for a
    batch the state no longer has)."""

    semester: str
    reviewee: str
    metric: str
    field: str
    op: str
    value: str | None
    at: str
    reason: str
    batch_id: int | None
    batch_semester: str | None
    batch_at: str | None
    import_record_id: str | None
    commit_sha: str | None
    client_token: str | None
    import_record_name: str | None
    row_count: int | None


#: Each HistoryRow field from its column of `syncer_history h LEFT JOIN syncer_batches b`.
_HISTORY_SOURCES = {
    "semester": "h.semester",
    "reviewee": "h.reviewee",
    "metric": "h.metric",
    "field": "h.field",
    "op": "h.op",
    "value": "h.value",
    "at": "h.at",
    "reason": "h.reason",
    "batch_id": "b.id",
    "batch_semester": "b.semester",
    "batch_at": "b.at",
    "import_record_id": "b.import_record_id",
    "commit_sha": "b.commit_sha",
    "client_token": "b.client_token",
    "import_record_name": "b.import_record_name",
    "row_count": "b.row_count",
}
#: The columns `select_history` may narrow by, each a list of IDs.
HISTORY_SELECTORS = ("semester", "reviewee", "metric", "field")


def select_history(narrowed: tuple[str, ...]) -> str:
    """The history of a state (the first parameter), narrowed by each column in `narrowed` (one of
    HISTORY_SELECTORS, each a further parameter: a list of the values wanted), oldest change first."""
    unknown = set(narrowed) - set(HISTORY_SELECTORS)
    if unknown:
        raise ValueError(f"not a history selector: {sorted(unknown)}")
    where = " AND ".join(["h.state = %s", *(f"h.{column} = ANY(%s)" for column in narrowed)])
    return _select(
        tuple(f"{_HISTORY_SOURCES[name]} AS {name}" for name in HistoryRow._fields),
        "FROM syncer_history h LEFT JOIN syncer_batches b ON b.state = h.state AND b.id = h.batch "
        f"WHERE {where} ORDER BY h.semester, h.reviewee, h.metric, h.field, h.seq",
    )


def change_of(row: HistoryRow) -> Change:
    """A history row as a Change (a batch's columns are NOT NULL: all there whenever batch_id is)."""
    batch = (
        None
        if row.batch_id is None
        else BatchInfo(
            row.batch_id,
            str(row.batch_semester),
            str(row.batch_at),
            str(row.import_record_id),
            str(row.commit_sha),
            str(row.client_token),
            str(row.import_record_name),
            row.row_count or 0,
        )
    )
    key = (row.semester, row.reviewee, row.metric, row.field)
    if row.op == "forget":
        return Change(*key, "forget", None, row.at, batch, row.reason)
    return Change(*key, "set", row.value, row.at, batch, row.reason)


# --- syncer_batches ---------------------------------------------------------------------------------------


class BatchRow(NamedTuple):
    id: int
    semester: str
    at: str
    import_record_id: str
    commit_sha: str
    client_token: str
    import_record_name: str
    row_count: int


SELECT_BATCHES = _select(BatchRow._fields, "FROM syncer_batches WHERE state = %s ORDER BY id")
INSERT_BATCH = (
    f"INSERT INTO syncer_batches (state, {', '.join(BatchRow._fields)}) "
    f"VALUES (%s, {', '.join(['%s'] * len(BatchRow._fields))})"
)


def batch_of(row: BatchRow) -> BatchInfo:
    return BatchInfo(
        id=row.id,
        semester=row.semester,
        time=row.at,
        import_record_id=row.import_record_id,
        commit=row.commit_sha,
        client_token=row.client_token,
        import_record_name=row.import_record_name,
        rows=row.row_count,
    )


def batch_params(name: str, info: BatchInfo) -> tuple[object, ...]:
    """INSERT_BATCH's parameters."""
    row = BatchRow(
        info.id,
        info.semester,
        info.time,
        info.import_record_id,
        info.commit,
        info.client_token,
        info.import_record_name,
        info.rows,
    )
    return (name, *row)


# --- syncer_rejections ------------------------------------------------------------------------------------


class RejectionRow(NamedTuple):
    semester: str
    reviewee: str
    metric: str
    code: int
    at: str
    digest: str
    message: str
    client_token: str


SELECT_REJECTIONS = _select(RejectionRow._fields, "FROM syncer_rejections WHERE state = %s")
INSERT_REJECTION = (
    f"INSERT INTO syncer_rejections (state, {', '.join(RejectionRow._fields)}) "
    f"VALUES (%s, {', '.join(['%s'] * len(RejectionRow._fields))})"
)
UPSERT_REJECTION = (
    f"{INSERT_REJECTION} ON CONFLICT (state, semester, reviewee, metric) DO UPDATE SET code = excluded.code, "
    "at = excluded.at, digest = excluded.digest, message = excluded.message, client_token = excluded.client_token"
)
#: (state, semesters[], reviewees[], metrics[]): the rejections of these rows.
DELETE_REJECTIONS = (
    "DELETE FROM syncer_rejections WHERE state = %s AND (semester, reviewee, metric) IN "
    "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))"
)


def rejection_of(row: RejectionRow) -> Rejection:
    return Rejection(
        RowKey(row.semester, row.reviewee, row.metric), row.code, row.at, row.digest, row.message, row.client_token
    )


def rejection_params(name: str, rejection: Rejection) -> tuple[object, ...]:
    """INSERT_REJECTION's and UPSERT_REJECTION's parameters."""
    r = rejection
    return (name, *RejectionRow(*r.row, r.code, r.at, r.digest, r.message, r.client_token))


# --- syncer_journal ---------------------------------------------------------------------------------------


class JournalRow(NamedTuple):
    client_token: str
    semester: str
    opened: str
    body: str
    entries: str  # JSON: [[semester, reviewee, metric, field, value], ...]
    import_record_name: str
    commit_sha: str


SELECT_JOURNAL = _select(JournalRow._fields, "FROM syncer_journal WHERE state = %s")
INSERT_JOURNAL = (
    f"INSERT INTO syncer_journal (state, {', '.join(JournalRow._fields)}) "
    f"VALUES (%s, {', '.join(['%s'] * len(JournalRow._fields))})"
)
UPSERT_JOURNAL = f"{INSERT_JOURNAL} ON CONFLICT (state, client_token) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in JournalRow._fields if c != "client_token"
)
DELETE_JOURNAL = "DELETE FROM syncer_journal WHERE state = %s AND client_token = %s"


def journal_of(row: JournalRow) -> JournalEntry:
    values = tuple((ValueKey(*item[:4]), item[4]) for item in json.loads(row.entries))
    return JournalEntry(
        row.client_token, row.semester, row.opened, row.body, values, row.import_record_name, row.commit_sha
    )


def journal_params(name: str, entry: JournalEntry) -> tuple[object, ...]:
    """INSERT_JOURNAL's and UPSERT_JOURNAL's parameters."""
    entries = json.dumps([[*k, v] for k, v in entry.values], ensure_ascii=False)
    row = JournalRow(
        entry.client_token, entry.semester, entry.opened, entry.body, entries, entry.import_record_name, entry.commit
    )
    return (name, *row)


# --- syncer_quota -----------------------------------------------------------------------------------------

#: (host, app_id): the app's row, made if missing.
ENSURE_QUOTA = (
    "INSERT INTO syncer_quota (host, app_id, last_request) VALUES (%s, %s, NULL) ON CONFLICT (host, app_id) DO NOTHING"
)
#: (host, app_id): its last reserved slot, the row locked for the transaction.
SELECT_QUOTA = "SELECT last_request FROM syncer_quota WHERE host = %s AND app_id = %s FOR UPDATE"
#: The server's clock (epoch seconds) now, not at the transaction's start.
SELECT_SERVER_NOW = "SELECT extract(epoch FROM clock_timestamp())"
#: (slot, host, app_id).
SET_QUOTA = "UPDATE syncer_quota SET last_request = %s WHERE host = %s AND app_id = %s"
