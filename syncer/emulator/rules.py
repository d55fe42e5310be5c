"""The rules of `POST /open-apis/performance/v2/metric_details/import`, as pure functions.

`parse_import` checks the request's shape (1580102); `check_import` checks it against the tenant and the
stored values and returns either the first `Rejection` or the `ImportPlan` to commit (all or nothing).
The order of the checks is the emulator's choice (Feishu doesn't document one) and is documented in
docs/emulator.md:

1. 1580102 query and body shape: client_token (1-64 chars), user_id_type, semester_id,
   import_record_name, imported_metrics (1-50), each with reviewee_user_id, metric_id, fields (1-99),
   each field with field_id, field_value, field_value_person of the right JSON types.
2. (the caller: 1580110 repeated client_token)
3. 1580105 unknown semester, 1580309 past the semester's input deadline.
4. Over the whole request: 1580307 a (reviewee, metric) twice, 1580308 a field twice in one item,
   1580310 an old-version metric.
5. Item by item, field by field: 1580306 unknown reviewee, 1580112 out of the data scope, 1580306 not
   in the semester or project not started, 1580312 metric not in the reviewee's template, 1580305 field
   not in the metric, 1580311 over an admin-entered value, 1580302 required field left empty, 1580301
   wrong value shape (number, percentage, person), 1580303 too long.
6. 1580304: per reviewee, the weights of all their metrics in the semester after the import (stored
   metrics the request does not touch included) pass 100%; under a template whose rule is per dimension,
   the weights of one dimension's metrics do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncer.emulator.store import ImportedField, ImportedRow, Row, Store, StoredValue
from syncer.emulator.tenant import (
    PER_DIMENSION_RULE,
    USER_ID_TYPES,
    Metric,
    MetricField,
    MetricTemplate,
    Switches,
    Tenant,
)

MSG = {
    1580101: "internal error",
    1580102: "param is invalid",
    1580105: "invalid semester ID",
    1580110: "request ID repeat",
    1580112: "permission denied",
    1580301: "field value type is invalid",
    1580302: "field_value is null",
    1580303: "field value length exceeds the limit",
    1580304: "sum of weights for metrics exceeds 100%",
    1580305: "filed id not found in the metric",
    1580306: "reviewee not found",
    1580307: "duplicate metric for the same reviewee in request",
    1580308: "duplicate field for the same metric in request",
    1580309: "input is not allowed after the deadline",
    1580310: "old vision metrics can't be input",
    1580311: "data input by admins can't be overwritten",
    1580312: "reviewee's metrics not found",
    1580901: "tenant no licnese",
    99992402: "field validation failed",
}

MAX_METRICS = 50
MAX_FIELDS = 99
MAX_CLIENT_TOKEN = 64
DEFAULT_RECORD_NAME = "API录入"

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ID = re.compile(r"\d{1,19}")


@dataclass(frozen=True, slots=True)
class Rejection:
    code: int
    detail: str
    field: str | None = None  # a path into the request, e.g. imported_metrics[2].fields[0].field_value
    http_status: int = 400

    @property
    def msg(self) -> str:
        return MSG.get(self.code, "error")


@dataclass(frozen=True, slots=True)
class FieldIn:
    field_id: str
    field_value: str | None
    field_value_person: str | None


@dataclass(frozen=True, slots=True)
class ItemIn:
    reviewee_user_id: str
    metric_id: str
    fields: tuple[FieldIn, ...]


@dataclass(frozen=True, slots=True)
class ParsedImport:
    client_token: str
    user_id_type: str
    semester_id: str
    name: str
    items: tuple[ItemIn, ...]


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What a valid import stores: the new content of every row it touches."""

    parsed: ParsedImport
    rows: tuple[ImportedRow, ...]
    new_rows: tuple[tuple[str, str, Row], ...]  # (reviewee open_id, metric_id, row after the import)


def _bad(detail: str, field: str | None = None) -> Rejection:
    return Rejection(1580102, detail, field)


def parse_id(value: Any, where: str, switches: Switches) -> str | Rejection:
    if isinstance(value, int) and not isinstance(value, bool) and switches.accept_numeric_ids:
        value = str(value)
    if not isinstance(value, str):
        if value is None:
            return _bad(f"{where} is required", where)
        return _bad(f"{where} must be a string holding an ID, not {type(value).__name__}", where)
    if not _ID.fullmatch(value):
        return _bad(f"{where} must be an ID (digits, up to 19)", where)
    return value


def _opt_str(value: Any, where: str) -> str | Rejection | None:
    if value is None or isinstance(value, str):
        return value
    return _bad(f"{where} must be a string, not {type(value).__name__}", where)


def user_id_type_of(query: Mapping[str, str]) -> str | None:
    """The request's user_id_type (default open_id), or None when it is not one of the four."""
    value = query.get("user_id_type") or "open_id"
    return value if value in USER_ID_TYPES else None


def parse_import(query: Mapping[str, str], body: bytes, switches: Switches) -> ParsedImport | Rejection:
    token = query.get("client_token")
    if not token:
        return _bad("client_token is required", "client_token")
    if len(token) > MAX_CLIENT_TOKEN:
        return _bad(f"client_token must be at most {MAX_CLIENT_TOKEN} characters", "client_token")
    uid_type = user_id_type_of(query)
    if uid_type is None:
        return _bad(f"user_id_type must be one of {', '.join(USER_ID_TYPES)}", "user_id_type")
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _bad("the body is not JSON")
    if not isinstance(data, dict):
        return _bad("the body must be a JSON object")
    semester = parse_id(data.get("semester_id"), "semester_id", switches)
    if isinstance(semester, Rejection):
        return semester
    name = _opt_str(data.get("import_record_name"), "import_record_name")
    if isinstance(name, Rejection):
        return name
    metrics = data.get("imported_metrics")
    if not isinstance(metrics, list):
        return _bad("imported_metrics is required and must be a list", "imported_metrics")
    if not 1 <= len(metrics) <= MAX_METRICS:
        return _bad(f"imported_metrics must hold 1 to {MAX_METRICS} items, not {len(metrics)}", "imported_metrics")
    items: list[ItemIn] = []
    for i, m in enumerate(metrics):
        where = f"imported_metrics[{i}]"
        if not isinstance(m, dict):
            return _bad(f"{where} must be an object", where)
        reviewee = m.get("reviewee_user_id")
        if not isinstance(reviewee, str) or not reviewee:
            return _bad(f"{where}.reviewee_user_id is required and must be a string", f"{where}.reviewee_user_id")
        metric_id = parse_id(m.get("metric_id"), f"{where}.metric_id", switches)
        if isinstance(metric_id, Rejection):
            return metric_id
        fields = m.get("fields")
        if not isinstance(fields, list):
            return _bad(f"{where}.fields is required and must be a list", f"{where}.fields")
        if not 1 <= len(fields) <= MAX_FIELDS:
            return _bad(f"{where}.fields must hold 1 to {MAX_FIELDS} items, not {len(fields)}", f"{where}.fields")
        parsed_fields: list[FieldIn] = []
        for j, f in enumerate(fields):
            fwhere = f"{where}.fields[{j}]"
            if not isinstance(f, dict):
                return _bad(f"{fwhere} must be an object", fwhere)
            field_id = parse_id(f.get("field_id"), f"{fwhere}.field_id", switches)
            if isinstance(field_id, Rejection):
                return field_id
            value = _opt_str(f.get("field_value"), f"{fwhere}.field_value")
            if isinstance(value, Rejection):
                return value
            person = _opt_str(f.get("field_value_person"), f"{fwhere}.field_value_person")
            if isinstance(person, Rejection):
                return person
            parsed_fields.append(FieldIn(field_id, value, person))
        items.append(ItemIn(reviewee, metric_id, tuple(parsed_fields)))
    return ParsedImport(token, uid_type, semester, name or DEFAULT_RECORD_NAME, tuple(items))


def percentage_ok(text: str, wire: str) -> bool:
    if wire == "40%":
        return text.endswith("%") and _NUMBER.fullmatch(text[:-1]) is not None
    if wire == "40":
        return _NUMBER.fullmatch(text) is not None
    return _NUMBER.fullmatch(text.removesuffix("%")) is not None


def weight_of(value: StoredValue | None) -> Decimal:
    if value is None or not value.field_value:
        return Decimal(0)
    text = value.field_value.strip().removesuffix("%")
    return Decimal(text) if _NUMBER.fullmatch(text) else Decimal(0)


def weights_over(tenant: Tenant, template: MetricTemplate, rows: Mapping[str, Row]) -> str | None:
    """How a reviewee's weights after an import (their rows by metric ID) break their template's rule, or
    None: all their metrics together, or each dimension's on its own (sum_of_metric_weights_for_each_
    dimension_equals_1), sum to at most 100%. Metrics outside the template count in the total."""
    per_dimension = template.metric_weight_method == PER_DIMENSION_RULE
    sums: dict[str, Decimal] = {}
    for metric_id, row in rows.items():
        m = tenant.metrics.get(metric_id)
        if m is not None and m.weight_field is not None:
            group = template.dimension_of(metric_id).metric_dimension_id if per_dimension else ""
            sums[group] = sums.get(group, Decimal(0)) + weight_of(row.get(m.weight_field))
    for group, total in sums.items():
        if total > 100:
            scope = f" in dimension {group}" if per_dimension else ""
            return f"would sum to {total.normalize():f}%{scope}"
    return None


def _check_value(
    tenant: Tenant, mf: MetricField, f: FieldIn, uid_type: str, where: str
) -> tuple[str | None, str | None] | Rejection:
    """The (field_value, person open_id) to store, or why not."""
    if mf.type == "person":
        if not f.field_value_person:
            if mf.required:
                return Rejection(1580302, f"{where}: person field {mf.field_id} is required", where)
            return (f.field_value, None)
        person = tenant.find_user(uid_type, f.field_value_person)
        if person is None:
            return Rejection(
                1580301,
                f"{where}.field_value_person: no user has the {uid_type} {f.field_value_person!r}",
                f"{where}.field_value_person",
            )
        return (f.field_value, person.open_id)
    value = f.field_value or ""
    vwhere = f"{where}.field_value"
    if not value:
        if mf.required:
            return Rejection(1580302, f"{vwhere}: field {mf.field_id} is required", vwhere)
        return ("", None)
    if mf.type == "number" and not _NUMBER.fullmatch(value):
        return Rejection(1580301, f"{vwhere}: field {mf.field_id} takes a number like 1200 or -3.5", vwhere)
    if mf.type == "percentage" and not percentage_ok(value, tenant.switches.percentage_wire_format):
        forms = {"40%": '"40%"', "40": '"40"', "both": '"40%" or "40"'}[tenant.switches.percentage_wire_format]
        return Rejection(1580301, f"{vwhere}: field {mf.field_id} takes a percentage written {forms}", vwhere)
    if mf.type == "text" and len(value) > mf.max_length:
        return Rejection(1580303, f"{vwhere}: field {mf.field_id} holds at most {mf.max_length} characters", vwhere)
    return (value, None)


def check_import(
    tenant: Tenant, store: Store, p: ParsedImport, *, now_ms: int, record_id: str
) -> ImportPlan | Rejection:
    semester = tenant.semesters.get(p.semester_id)
    if semester is None:
        return Rejection(1580105, f"semester {p.semester_id} does not exist", "semester_id")
    if semester.input_deadline is not None and now_ms > semester.input_deadline:
        return Rejection(1580309, f"the input deadline of semester {p.semester_id} has passed", "semester_id")

    seen_rows: set[tuple[str, str]] = set()
    for i, item in enumerate(p.items):
        where = f"imported_metrics[{i}]"
        if (item.reviewee_user_id, item.metric_id) in seen_rows:
            return Rejection(1580307, f"{where}: metric {item.metric_id} appears twice for this reviewee", where)
        seen_rows.add((item.reviewee_user_id, item.metric_id))
        seen_fields: set[str] = set()
        for j, f in enumerate(item.fields):
            if f.field_id in seen_fields:
                fwhere = f"{where}.fields[{j}]"
                return Rejection(1580308, f"{fwhere}: field {f.field_id} appears twice in this metric", fwhere)
            seen_fields.add(f.field_id)
    for i, item in enumerate(p.items):
        m = tenant.metrics.get(item.metric_id)
        if m is not None and m.old_version:
            where = f"imported_metrics[{i}].metric_id"
            return Rejection(1580310, f"{where}: metric {item.metric_id} is an old-version metric", where)

    rows: list[ImportedRow] = []
    new_rows: list[tuple[str, str, Row]] = []
    touched: dict[str, dict[str, Row]] = {}  # reviewee -> metric -> row after the import
    first_item: dict[str, int] = {}  # reviewee -> index of its first item
    partial_replace = tenant.switches.partial_rows == "replace"
    for i, item in enumerate(p.items):
        where = f"imported_metrics[{i}]"
        rwhere = f"{where}.reviewee_user_id"
        user = tenant.find_user(p.user_id_type, item.reviewee_user_id)
        if user is None:
            return Rejection(1580306, f"{rwhere}: no user has the {p.user_id_type} {item.reviewee_user_id!r}", rwhere)
        if not tenant.app.in_scope(user.open_id):
            return Rejection(1580112, f"{rwhere}: reviewee is outside the app's data scope", rwhere)
        enrolled = semester.reviewees.get(user.open_id)
        if enrolled is None:
            return Rejection(1580306, f"{rwhere}: reviewee is not in semester {semester.id}", rwhere)
        if not semester.started(enrolled):
            return Rejection(1580306, f"{rwhere}: the reviewee's evaluation project has not started", rwhere)
        template = tenant.templates[enrolled.metric_template_id]
        metric: Metric | None = tenant.metrics.get(item.metric_id)
        if metric is None or item.metric_id not in template.metric_ids:
            mwhere = f"{where}.metric_id"
            return Rejection(
                1580312, f"{mwhere}: metric {item.metric_id} is not in the reviewee's metric template", mwhere
            )
        current = store.row(semester.id, user.open_id, metric.metric_id)
        after: Row = {} if partial_replace else dict(current)
        if partial_replace:
            after.update({fid: v for fid, v in current.items() if v.source == "admin"})
        imported: list[ImportedField] = []
        for j, f in enumerate(item.fields):
            fwhere = f"{where}.fields[{j}]"
            mf = metric.field(f.field_id)
            if mf is None:
                return Rejection(
                    1580305,
                    f"{fwhere}.field_id: field {f.field_id} is not part of metric {metric.metric_id}",
                    f"{fwhere}.field_id",
                )
            existing = current.get(f.field_id)
            if (existing is not None and existing.source == "admin") or (
                tenant.switches.admin_fields == "always" and mf.input_setting == "admin"
            ):
                return Rejection(1580311, f"{fwhere}: field {f.field_id} holds a value entered by an admin", fwhere)
            checked = _check_value(tenant, mf, f, p.user_id_type, fwhere)
            if isinstance(checked, Rejection):
                return checked
            value, person = checked
            after[f.field_id] = StoredValue(
                semester.id,
                user.open_id,
                metric.metric_id,
                f.field_id,
                value,
                person,
                "import",
                record_id,
                now_ms,
            )
            imported.append(ImportedField(f.field_id, value, person))
        if partial_replace:
            for mf in metric.fields:
                v = after.get(mf.field_id)
                if mf.required and (v is None or not (v.field_value_person if mf.type == "person" else v.field_value)):
                    return Rejection(
                        1580302,
                        f"{where}: required field {mf.field_id} is left empty (rows replace their fields)",
                        where,
                    )
        rows.append(ImportedRow(user.open_id, metric.metric_id, tuple(imported)))
        new_rows.append((user.open_id, metric.metric_id, after))
        touched.setdefault(user.open_id, {})[metric.metric_id] = after
        first_item.setdefault(user.open_id, i)

    for open_id, changed in touched.items():
        metrics_after = dict(store.reviewee_rows(semester.id, open_id))
        metrics_after.update(changed)
        template = tenant.templates[semester.reviewees[open_id].metric_template_id]
        over = weights_over(tenant, template, metrics_after)
        if over is not None:
            where = f"imported_metrics[{first_item[open_id]}].reviewee_user_id"
            return Rejection(1580304, f"{where}: the reviewee's metric weights {over}", where)
    return ImportPlan(p, tuple(rows), tuple(new_rows))
