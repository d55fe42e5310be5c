"""`syncer import`: adopt the values a semester already holds in Feishu (like `terraform import`).

Reads the reviewees (reviewees/query, paged, or the ones asked for) and their values (metric_details/query,
50 reviewees a request), maps IDs to catalog aliases, writes data files in syncer's format (one per N
reviewees, stable order, each loaded back and compared before anything is written), checks the whole root,
and records the values in the state as applied, so that the first plan after adopting syncer is empty.

Metrics and fields the catalog does not know are left out (and counted), as are fields admins own in Feishu
(input_setting: admin) and values syncer could not write back exactly. A row that a data file already holds
is adopted when the file's values are Feishu's, and refused otherwise (or left alone with `skip_existing`).
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syncer.edit.datafile import ImportInvalid, out_dir_in_root, plan_files, verify_file, write_and_check
from syncer.errors import RefusedError, SyncerError
from syncer.feishu.client import METRIC_DETAILS_QUERY, REVIEWEES_QUERY
from syncer.feishu.records import RemoteField, RevieweeMetrics
from syncer.feishu.values import Unrepresentable, canonical_remote
from syncer.fieldtypes import field_type, unstorable
from syncer.gitinfo import GitInfo
from syncer.live.reader import PAGE_SIZE, LiveReader, requests_for
from syncer.load.catalog import RAW_ID, SEMESTER_ID
from syncer.load.validate import PeopleSourceFactory, ValidationResult
from syncer.model import Catalog, Identity, MetricDef, RowKey, Source, UserIdType
from syncer.state import load_checked
from syncer.state.model import BatchInfo, BatchRecord, utc_now
from syncer.state.protocols import WritableStore
from syncer.text import plural

__all__ = ["Conflict", "ImportConflict", "ImportInvalid", "ImportOptions", "ImportReport", "run_import"]

IMPORT_RECORD_ID = "import"
IMPORT_RECORD_NAME = "syncer import"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    semester: str  # a catalog alias or a raw semester ID
    reviewees: tuple[str, ...] = ()  # aliases or raw IDs; empty with all_reviewees
    all_reviewees: bool = False
    out_dir: Path | None = None  # default: <root>/imported
    per_file: int = 100
    skip_existing: bool = False


@dataclass(frozen=True, slots=True)
class Conflict:
    """A row a data file already holds with other values than Feishu's."""

    row: RowKey
    source: Source
    differences: tuple[tuple[str, str | None, str | None], ...]  # field alias, in the file, in Feishu


@dataclass(frozen=True, slots=True)
class ImportReport:
    semester: str
    semester_label: str
    reviewees_asked: int
    files: tuple[str, ...]  # written, display paths
    reviewees_written: int
    rows_written: int
    values_written: int
    rows_adopted: int  # already in data files with Feishu's values: recorded, not written
    rows_left_alone: int  # already in data files with other values (skip_existing)
    skipped: tuple[tuple[str, int], ...]  # (what was left out and why, how many)
    requests: int
    batch: BatchInfo | None


class ImportConflict(RefusedError):
    def __init__(self, conflicts: Sequence[Conflict], message: str) -> None:
        super().__init__(message)
        self.conflicts = tuple(conflicts)


def new_client_token() -> str:
    return f"import-{secrets.token_hex(12)}"


# --- reading and mapping ----------------------------------------------------------------------------------


@dataclass
class _Rows:
    """The live values of the rows to import: canonical (for the state) and as written (for the files)."""

    canonical: dict[RowKey, dict[str, str]]
    written: dict[RowKey, dict[str, str]]  # field alias -> text for the data file
    skipped: Counter[str]


def _semester(catalog: Catalog, text: str) -> tuple[str, str]:
    """(semester ID, the label data files use: the catalog alias, else the ID)."""
    for alias, s in catalog.semesters.items():
        if alias == text or s.id == text:
            return s.id, alias
    if SEMESTER_ID.match(text):
        return text, text
    raise SyncerError(
        f"unknown semester {text!r}: give an alias of catalog.yaml semesters: or a semester ID "
        "(run `syncer catalog pull` to add Feishu's semesters)"
    )


def _is_raw(raw: re.Pattern[str] | None, text: str) -> bool:
    return raw is not None and raw.match(text) is not None


def reviewee_ids(catalog: Catalog, wanted: Sequence[str], *, user_id_type: str) -> list[str]:
    """The IDs of reviewees given as aliases or raw IDs (unknown ones: an error naming them all)."""
    raw = RAW_ID.get(user_id_type)
    ids = {a: p.id for a, p in catalog.people.items() if p.id}
    out: list[str] = []
    unknown = []
    for text in wanted:
        pid = ids.get(text) or (text if _is_raw(raw, text) else None)
        if pid is None:
            unknown.append(text)
        elif pid not in out:
            out.append(pid)
    if unknown:
        raise SyncerError(
            f"unknown {'reviewees' if len(unknown) > 1 else 'reviewee'} {', '.join(map(repr, unknown))}: "
            "give people aliases of catalog.yaml (resolved, for people given by email) or raw IDs"
        )
    return out


def fetch_values(
    reader: LiveReader, *, semester_id: str, reviewees: Sequence[str] | None, user_id_type: UserIdType
) -> tuple[int, list[RevieweeMetrics]]:
    """(how many reviewees were asked about, their metric details). `reviewees` None: every reviewee of the
    semester, from reviewees/query."""
    uid = user_id_type
    client = reader.client
    if reviewees is None:
        reader.expect(REVIEWEES_QUERY, 1)
        found = client.query_reviewees(semester_id=semester_id, user_id_type=uid, page_size=PAGE_SIZE)
        ids: list[str] = []
        for r in found:
            rid = r.user.get(uid)
            if rid and rid not in ids:
                ids.append(rid)
    else:
        ids = list(reviewees)
    if not ids:
        return 0, []
    reader.expect(METRIC_DETAILS_QUERY, requests_for(len(ids)))
    return len(ids), client.query_metric_details(semester_id=semester_id, reviewee_user_ids=ids, user_id_type=uid)


def map_rows(
    details: Sequence[RevieweeMetrics], *, catalog: Catalog, semester_id: str, user_id_type: UserIdType
) -> _Rows:
    """The live values as rows of the catalog's metrics and fields; what can't be mapped is counted."""
    uid = user_id_type
    raw = RAW_ID.get(user_id_type)
    alias_of: dict[str, str] = {}
    for a, p in sorted(catalog.people.items()):
        if p.id and p.id not in alias_of:
            alias_of[p.id] = a
    metrics = {m.id: m for m in catalog.metrics.values()}
    rows = _Rows({}, {}, Counter())
    for item in details:
        rid = item.reviewee.get(uid)
        if not rid:
            rows.skipped[f"answers without a {user_id_type} for the reviewee"] += 1
            continue
        if rid not in alias_of and not _is_raw(raw, rid):
            rows.skipped[f"reviewees with no alias in catalog.yaml (with {user_id_type}, people must be aliases)"] += 1
            continue
        for m in item.metrics:
            metric = metrics.get(m.metric_id)
            if metric is None:
                rows.skipped[
                    f"rows of metric {m.metric_id} ({m.name or 'no name'}), which catalog.yaml does not "
                    "have (run `syncer catalog pull`)"
                ] += 1
                continue
            _map_fields(rows, RowKey(semester_id, rid, metric.id), metric, m.fields, uid, alias_of, raw)
    return rows


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _map_fields(
    rows: _Rows,
    row: RowKey,
    metric: MetricDef,
    fields: Sequence[RemoteField],
    uid: UserIdType,
    alias_of: Mapping[str, str],
    raw: re.Pattern[str] | None,
) -> None:
    canonical: dict[str, str] = {}
    written: dict[str, str] = {}
    for rf in fields:
        fdef = metric.field_by_id(rf.field_id)
        if fdef is None:
            rows.skipped[f"values of field {rf.field_id} of {metric.alias!r}, which catalog.yaml does not have"] += 1
            continue
        if fdef.input_setting == "admin":
            rows.skipped[
                f"values of {metric.alias}.{fdef.alias}, which admins enter in Feishu (input_setting: admin)"
            ] += 1
            continue
        try:
            value = canonical_remote(fdef, rf, uid)
        except Unrepresentable as exc:
            rows.skipped[f"values of {metric.alias}.{fdef.alias} syncer cannot write: {exc}"] += 1
            continue
        if value is None:
            continue
        ftype = field_type(fdef.type)
        if ftype.person:
            shown = alias_of.get(value) or (value if _is_raw(raw, value) else None)
            if shown is None:
                rows.skipped[
                    f"values of {metric.alias}.{fdef.alias} naming a person with no alias in catalog.yaml"
                ] += 1
                continue
        elif ftype.percent:
            shown = ftype.written(value)
        else:
            if not _encodable(value):
                rows.skipped[f"values of {metric.alias}.{fdef.alias} syncer cannot write: not valid Unicode"] += 1
                continue
            if unstorable(value) is not None:
                rows.skipped[
                    f"values of {metric.alias}.{fdef.alias} holding a control character, which syncer's state "
                    "cannot record"
                ] += 1
                continue
            if len(value) > fdef.max_length:
                rows.skipped[
                    f"values of {metric.alias}.{fdef.alias} longer than its max_length "
                    f"({fdef.max_length}); raise max_length in catalog.yaml"
                ] += 1
                continue
            shown = value
        canonical[fdef.id] = value
        written[fdef.alias] = shown
    if canonical:
        rows.canonical[row] = canonical
        rows.written[row] = written


# --- rows already in data files -------------------------------------------------------------------------------


def _existing(rows: _Rows, result: ValidationResult) -> tuple[dict[RowKey, dict[str, str]], list[Conflict]]:
    """Rows data files already hold: adopted (the file's fields, all equal to Feishu's) or in conflict."""
    desired = result.desired
    if desired is None:
        return {}, []
    adopted: dict[RowKey, dict[str, str]] = {}
    conflicts: list[Conflict] = []
    held = [r for r in rows.canonical if r in desired.rows]
    if not held:
        return {}, []
    wanted = set(held)
    in_files: dict[RowKey, dict[str, str]] = {r: {} for r in held}
    for k, dv in desired.values.items():
        rk = RowKey(k[0], k[1], k[2])
        if rk in wanted:
            in_files[rk][k[3]] = dv.value
    metrics = {m.id: m for m in result.catalog.metrics.values()}
    for r in held:
        live = rows.canonical[r]
        diffs = tuple(
            (_field_alias(metrics.get(r.metric), fid), v, live.get(fid))
            for fid, v in sorted(in_files[r].items())
            if live.get(fid) != v
        )
        if diffs:
            conflicts.append(Conflict(r, desired.rows[r], diffs))
        else:
            adopted[r] = in_files[r]
    return adopted, conflicts


def _field_alias(metric: MetricDef | None, fid: str) -> str:
    f = metric.field_by_id(fid) if metric is not None else None
    return f.alias if f is not None else fid


def run_import(
    *,
    root: Path,
    root_display: str,
    result: ValidationResult,
    reader: LiveReader,
    store: WritableStore,
    target: Identity,
    options: ImportOptions,
    git: GitInfo,
    people: PeopleSourceFactory | None = None,
    clock: Callable[[], datetime] = utc_now,
    client_token: Callable[[], str] = new_client_token,
) -> ImportReport:
    """Read, map, write and record one semester's values; see the module doc. Writes nothing (files or
    state) unless every file reads back exactly and the whole root is valid with them."""
    if not result.ok:
        raise RefusedError("the metrics root is invalid: fix its problems before importing")
    if options.per_file < 1:
        raise SyncerError("--per-file must be at least 1")
    load_checked(store, target=target)  # another target's state is refused before any request
    catalog, settings = result.catalog, result.settings
    uid = settings.target.user_id_type
    semester_id, label = _semester(catalog, options.semester)
    wanted = None if options.all_reviewees else reviewee_ids(catalog, options.reviewees, user_id_type=uid)
    out_dir, out_rel = out_dir_in_root(root, options.out_dir)
    before = reader.requests
    asked, details = fetch_values(reader, semester_id=semester_id, reviewees=wanted, user_id_type=uid)
    rows = map_rows(details, catalog=catalog, semester_id=semester_id, user_id_type=uid)
    adopted, conflicts = _existing(rows, result)
    if conflicts and not options.skip_existing:
        raise ImportConflict(
            conflicts,
            f"{plural(len(conflicts), 'row')} that Feishu "
            "holds with other values are already in data files (listed above); nothing was "
            "written. Edit or remove those rows, import other reviewees (--reviewees), or pass "
            "--skip-existing to leave them as they are",
        )
    clashing = {c.row for c in conflicts}
    to_write = sorted(r for r in rows.canonical if r not in adopted and r not in clashing)
    files = plan_files(
        to_write,
        written=rows.written,
        canonical=rows.canonical,
        result=result,
        root=root,
        root_display=root_display,
        out_dir=out_dir,
        out_rel=out_rel,
        semester_label=label,
        per_file=options.per_file,
        now=clock(),
    )
    for f in files:
        verify_file(f.text, f.display, result, f.rows)
    batch = None
    with store.locked(command="import"):
        state, _ = load_checked(store, target=target)
        write_and_check(files, root=root, root_display=root_display, people=people, out_dir=out_dir)
        record: dict[RowKey, Mapping[str, str]] = {r: rows.canonical[r] for r in to_write}
        record.update(adopted)
        if record:
            if state is None:
                store.create(target)
            batch = store.record_batch(
                BatchRecord(
                    semester=semester_id,
                    client_token=client_token(),
                    import_record_id=IMPORT_RECORD_ID,
                    commit=git.commit,
                    import_record_name=IMPORT_RECORD_NAME,
                    time=clock(),
                    rows=record,
                )
            )
            store.compact()
    return ImportReport(
        semester=semester_id,
        semester_label=label,
        reviewees_asked=asked,
        files=tuple(f.display for f in files),
        reviewees_written=len({r.reviewee for r in to_write}),
        rows_written=len(to_write),
        values_written=sum(len(rows.canonical[r]) for r in to_write),
        rows_adopted=len(adopted),
        rows_left_alone=len(clashing),
        skipped=tuple(sorted(rows.skipped.items())),
        requests=reader.requests - before,
        batch=batch,
    )
