"""The read endpoints of the tenant's setup: metric_templates/query (each template's weight rule, dimensions
and metrics with their fields' input settings) and activity/query (the projects of semesters and their
progress). Shapes as the documentation pages give them (docs/feishu-api.md): IDs are strings."""

from __future__ import annotations

from collections.abc import Mapping

from syncer.emulator.reads import Data, _bad, _page, _paging, _request, _str_list
from syncer.emulator.rules import Rejection
from syncer.emulator.store import Store
from syncer.emulator.tenant import MetricTemplate, Tenant

TEMPLATE_STATUSES = ("to_be_configured", "to_be_activated", "enabled", "disabled")


def _template_json(tenant: Tenant, t: MetricTemplate) -> Data:
    dims = t.all_dimensions()
    return {
        "id": t.id,
        "name": t.name.to_json(),
        "status": "enabled",
        "is_set_by_group": False,
        "total_metric_score_method": "weight",
        "metric_weight_method": t.metric_weight_method,
        "metric_dimensions": [
            {
                "metric_dimension_id": d.metric_dimension_id,
                "name": d.name.to_json(),
                "dimension_weight": d.dimension_weight,
            }
            for d in dims
        ],
        "metrics": [
            {
                "metric_id": m.metric_id,
                "name": m.name,
                "type_id": m.type_id,
                "fields": [{"id": f.field_id, "input_setting": f.input_setting} for f in m.fields],
                "is_from_library": True,
                "scoring_setting_type": m.scoring_setting_type,
                "metric_dimension_id": t.dimension_of(m.metric_id).metric_dimension_id,
            }
            for m in (tenant.metrics[mid] for mid in t.metric_ids)
        ],
        "groups": [],
    }


def metric_templates_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    request = _request(query, body, required=False)
    if isinstance(request, Rejection):
        return request
    _, data = request
    ids = _str_list(data.get("metrics_template_ids"), "metrics_template_ids")
    if isinstance(ids, Rejection):
        return ids
    status = data.get("status")
    if status is not None and status not in TEMPLATE_STATUSES:
        return _bad(f"status must be one of {', '.join(TEMPLATE_STATUSES)}", "status")
    items = [
        _template_json(tenant, t)
        for t in tenant.templates.values()
        if (not ids or t.id in ids) and status in (None, "enabled")
    ]
    paging = _paging(query, len(items))
    if isinstance(paging, Rejection):
        return paging
    return _page(items, *paging, key="items")


def activity_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    """The projects of the semesters asked for (all when none), or of the projects asked for; not paged."""
    request = _request(query, body, required=False)
    if isinstance(request, Rejection):
        return request
    _, data = request
    semester_ids = _str_list(data.get("semester_ids"), "semester_ids")
    if isinstance(semester_ids, Rejection):
        return semester_ids
    activity_ids = _str_list(data.get("activity_ids"), "activity_ids")
    if isinstance(activity_ids, Rejection):
        return activity_ids
    out: list[Data] = []
    for s in tenant.semesters.values():
        if semester_ids and s.id not in semester_ids:
            continue
        for a in s.activities.values():
            if activity_ids and a.id not in activity_ids:
                continue
            out.append(
                {"id": a.id, "name": a.name.to_json(), "semester_id": s.id, "mode": a.mode, "progress": a.progress}
            )
    return {"activities": out}
