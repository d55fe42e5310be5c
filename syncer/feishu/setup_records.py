"""What Feishu answers about the tenant's setup, as plain records: metric templates (metric_templates/query)
and projects (activity/query). Parsed leniently, like syncer.feishu.records: IDs as strings (numbers too),
unknown keys ignored, a missing ID refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer.feishu.records import _i18n, _id, _objects, _opt_id, _opt_text


@dataclass(frozen=True, slots=True)
class TemplateDimension:
    id: str
    name: Mapping[str, str]
    weight: str | None  # the dimension's share of the score, as text; None when not set
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateMetric:
    metric_id: str
    dimension_id: str | None
    input_settings: Mapping[str, str]  # field ID -> admin | data_source_inputter | reviewee
    score_min: str | None = None
    score_max: str | None = None
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class MetricTemplateInfo:
    id: str
    name: Mapping[str, str]
    status: str | None
    weight_method: str | None  # Feishu's metric_weight_method
    dimensions: tuple[TemplateDimension, ...]
    metrics: tuple[TemplateMetric, ...]
    groups: Mapping[str, str]  # group ID -> name (templates set per group of people)


@dataclass(frozen=True, slots=True)
class Activity:
    """A project (项目) of a semester and its progress (initiating, enabled, ...)."""

    id: str
    name: Mapping[str, str]
    semester_id: str | None
    progress: str | None


def parse_metric_templates(items: list[Mapping[str, Any]]) -> list[MetricTemplateInfo]:
    out = []
    for item in items:
        dims = tuple(
            TemplateDimension(
                id=_id(d.get("metric_dimension_id"), "metric_dimension_id"),
                name=_i18n(d.get("name")),
                weight=_opt_text(d.get("dimension_weight"), "dimension_weight") or None,
                group_id=_opt_id(d.get("group_id"), "group_id") or None,
            )
            for d in _objects(item.get("metric_dimensions"), "metric_dimensions[]")
        )
        metrics = []
        for m in _objects(item.get("metrics"), "metrics[]"):
            bounds = m.get("review_rule_config")
            rule = bounds if isinstance(bounds, Mapping) else {}
            settings = {}
            for f in _objects(m.get("fields"), "fields[]"):
                setting = _opt_text(f.get("input_setting"), "input_setting")
                if setting:
                    settings[_id(f.get("id", f.get("field_id")), "fields[].id")] = setting
            metrics.append(
                TemplateMetric(
                    metric_id=_id(m.get("metric_id"), "metric_id"),
                    dimension_id=_opt_id(m.get("metric_dimension_id"), "metric_dimension_id") or None,
                    input_settings=settings,
                    score_min=_opt_text(rule.get("min"), "min") or None,
                    score_max=_opt_text(rule.get("max"), "max") or None,
                    group_id=_opt_id(m.get("group_id"), "group_id") or None,
                )
            )
        groups = {
            _id(g.get("group_id"), "group_id"): _opt_text(g.get("name"), "name") or ""
            for g in _objects(item.get("groups"), "groups[]")
        }
        out.append(
            MetricTemplateInfo(
                id=_id(item.get("id"), "id"),
                name=_i18n(item.get("name")),
                status=_opt_text(item.get("status"), "status"),
                weight_method=_opt_text(item.get("metric_weight_method"), "metric_weight_method"),
                dimensions=dims,
                metrics=tuple(metrics),
                groups=groups,
            )
        )
    return out


def parse_activities(data: Mapping[str, Any]) -> list[Activity]:
    return [
        Activity(
            id=_id(item.get("id"), "id"),
            name=_i18n(item.get("name")),
            semester_id=_opt_id(item.get("semester_id"), "semester_id") or None,
            progress=_opt_text(item.get("progress"), "progress"),
        )
        for item in _objects(data.get("activities"), "activities[]")
    ]
