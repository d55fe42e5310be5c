"""Reading a postgres state: the whole state, its people cache, the history of its values.

A state and its history are each read in one REPEATABLE READ, READ ONLY transaction: a consistent snapshot,
which never waits for a writer (nor makes one wait). A database without syncer's tables holds no state; one
whose tables are newer than this syncer's is refused (syncer.state.postgres.schema)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import args_row, class_row

from syncer.errors import StateError
from syncer.model import RowKey
from syncer.state import format as files
from syncer.state.history import Change, History, Selection
from syncer.state.model import STATE_FORMAT, BatchInfo, JournalEntry, Rejection, RKey, Row, State
from syncer.state.postgres import rows as sql
from syncer.state.postgres.lock import Conn
from syncer.state.postgres.schema import check_version, installed_version

#: What `history` says the backend keeps.
KEPT = "the postgres backend keeps every change: each value set, each key forgotten"


def _snapshot(conn: Conn) -> None:
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def load_state(conn: Conn, name: str, *, location: str) -> State | None:
    """The state `name` as of one snapshot (None: no tables, or no such state)."""
    version = installed_version(conn)
    check_version(version)
    if version is None:
        return None
    with conn.transaction():
        _snapshot(conn)
        return _read(conn, name, location=location)


def _read(conn: Conn, name: str, *, location: str) -> State | None:
    with conn.cursor(row_factory=class_row(sql.MetaRow)) as cur:
        found = cur.execute(sql.SELECT_META, (name,)).fetchone()
    if found is None:
        return None
    if found.format > STATE_FORMAT:
        raise StateError(
            f"{location}: state format {found.format} is newer than this syncer understands (format "
            f"{STATE_FORMAT}); upgrade syncer (pip install -U 'feishu-syncer[postgres]')"
        )
    meta = sql.meta_of(found)
    rows, per_semester = _values(conn, name)
    with conn.cursor(row_factory=class_row(sql.BatchRow)) as cur:
        batches: dict[int, BatchInfo] = {b.id: sql.batch_of(b) for b in cur.execute(sql.SELECT_BATCHES, (name,))}
    rejections: dict[RowKey, Rejection] = {}
    with conn.cursor(row_factory=class_row(sql.RejectionRow)) as cur:
        for r in cur.execute(sql.SELECT_REJECTIONS, (name,)):
            rejection = sql.rejection_of(r)
            rejections[rejection.row] = rejection
    journal: dict[str, JournalEntry] = {}
    with conn.cursor(row_factory=class_row(sql.JournalRow)) as cur:
        for j in cur.execute(sql.SELECT_JOURNAL, (name,)):
            entry = sql.journal_of(j)
            journal[entry.client_token] = entry
    return State(meta, rows, batches, rejections, journal, per_semester)


def _values(conn: Conn, name: str) -> tuple[dict[RKey, Row], dict[str, int]]:
    """The state's rows (fields, and the batch that set them: one ID, or one per field when they differ) and
    how many values each semester holds."""
    rows: dict[RKey, Row] = {}
    per_semester: dict[str, int] = {}
    current: RKey | None = None
    fields: dict[str, str] = {}
    batches_of: dict[str, int] = {}

    def close_row() -> None:
        if current is not None:
            ids = set(batches_of.values())
            rows[current] = (fields, ids.pop() if len(ids) == 1 else dict(batches_of))

    # The hot path of a million values: ValueRow made from each row's values in the order SELECT_VALUES
    # lists its columns (built from ValueRow's fields), then unpacked: class_row, which passes keywords, made a
    # load of 200,000 values about a third slower than the index-based reader this replaced.
    with conn.cursor(row_factory=args_row(sql.ValueRow)) as cur:
        for semester, reviewee, metric, field, value, batch in cur.execute(sql.SELECT_VALUES, (name,)):
            key = (semester, reviewee, metric)
            if key != current:
                close_row()
                current, fields, batches_of = key, {}, {}
            fields[field] = value
            batches_of[field] = batch
            per_semester[semester] = per_semester.get(semester, 0) + 1
        close_row()
    return rows, per_semester


def load_people(conn: Conn, name: str, *, location: str) -> dict[str, Any] | None:
    """The people cache of the state `name` as stored (None: no tables, no such state, or no cache)."""
    if installed_version(conn) is None:
        return None
    row = conn.execute(sql.SELECT_PEOPLE, (name,)).fetchone()
    if row is None:
        return None
    (people,) = row
    return None if people is None else files.decode_people(str(people), where=f"{location} (people cache)")


def load_history(conn: Conn, name: str, selection: Selection) -> History:
    """Every change of the selected values of the state `name`, oldest first, each with the batch that made
    it, as of one snapshot."""
    wanted = {
        "semester": selection.semesters,
        "reviewee": selection.reviewees,
        "metric": selection.metrics,
        "field": selection.fields,
    }
    narrowed = tuple(column for column in sql.HISTORY_SELECTORS if wanted[column])
    args: list[object] = [name, *(sorted(wanted[column]) for column in narrowed)]
    changes: list[Change] = []
    if installed_version(conn) is not None:
        with conn.transaction():
            _snapshot(conn)
            with conn.cursor(row_factory=class_row(sql.HistoryRow)) as cur:
                changes = [sql.change_of(r) for r in cur.execute(sql.select_history(narrowed).encode("utf-8"), args)]
    return History(tuple(changes), True, KEPT)
