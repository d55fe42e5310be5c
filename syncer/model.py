"""The desired state: what the YAML says, keyed by resolved Feishu IDs.

Everything here is plain, immutable data. Keys hold IDs, never aliases, so that renaming an alias in the
catalog changes no key (and therefore no plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from syncer.fieldtypes import render_value

#: A field type's name: a key of syncer.fieldtypes.FIELD_TYPES (the catalog's schema allows no other).
FieldType = str
UserIdType = Literal["open_id", "union_id", "user_id", "people_admin_id"]

#: metric_details/import takes 1 to 50 rows (reviewee, metric) a request, each with 1 to 99 fields: the plan
#: counts requests by the first, batching and the client enforce both.
ROWS_PER_IMPORT = 50
FIELDS_PER_ROW = 99


def request_count(rows: int, *, batch_size: int = ROWS_PER_IMPORT) -> int:
    """The requests `rows` changed rows of one semester take when none fails: ceil(rows / batch_size)."""
    return -(-rows // batch_size) if rows > 0 else 0


class Identity(NamedTuple):
    """The target a state belongs to, recorded when the state is created."""

    host: str
    app_id: str | None  # None only when the state was created without credentials
    user_id_type: str


class RowKey(NamedTuple):
    """One (semester, reviewee, metric): the unit of an import request's `imported_metrics` item."""

    semester: str
    reviewee: str
    metric: str


class ValueKey(NamedTuple):
    """One value: a field of a row. The unit of change of a plan."""

    semester: str
    reviewee: str
    metric: str
    field: str

    @property
    def row(self) -> RowKey:
        return RowKey(self.semester, self.reviewee, self.metric)


class Source(NamedTuple):
    """Where something was written: a path (as given, POSIX separators), 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class DesiredValue(NamedTuple):
    """A value as the YAML holds it, canonical for comparison.

    `value` is the canonical text: percentages without their `%` (so `40` and `40%` are one value), person
    fields as the resolved user ID, everything else exactly as typed (line breaks normalised to `\\n`): each
    type's own (syncer.fieldtypes). The wire form is decided when a request is built (`target.percentage_format`).
    """

    value: str
    type: FieldType
    file: str
    line: int
    col: int

    @property
    def source(self) -> Source:
        return Source(self.file, self.line, self.col)


@dataclass(frozen=True, slots=True)
class FieldDef:
    alias: str
    id: str
    type: FieldType
    role: str | None = None
    max_length: int = 1000
    required: bool = False
    input_setting: str | None = None


@dataclass(frozen=True, slots=True)
class MetricDef:
    alias: str
    id: str
    fields: dict[str, FieldDef]  # by alias

    def field_by_id(self, field_id: str) -> FieldDef | None:
        for f in self.fields.values():
            if f.id == field_id:
                return f
        return None


@dataclass(frozen=True, slots=True)
class SemesterDef:
    alias: str
    id: str
    closed: bool = False
    start: str | None = None  # YYYY-MM-DD, as rules see it (syncer.rules)
    end: str | None = None


@dataclass(frozen=True, slots=True)
class PersonDef:
    alias: str
    id: str | None
    email: str | None = None


#: How a metric template bounds its metrics' weights (Feishu's metric_weight_method; docs/feishu-api.md): the
#: weights of all its metrics together, or those of each dimension on their own, make at most 100%.
WeightRule = Literal["total", "per_dimension"]


@dataclass(frozen=True, slots=True)
class DimensionDef:
    """A dimension (指标维度) of a metric template and the metrics it holds (IDs). Its share of the score, like
    a template's input settings and score bounds, stays in catalog.yaml for people to read: no rule uses it."""

    alias: str
    id: str | None
    metric_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TemplateDef:
    """A metric template (指标模板): its weight rule and dimensions."""

    alias: str
    id: str
    weight_rule: WeightRule
    dimensions: tuple[DimensionDef, ...]

    @property
    def metric_ids(self) -> frozenset[str]:
        return frozenset(m for d in self.dimensions for m in d.metric_ids)


@dataclass(frozen=True, slots=True)
class Catalog:
    semesters: dict[str, SemesterDef] = field(default_factory=dict)  # by alias
    metrics: dict[str, MetricDef] = field(default_factory=dict)  # by alias
    people: dict[str, PersonDef] = field(default_factory=dict)  # by alias
    templates: dict[str, TemplateDef] = field(default_factory=dict)  # by alias; none: one total per reviewee

    def metric_by_id(self, metric_id: str) -> MetricDef | None:
        for m in self.metrics.values():
            if m.id == metric_id:
                return m
        return None

    def closed_semester_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.semesters.values() if s.closed)


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The input of a plan: every value the YAML holds, by resolved key, with its source."""

    values: dict[ValueKey, DesiredValue]
    rows: dict[RowKey, Source]  # where each row (the metric's key in its data file) was written
    catalog: Catalog
    closed_semesters: frozenset[str]
    files: tuple[str, ...]  # the data files read, sorted

    def open_values(self) -> dict[ValueKey, DesiredValue]:
        """The values that take part in plans (closed semesters left out)."""
        closed = self.closed_semesters
        if not closed:
            return self.values
        return {k: v for k, v in self.values.items() if k.semester not in closed}


def wire_fields(values: Mapping[str, DesiredValue], *, percentage_format: str) -> dict[str, str]:
    """A row's values as an import would send them (field id -> wire text): what a rejection's digest is
    taken over, so that a change of what would be sent (a value, a type, the percentage format) releases a
    row Feishu rejected."""
    return {f: render_value(v.value, field_type=v.type, percentage_format=percentage_format) for f, v in values.items()}
