"""Which Feishu endpoints the emulator serves: method and path to an endpoint name (the name the rate
limits, faults and the request log use), whether the performance licence gates it, and its read handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from syncer.emulator import reads, rules, setup_reads
from syncer.emulator.store import Store
from syncer.emulator.tenant import Tenant

Query = str | Mapping[str, str] | Sequence[tuple[str, str]] | None
Handler = Callable[[Tenant, Store, Mapping[str, str], bytes], "reads.Data | rules.Rejection"]


@dataclass(frozen=True, slots=True)
class Route:
    endpoint: str
    performance: bool  # subject to the licence
    handler: Handler | None  # None: handled by the emulator itself


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal"): Route("auth.tenant_access_token", False, None),
    ("POST", "/open-apis/performance/v2/metric_details/import"): Route("metric_details.import", True, None),
    ("POST", "/open-apis/performance/v2/metric_details/query"): Route(
        "metric_details.query", True, reads.metric_details_query
    ),
    ("POST", "/open-apis/performance/v2/metric_fields/query"): Route(
        "metric_fields.query", True, reads.metric_fields_query
    ),
    ("POST", "/open-apis/performance/v2/metric_libs/query"): Route("metric_libs.query", True, reads.metric_libs_query),
    ("POST", "/open-apis/performance/v2/metric_templates/query"): Route(
        "metric_templates.query", True, setup_reads.metric_templates_query
    ),
    ("POST", "/open-apis/performance/v2/activity/query"): Route("activity.query", True, setup_reads.activity_query),
    ("POST", "/open-apis/performance/v2/reviewees/query"): Route("reviewees.query", True, reads.reviewees_query),
    ("GET", "/open-apis/performance/v1/semesters"): Route("semesters.list", True, reads.semesters_list),
    ("POST", "/open-apis/contact/v3/users/batch_get_id"): Route("users.batch_get_id", False, reads.batch_get_id),
}


def parse_query(query: Query) -> dict[str, str]:
    """The first value of each parameter."""
    if query is None:
        return {}
    pairs = (
        parse_qsl(query, keep_blank_values=True)
        if isinstance(query, str)
        else (list(query.items()) if isinstance(query, Mapping) else list(query))
    )
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(str(k), str(v))
    return out
