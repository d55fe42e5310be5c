"""`syncer sheet export`: the data files of a valid root as tables, one row per (reviewee, metric), every
value the text the YAML holds."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from syncer.errors import SyncerError
from syncer.fieldtypes import field_type
from syncer.load.validate import ValidationResult
from syncer.model import Catalog
from syncer.sheet.index import Resolver, RootIndex
from syncer.sheet.model import FILE, KEY_COLUMNS, METRIC, REVIEWEE, SEMESTER, key_headers
from syncer.sheet.protect import admin_fields
from syncer.sheet.table import ColumnKind, Lists, OutTable


def field_columns(catalog: Catalog) -> list[str]:
    """Every field alias of the catalog, in the order metrics first name them. A field alias that is also
    one of the sheet's own column names (in any language, syncer.sheet.model.key_headers) cannot be told apart
    from it, and is refused."""
    out: list[str] = []
    for m in catalog.metrics.values():
        for alias in m.fields:
            if alias in key_headers():  # the English names, and their translations
                raise SyncerError(
                    f"catalog.yaml: metric {m.alias!r} has a field named {alias!r}, which is also a column of "
                    f"every sheet ({', '.join(KEY_COLUMNS)}, in any language a workbook is written in); rename the "
                    "field alias to use sheets"
                )
            if alias not in out:
                out.append(alias)
    return out


def column_kinds(catalog: Catalog, fields: list[str]) -> list[ColumnKind]:
    kinds: list[ColumnKind] = []
    for alias in fields:
        types = {field_type(m.fields[alias].type).column for m in catalog.metrics.values() if alias in m.fields}
        kinds.append(types.pop() if len(types) == 1 else "text")
    return kinds


def export_tables(
    index: RootIndex,
    result: ValidationResult,
    *,
    semester: str | None,
    path_glob: str | None,
    redact: bool,
    with_semester_column: bool,
) -> list[OutTable]:
    """The tables of an export: a table per semester (catalog order, then raw IDs), rows in file order."""
    catalog = result.catalog
    resolve = Resolver(catalog, result.settings.target.user_id_type)
    wanted = None
    if semester is not None:
        wanted = resolve.semester(semester)
        if wanted is None:
            raise SyncerError(
                f"--semester {semester!r} is neither an alias of catalog.yaml semesters: nor a semester ID"
            )
    fields = field_columns(catalog)
    keys = [SEMESTER, FILE, REVIEWEE, METRIC] if with_semester_column else [FILE, REVIEWEE, METRIC]
    columns = tuple(keys + fields)
    key_kinds: list[ColumnKind] = ["key" for _ in keys[:-2]]
    key_kinds += ["person", "metric"]
    kinds = tuple(key_kinds + column_kinds(catalog, fields))
    by_semester: dict[str, tuple[list[tuple[str | None, ...]], list[str], list[frozenset[str]]]] = {}
    for rel in sorted(index.files):
        info = index.files[rel]
        if wanted is not None and info.semester_id != wanted:
            continue
        if path_glob is not None and not fnmatch.fnmatchcase(rel, path_glob):
            continue
        rows, sources, admin = by_semester.setdefault(info.semester_id, ([], [], []))
        label = resolve.semester_label(info.semester_id)
        for row in info.rows:
            head: list[str | None] = [label, rel] if with_semester_column else [rel]
            head += [row.reviewee_key.text, row.metric_key.text]
            values: list[str | None] = []
            for alias in fields:
                node = row.value(alias)
                values.append(None if node is None or redact else node.text)
            rows.append(tuple(head + values))
            sources.append(f"{info.display}:{row.metric_key.line}:{row.metric_key.col}")
            admin.append(admin_fields(row.metric))
    order = {s.id: i for i, s in enumerate(catalog.semesters.values())}
    tables = []
    for sid in sorted(by_semester, key=lambda s: (order.get(s, len(order)), s)):
        rows, sources, admin = by_semester[sid]
        label = resolve.semester_label(sid)
        closed = sid in catalog.closed_semester_ids()
        tables.append(OutTable(label, sid, columns, kinds, tuple(rows), tuple(sources), closed, tuple(admin)))
    return tables


def lists_of(catalog: Catalog) -> Lists:
    return Lists(tuple(catalog.metrics), tuple(catalog.people))


def default_format(out: Path, fmt: str | None) -> str:
    """--format, else the suffix of --out."""
    if fmt is not None:
        return fmt
    suffix = out.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    raise SyncerError(f"--out {out.as_posix()}: name it .xlsx or .csv, or pass --format xlsx|csv")
