"""The wire shapes: the import request items (TypedDicts, JSON-ready) and the read answers parsed into
frozen records. IDs stay strings; a number where an ID belongs is turned into its exact decimal text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from syncer.feishu.errors import BadResponseError
from syncer.fieldtypes import feishu_type_name
from syncer.model import FIELDS_PER_ROW, ROWS_PER_IMPORT, UserIdType


class ImportedMetricField(TypedDict):
    field_id: str
    field_value: str
    field_value_person: NotRequired[str]


class ImportedMetric(TypedDict):
    reviewee_user_id: str
    metric_id: str
    fields: list[ImportedMetricField]


@dataclass(frozen=True, slots=True)
class UserIds:
    """A user as the read APIs name it: `{open_id, user_id}`, where `user_id` holds the ID of the request's
    user_id_type (docs/feishu-api.md); a key named after the type is taken first if one ever appears."""

    open_id: str | None = None
    user_id: str | None = None
    union_id: str | None = None
    people_admin_id: str | None = None

    def get(self, user_id_type: UserIdType) -> str | None:
        """The user's ID of `user_id_type` (the type the request asked for), None when the answer has none."""
        typed: str | None = getattr(self, user_id_type)
        if typed or user_id_type == "open_id":
            return typed
        return self.user_id


@dataclass(frozen=True, slots=True)
class RemoteField:
    field_id: str
    value: str | None
    person: UserIds | None = None


@dataclass(frozen=True, slots=True)
class RemoteMetric:
    metric_id: str
    name: str | None
    fields: tuple[RemoteField, ...]
    dimension_id: str | None = None
    dimension_weight: str | None = None
    add_from: str | None = None  # reviewee | admin
    is_from_library: bool | None = None


@dataclass(frozen=True, slots=True)
class RevieweeMetrics:
    reviewee: UserIds
    metric_template_id: str | None
    metrics: tuple[RemoteMetric, ...]
    stage_statuses: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class MetricFieldInfo:
    field_id: str
    name: Mapping[str, str]
    type: str  # a name of syncer.fieldtypes.FIELD_TYPES (the platform's "pencentage" mapped), else lowercased


@dataclass(frozen=True, slots=True)
class LibraryField:
    field_id: str
    input_setting: str | None  # admin | data_source_inputter | reviewee


@dataclass(frozen=True, slots=True)
class LibraryMetric:
    metric_id: str
    name: str | None
    is_active: bool | None
    fields: tuple[LibraryField, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reviewee:
    user: UserIds
    activity_ids: tuple[str, ...] = ()
    reviewprofile_url: str | None = None


@dataclass(frozen=True, slots=True)
class Semester:
    id: str
    name: Mapping[str, str]
    year: str | None = None
    progress: str | None = None  # initiating | enabled
    start_time: str | None = None  # milliseconds, as text
    end_time: str | None = None


@dataclass(frozen=True, slots=True)
class UserLookup:
    """One answer of contact batch_get_id; `user_id` is None when not found or outside the app's scope."""

    user_id: str | None
    email: str | None = None
    mobile: str | None = None


# --- parsing helpers ----------------------------------------------------------------------------------


def _id(value: object, what: str) -> str:
    text = _opt_id(value, what)
    if text is None or text == "":
        raise BadResponseError(f"{what} is missing")
    return text


def _opt_id(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadResponseError(f"{what} is not a string ID: {type(value).__name__}")


def _opt_text(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise BadResponseError(f"{what} is not text: {type(value).__name__}")


def _opt_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _obj(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise BadResponseError(f"{what} is not an object")


def _objects(value: object, what: str) -> list[Mapping[str, Any]]:
    """A list of objects; also accepts a single object (the read APIs model some lists as one object)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [_obj(v, what) for v in value]
    raise BadResponseError(f"{what} is neither an object nor a list")


def _i18n(value: object) -> dict[str, str]:
    """A name by language, keyed `zh_cn`/`en_us` whether Feishu writes `zh_cn` (the SDK models) or `zh-CN`
    (v1 semesters' documented example)."""
    if isinstance(value, str):
        return {"zh_cn": value}
    return {k.lower().replace("-", "_"): v for k, v in _obj(value, "name").items() if isinstance(v, str)}


def _user(value: object) -> UserIds:
    if isinstance(value, str):  # tolerate a bare ID
        return UserIds(open_id=value) if value.startswith("ou_") else UserIds(user_id=value)
    obj = _obj(value, "user")
    return UserIds(**{k: _opt_id(obj.get(k), k) or None for k in UserIds.__slots__})


# --- parsers --------------------------------------------------------------------------------------------


def parse_metric_details(data: Mapping[str, Any]) -> list[RevieweeMetrics]:
    """`data` of metric_details/query. `metric_details` may be one object or a list (UNCONFIRMED which)."""
    out: list[RevieweeMetrics] = []
    for item in _objects(data.get("reviewee_metrics"), "reviewee_metrics[]"):
        metrics = []
        for m in _objects(item.get("metric_details"), "metric_details"):
            fields = tuple(
                RemoteField(
                    field_id=_id(f.get("field_id"), "field_id"),
                    value=_opt_text(f.get("field_value"), "field_value"),
                    person=_user(f["field_value_person"]) if f.get("field_value_person") else None,
                )
                for f in _objects(m.get("fields"), "fields[]")
            )
            metrics.append(
                RemoteMetric(
                    metric_id=_id(m.get("metric_id"), "metric_id"),
                    name=_opt_text(m.get("name"), "name"),
                    fields=fields,
                    dimension_id=_opt_id(m.get("dimension_id"), "dimension_id"),
                    dimension_weight=_opt_text(m.get("dimension_weight"), "dimension_weight"),
                    add_from=_opt_text(m.get("add_from"), "add_from"),
                    is_from_library=_opt_bool(m.get("is_from_library")),
                )
            )
        out.append(
            RevieweeMetrics(
                reviewee=_user(item.get("reviewee_user_id")),
                metric_template_id=_opt_id(item.get("metric_template_id"), "metric_template_id"),
                metrics=tuple(metrics),
                stage_statuses=tuple(_objects(item.get("reviewee_stage_statuses"), "reviewee_stage_statuses")),
            )
        )
    return out


def parse_metric_fields(data: Mapping[str, Any]) -> list[MetricFieldInfo]:
    out = []
    for item in _objects(data.get("items"), "items[]"):
        raw_type = _opt_text(item.get("type"), "type") or ""
        out.append(
            MetricFieldInfo(
                field_id=_id(item.get("field_id"), "field_id"),
                name=_i18n(item.get("name")),
                type=feishu_type_name(raw_type),
            )
        )
    return out


def parse_metric_libs(items: list[Mapping[str, Any]]) -> list[LibraryMetric]:
    out = []
    for item in items:
        fields = tuple(
            LibraryField(
                field_id=_id(f.get("field_id"), "field_id"),
                input_setting=_opt_text(f.get("input_setting"), "input_setting"),
            )
            for f in _objects(item.get("fields"), "fields[]")
        )
        out.append(
            LibraryMetric(
                metric_id=_id(item.get("metric_id"), "metric_id"),
                name=_opt_text(item.get("name"), "name"),
                is_active=_opt_bool(item.get("is_active")),
                fields=fields,
                raw=dict(item),
            )
        )
    return out


def parse_reviewees(items: list[Mapping[str, Any]]) -> list[Reviewee]:
    return [
        Reviewee(
            user=_user(item.get("reviewee_user_id")),
            activity_ids=tuple(_id(a, "activity_ids[]") for a in item.get("activity_ids") or ()),
            reviewprofile_url=_opt_text(item.get("reviewprofile_url"), "reviewprofile_url"),
        )
        for item in items
    ]


def parse_semesters(data: Mapping[str, Any]) -> list[Semester]:
    return [
        Semester(
            id=_id(item.get("id"), "id"),
            name=_i18n(item.get("name")),
            year=_opt_text(item.get("year"), "year"),
            progress=_opt_text(item.get("progress"), "progress"),
            start_time=_opt_text(item.get("start_time"), "start_time"),
            end_time=_opt_text(item.get("end_time"), "end_time"),
        )
        for item in _objects(data.get("items"), "items[]")
    ]


def parse_user_ids(data: Mapping[str, Any]) -> list[UserLookup]:
    return [
        UserLookup(
            user_id=_opt_id(item.get("user_id"), "user_id") or None,
            email=_opt_text(item.get("email"), "email"),
            mobile=_opt_text(item.get("mobile"), "mobile"),
        )
        for item in _objects(data.get("user_list"), "user_list[]")
    ]


MAX_IMPORT_ITEMS = ROWS_PER_IMPORT
MAX_IMPORT_FIELDS = FIELDS_PER_ROW
MAX_CLIENT_TOKEN = 64


def import_body(*, semester_id: str, import_record_name: str, imported_metrics: list[ImportedMetric]) -> dict[str, Any]:
    """The exact body of metric_details/import (what the journal keeps and the client sends)."""
    if not semester_id:
        raise ValueError("semester_id is empty")
    if not 1 <= len(imported_metrics) <= MAX_IMPORT_ITEMS:
        raise ValueError(f"imported_metrics must hold 1 to {MAX_IMPORT_ITEMS} items, not {len(imported_metrics)}")
    for item in imported_metrics:
        if not 1 <= len(item["fields"]) <= MAX_IMPORT_FIELDS:
            raise ValueError(f"an imported metric must hold 1 to {MAX_IMPORT_FIELDS} fields")
    return {
        "semester_id": semester_id,
        "import_record_name": import_record_name,
        "imported_metrics": imported_metrics,
    }
