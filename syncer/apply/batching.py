"""Changed rows -> import requests. Pure: rows in, requests out, in a deterministic order.

- `plan_requests` takes a plan's changed rows (with the YAML and the state) to `build_requests`' input.

- Every row is sent with every managed field of that row (chosen by the caller), fields sorted by ID.
- Rows are packed `batch_size` (50) to a request, per semester: exactly ceil(rows/50) requests.
- Within a reviewee, rows that lower a weight go no later than rows that raise one, so that Feishu's
  "sum of weights <= 100%" check (1580304) never sees the raise before the matching cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from syncer.feishu.records import (
    MAX_IMPORT_FIELDS,
    MAX_IMPORT_ITEMS,
    ImportedMetric,
    ImportedMetricField,
    import_body,
)
from syncer.fieldtypes import PERCENTAGE_FORMATS, field_type, render_value
from syncer.model import Catalog, DesiredValue, MetricDef, RowKey
from syncer.state.model import State

LOWER, KEEP, RAISE = -1, 0, 1


class ChangedRow(NamedTuple):
    """One changed row as the caller hands it over.

    `values`: field ID -> desired value, for EVERY managed field of the row (not only the changed ones).
    `last_weight`: the weight last applied to this row (canonical text, no `%`), or None when the row was
    never applied (a create) or its weight was never managed.
    """

    values: Mapping[str, DesiredValue]
    last_weight: str | None = None


class ImportRequest(NamedTuple):
    """One metric_details/import request: a semester and 1 to 50 rows, in order."""

    semester_id: str
    seq: int  # 0-based position among this semester's requests
    rows: tuple[RowKey, ...]
    items: tuple[ImportedMetric, ...]

    def body(self, *, import_record_name: str) -> dict[str, Any]:
        return import_body(
            semester_id=self.semester_id,
            import_record_name=import_record_name,
            imported_metrics=list(self.items),
        )


def id_sort_key(value: str) -> tuple[int, int, str, str]:
    """IDs of digits sort as numbers ("2" < "10"); anything else after them, as text."""
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0")
        return (0, len(digits), digits, value)
    return (1, 0, value, value)


def weight_direction(new_weight: str | None, last_weight: str | None) -> int:
    """LOWER, KEEP or RAISE. No new weight: KEEP. No last weight (a create): RAISE (from nothing). A weight
    that is not a number counts as RAISE: it then goes last, the safe side."""
    if new_weight is None:
        return KEEP
    if last_weight is None:
        return RAISE
    try:
        new, last = Decimal(new_weight.rstrip("%")), Decimal(last_weight.rstrip("%"))
    except InvalidOperation:
        return RAISE
    if not (new.is_finite() and last.is_finite()):
        return RAISE
    return LOWER if new < last else RAISE if new > last else KEEP


def build_item(
    row: RowKey, values: Mapping[str, DesiredValue], *, metric: MetricDef, percentage_format: str
) -> ImportedMetric:
    """One `imported_metrics` item: every given field, sorted by ID, each typed by the catalog."""
    fields: list[ImportedMetricField] = []
    for field_id in sorted(values, key=id_sort_key):
        definition = metric.field_by_id(field_id)
        if definition is None:
            raise ValueError(f"field {field_id} is not a field of metric {row.metric} in the catalog")
        value = values[field_id].value
        if field_type(definition.type).person:
            # The API wants person fields in `field_value_person` (required for them). `field_value` gets
            # the same ID: the seed page's example sends both keys on that very person field (its
            # field_value "100" being a placeholder), and every SDK models field_value as a plain string;
            # with the ID in both, whichever key Feishu reads for a person field holds the person, and
            # no "required field value is empty" (1580302) can come from a blank field_value.
            fields.append({"field_id": field_id, "field_value": value, "field_value_person": value})
        else:
            rendered = render_value(value, field_type=definition.type, percentage_format=percentage_format)
            fields.append({"field_id": field_id, "field_value": rendered})
    return {"reviewee_user_id": row.reviewee, "metric_id": row.metric, "fields": fields}


def _weight_field(metric: MetricDef) -> str | None:
    ids = sorted((f.id for f in metric.fields.values() if f.role == "weight"), key=id_sort_key)
    return ids[0] if ids else None


def build_requests(
    rows: Mapping[RowKey, ChangedRow],
    *,
    catalog: Catalog,
    percentage_format: str,
    batch_size: int = MAX_IMPORT_ITEMS,
    max_fields: int = MAX_IMPORT_FIELDS,
) -> list[ImportRequest]:
    """The requests that send `rows`: by semester (ID order), then batches of `batch_size` rows.

    Within a semester rows go by reviewee, and within a reviewee the rows that lower a weight first, then
    those that keep it, then those that raise it (each group by metric ID); cutting that sequence into
    consecutive batches keeps every lowering row in a batch no later than any raising row of its reviewee.
    """
    if percentage_format not in PERCENTAGE_FORMATS:
        raise ValueError(f"percentage_format must be one of {PERCENTAGE_FORMATS}, not {percentage_format!r}")
    if not 1 <= batch_size <= MAX_IMPORT_ITEMS:
        raise ValueError(f"batch_size must be 1 to {MAX_IMPORT_ITEMS}")
    if not 1 <= max_fields <= MAX_IMPORT_FIELDS:
        raise ValueError(f"max_fields must be 1 to {MAX_IMPORT_FIELDS}")
    metrics = {m.id: m for m in catalog.metrics.values()}

    by_semester: dict[str, list[tuple[tuple[Any, ...], RowKey, ImportedMetric]]] = {}
    for row, changed in rows.items():
        metric = metrics.get(row.metric)
        if metric is None:
            raise ValueError(f"metric {row.metric} is not in the catalog")
        if not 1 <= len(changed.values) <= max_fields:
            raise ValueError(f"row {tuple(row)} has {len(changed.values)} fields; a row takes 1 to {max_fields}")
        weight_id = _weight_field(metric)
        new_weight = changed.values[weight_id].value if weight_id is not None and weight_id in changed.values else None
        direction = weight_direction(new_weight, changed.last_weight)
        item = build_item(row, changed.values, metric=metric, percentage_format=percentage_format)
        order = (id_sort_key(row.reviewee), direction, id_sort_key(row.metric))
        by_semester.setdefault(row.semester, []).append((order, row, item))

    requests: list[ImportRequest] = []
    for semester in sorted(by_semester, key=id_sort_key):
        entries = sorted(by_semester[semester], key=lambda e: e[0])
        for seq, start in enumerate(range(0, len(entries), batch_size)):
            chunk = entries[start : start + batch_size]
            requests.append(
                ImportRequest(
                    semester_id=semester,
                    seq=seq,
                    rows=tuple(e[1] for e in chunk),
                    items=tuple(e[2] for e in chunk),
                )
            )
    return requests


def plan_requests(
    by_row: Mapping[RowKey, Mapping[str, DesiredValue]],
    state: State | None,
    *,
    catalog: Catalog,
    percentage_format: str,
) -> list[ImportRequest]:
    """The requests that send a plan's changed rows: `by_row` holds every managed field of each (the YAML's
    values for that row); the state gives the weight last applied to each, for the order of weights."""
    weight_fields = {m.id: f.id for m in catalog.metrics.values() for f in m.fields.values() if f.role == "weight"}
    changed: dict[RowKey, ChangedRow] = {}
    for rk, fields in by_row.items():
        last = None
        wf = weight_fields.get(rk.metric)
        if state is not None and wf is not None:
            applied = state.get((rk.semester, rk.reviewee, rk.metric, wf))
            last = applied[0] if applied is not None else None
        changed[rk] = ChangedRow(fields, last)
    return build_requests(changed, catalog=catalog, percentage_format=percentage_format)
