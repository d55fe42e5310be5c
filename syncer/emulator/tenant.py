"""The emulated tenant as frozen data: what Feishu knows before any request arrives. `loader.py` builds
it from a tenant file.

Field names follow the official SDK's models (`metric_id`, `field_id`, `input_setting`,
`reviewee_user_id`, `type_group`, ...). Everything emulator-only (deadlines, switches, data scope) has a
name of its own and is documented in schemas/emulator-tenant.schema.json and docs/emulator.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

UserIdType = Literal["open_id", "union_id", "user_id", "people_admin_id"]
USER_ID_TYPES: tuple[UserIdType, ...] = ("open_id", "union_id", "user_id", "people_admin_id")
FieldType = Literal["text", "number", "percentage", "person"]
InputSetting = Literal["admin", "data_source_inputter", "reviewee"]


# The real limits (docs/feishu-api.md), per minute unless a per-second limit is given too.
ENDPOINTS: tuple[str, ...] = (
    "auth.tenant_access_token",
    "metric_details.import",
    "metric_details.query",
    "metric_fields.query",
    "metric_libs.query",
    "metric_templates.query",
    "activity.query",
    "reviewees.query",
    "semesters.list",
    "users.batch_get_id",
)


@dataclass(frozen=True, slots=True)
class I18n:
    zh_cn: str
    en_us: str

    def to_json(self, keys: Literal["zh-CN", "zh_cn"] = "zh_cn") -> dict[str, str]:
        """`keys`: the SDK models' `zh_cn`/`en_us`, or the `zh-CN`/`en-US` of v1 semesters' documented example."""
        if keys == "zh-CN":
            return {"zh-CN": self.zh_cn, "en-US": self.en_us}
        return {"zh_cn": self.zh_cn, "en_us": self.en_us}


@dataclass(frozen=True, slots=True)
class User:
    open_id: str
    union_id: str
    user_id: str
    people_admin_id: str
    name: str = ""
    email: str | None = None
    mobile: str | None = None
    is_resigned: bool = False

    def id_of(self, user_id_type: str) -> str:
        value: str = getattr(self, user_id_type)
        return value


@dataclass(frozen=True, slots=True)
class FieldDef:
    """A field of the field library (what `metric_fields/query` answers)."""

    field_id: str
    name: I18n
    type: FieldType


@dataclass(frozen=True, slots=True)
class MetricField:
    """A field as one metric uses it: its type there, who inputs it, whether it is required, how long."""

    field_id: str
    type: FieldType
    input_setting: InputSetting = "data_source_inputter"
    required: bool = False
    max_length: int = 1000


@dataclass(frozen=True, slots=True)
class Metric:
    metric_id: str
    name: str
    fields: tuple[MetricField, ...]
    weight_field: str | None = None
    type_id: str = "1"
    scoring_setting_type: str = "score_manually"
    range_of_availability: str = "all"
    is_active: bool = True
    old_version: bool = False
    tags: tuple[tuple[str, I18n], ...] = ()

    def field(self, field_id: str) -> MetricField | None:
        for f in self.fields:
            if f.field_id == field_id:
                return f
        return None


#: Feishu's metric_weight_method values (docs/feishu-api.md, "Metric templates").
TOTAL_RULE = "total_sum_of_all_metric_weight_equals_1"
PER_DIMENSION_RULE = "sum_of_metric_weights_for_each_dimension_equals_1"


@dataclass(frozen=True, slots=True)
class Dimension:
    metric_dimension_id: str
    name: I18n
    dimension_weight: str
    metric_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MetricTemplate:
    """A metric template: its metrics, split into dimensions (one, from the dimension_* fields, unless
    `dimensions` is given), and its weight rule: one total, or each dimension on its own (1580304)."""

    id: str
    name: I18n
    metric_ids: tuple[str, ...]
    dimension_id: str = "1"
    dimension_name: I18n = I18n("关键指标", "Key metrics")
    dimension_weight: str = "100%"
    metric_weight_method: str = TOTAL_RULE
    dimensions: tuple[Dimension, ...] = ()

    def all_dimensions(self) -> tuple[Dimension, ...]:
        if self.dimensions:
            return self.dimensions
        return (Dimension(self.dimension_id, self.dimension_name, self.dimension_weight, self.metric_ids),)

    def dimension_of(self, metric_id: str) -> Dimension:
        dims = self.all_dimensions()
        return next((d for d in dims if metric_id in d.metric_ids), dims[0])


@dataclass(frozen=True, slots=True)
class Reviewee:
    reviewee_user_id: str  # open_id
    metric_template_id: str
    project_started: bool = True
    activity_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AdminValue:
    """A value an admin entered in Feishu: the import can't overwrite it (1580311)."""

    reviewee_user_id: str  # open_id
    metric_id: str
    field_id: str
    field_value: str | None = None
    field_value_person: str | None = None  # open_id


#: Projects in these progress states are not running: their reviewees are refused with 1580306 (the
#: emulator's reading of activity/query's values, docs/feishu-api.md "Projects").
NOT_STARTED = frozenset({"initiating", "configurable", "unable"})


@dataclass(frozen=True, slots=True)
class Activity:
    """A project (Feishu's `activity`) of a semester and its progress."""

    id: str
    name: I18n
    progress: str = "enabled"
    mode: str = "normal"


@dataclass(frozen=True, slots=True)
class Semester:
    id: str
    name: I18n
    year: int
    type_group: str
    type: str
    progress: str
    start_time: int  # ms
    end_time: int  # ms
    input_deadline: int | None  # ms; None: no deadline
    reviewees: Mapping[str, Reviewee]  # by open_id
    admin_values: tuple[AdminValue, ...] = ()
    activities: Mapping[str, Activity] = field(default_factory=dict)  # by id

    def started(self, reviewee: Reviewee) -> bool:
        """False when the reviewee's project has not started: `project_started: false`, or every one of
        their projects in a not-started progress."""
        acts = [self.activities[a] for a in reviewee.activity_ids if a in self.activities]
        return reviewee.project_started and not (acts and all(a.progress in NOT_STARTED for a in acts))


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_minute: int | None = None
    per_second: int | None = None

    def windows(self) -> tuple[tuple[int, float], ...]:
        """(limit, window seconds) pairs, widest first."""
        out: list[tuple[int, float]] = []
        if self.per_minute is not None:
            out.append((self.per_minute, 60.0))
        if self.per_second is not None:
            out.append((self.per_second, 1.0))
        return tuple(out)


DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {
    "auth.tenant_access_token": RateLimit(),
    "metric_details.import": RateLimit(per_minute=10),
    "metric_details.query": RateLimit(per_minute=20),
    "metric_fields.query": RateLimit(per_minute=20),
    "metric_libs.query": RateLimit(per_minute=20),
    "metric_templates.query": RateLimit(per_minute=20),
    "activity.query": RateLimit(per_minute=10),
    "reviewees.query": RateLimit(per_minute=20),
    "semesters.list": RateLimit(per_minute=10),
    "users.batch_get_id": RateLimit(per_minute=1000, per_second=50),
}


@dataclass(frozen=True, slots=True)
class App:
    app_id: str = "cli_emulator"
    app_secret: str = "emulator_secret"
    token_ttl_seconds: int = 7200
    token_refresh_window_seconds: int = 1800
    data_scope: frozenset[str] | None = None  # open_ids; None: every user
    data_scope_exclude: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None  # the permission scopes granted; None: every scope (scopes.py)

    def in_scope(self, open_id: str) -> bool:
        if open_id in self.data_scope_exclude:
            return False
        return self.data_scope is None or open_id in self.data_scope


@dataclass(frozen=True, slots=True)
class Switches:
    """One switch per UNCONFIRMED point of docs/feishu-api.md (see docs/emulator.md)."""

    metric_details_shape: Literal["object", "list"] = "object"
    remember_rejected_tokens: bool = False
    partial_rows: Literal["merge", "replace"] = "merge"
    percentage_wire_format: Literal["40%", "40", "both"] = "both"
    accept_numeric_ids: bool = False
    admin_fields: Literal["entered", "always"] = "entered"
    user_object: Literal["documented", "typed_key"] = "documented"
    semester_names: Literal["zh-CN", "zh_cn"] = "zh-CN"
    semester_times: Literal["string", "int"] = "string"


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Faults the tenant file asks for; tests usually set them through the Python API instead."""

    seed: int = 0
    latency_ms: tuple[int, int] = (0, 0)
    error_rate: float = 0.0
    error_after_commit_rate: float = 0.0
    lost_response_rate: float = 0.0
    storm_rate: float = 0.0
    storm_length: int = 5
    storm_reset_seconds: int = 1
    endpoints: tuple[str, ...] = ()  # empty: every endpoint except auth
    echo_body: bool = False  # every refusal repeats the request body (msg, error details, field violations)


@dataclass(frozen=True, slots=True)
class Tenant:
    app: App
    licence: bool
    switches: Switches
    rate_limits: Mapping[str, RateLimit]
    semesters: Mapping[str, Semester]
    fields: Mapping[str, FieldDef]
    metrics: Mapping[str, Metric]
    templates: Mapping[str, MetricTemplate]
    users: Mapping[str, User]  # by open_id
    faults: FaultSettings = FaultSettings()
    _index: Mapping[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], str] = {}
        for u in self.users.values():
            for t in USER_ID_TYPES:
                index[(t, u.id_of(t))] = u.open_id
        object.__setattr__(self, "_index", index)

    def find_user(self, user_id_type: str, value: str) -> User | None:
        """The user whose ID of `user_id_type` is `value`."""
        open_id = self._index.get((user_id_type, value))
        return None if open_id is None else self.users[open_id]

    def with_switches(self, **changes: Any) -> Tenant:
        return dataclasses.replace(self, switches=dataclasses.replace(self.switches, **changes))

    def with_rate_limit(self, endpoint: str, *, per_minute: int | None, per_second: int | None = None) -> Tenant:
        limits = dict(self.rate_limits)
        limits[endpoint] = RateLimit(per_minute=per_minute, per_second=per_second)
        return dataclasses.replace(self, rate_limits=limits)
