"""Which permission scopes syncer's requests need: per endpoint (any one of its scopes opens it; the first
is the narrowest, the one to grant) and per command. docs/live-tenant.md#permissions shows this table, with
each endpoint's documentation page; a test keeps the two equal.

`performance:metric:write` opens the read endpoints of key metrics too, so no read can tell whether it is
granted: only an import can, and `syncer doctor` never writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from syncer.feishu.client import (
    ACTIVITY_QUERY,
    BATCH_GET_ID,
    METRIC_DETAILS_QUERY,
    METRIC_FIELDS_QUERY,
    METRIC_LIBS_QUERY,
    METRIC_TEMPLATES_QUERY,
    REVIEWEES_QUERY,
    SEMESTERS_LIST,
)

WRITE_SCOPE = "performance:metric:write"
#: `user_id_type: user_id` needs it on every request: the pages list it as the scope of the `user_id` field.
EMPLOYEE_ID_SCOPE = "contact:user.employee_id:readonly"
MISSING_SCOPE_CODE = 99991672  # the app lacks a scope this API needs
IMPORT_PATH = "/open-apis/performance/v2/metric_details/import"

_DOCS = "https://open.feishu.cn/document"


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str  # as syncer's messages name it
    path: str
    scopes: tuple[str, ...]  # any one opens it; the first is the one to grant
    source: str  # where the scopes are documented (the endpoint's page)


ENDPOINTS: Mapping[str, Endpoint] = {
    "import": Endpoint(
        "metric_details/import", IMPORT_PATH, (WRITE_SCOPE,), "the import endpoint's documentation page (权限要求)"
    ),
    "metric_details": Endpoint(
        "metric_details/query",
        METRIC_DETAILS_QUERY,
        ("performance:metric:read", WRITE_SCOPE),
        f"{_DOCS}/performance-v1/metric_detail/query",
    ),
    "metric_libs": Endpoint(
        "metric_libs/query",
        METRIC_LIBS_QUERY,
        ("performance:metric_lib:read", "performance:metric:read", WRITE_SCOPE),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/performance-v2/metric_lib/query",
    ),
    "metric_fields": Endpoint(
        "metric_fields/query",
        METRIC_FIELDS_QUERY,
        ("performance:metric_lib:read", "performance:metric:read", WRITE_SCOPE),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/performance-v2/metric_field/query",
    ),
    "metric_templates": Endpoint(
        "metric_templates/query",
        METRIC_TEMPLATES_QUERY,
        ("performance:metric_lib:read", "performance:metric:read", WRITE_SCOPE),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/performance-v2/metric_template/query",
    ),
    "activity": Endpoint(
        "activity/query",
        ACTIVITY_QUERY,
        ("performance:semester_activity:read", "performance:performance:readonly", "performance:performance"),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/performance-v2/activity/query",
    ),
    "reviewees": Endpoint(
        "reviewees/query",
        REVIEWEES_QUERY,
        ("performance:semester_user:read", "performance:performance:readonly", "performance:performance"),
        f"{_DOCS}/performance-v1/review_config/semester_activity/reviewee/query",
    ),
    "semesters": Endpoint(
        "v1 semesters",
        SEMESTERS_LIST,
        ("performance:semester:read", "performance:performance:readonly", "performance:performance"),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/performance-v1/semester/list",
    ),
    "batch_get_id": Endpoint(
        "users/batch_get_id",
        BATCH_GET_ID,
        ("contact:user.id:readonly",),
        f"{_DOCS}/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/batch_get_id",
    ),
}

#: Command -> the endpoints it calls (and so the scopes it needs); plus EMPLOYEE_ID_SCOPE everywhere under
#: `user_id_type: user_id`. activity/query is read by the pre-flight and by an apply's diagnosis of a shared
#: 1580306; both go without the project status when it is refused, so `apply` itself does not need it.
COMMANDS: Mapping[str, tuple[str, ...]] = {
    "apply": ("import", "metric_details"),
    "apply --preflight": ("reviewees", "activity"),
    "plan --refresh": ("metric_details",),  # and --refresh-all
    "catalog pull": ("semesters", "metric_libs", "metric_templates", "metric_fields"),
    "import": ("reviewees", "metric_details"),
    "people resolve": ("batch_get_id",),
    "doctor": (
        "semesters",
        "metric_libs",
        "metric_templates",
        "metric_fields",
        "reviewees",
        "activity",
        "metric_details",
        "batch_get_id",
    ),
}


def needed_by(key: str) -> str:
    """The commands that call the endpoint `key`, for messages."""
    return ", ".join(f"`syncer {c}`" for c, keys in COMMANDS.items() if key in keys and c != "doctor")


def grant_remedy(endpoint: Endpoint) -> str:
    """What to do when the app may not call `endpoint`."""
    others = f" (or one of {', '.join(endpoint.scopes[1:])})" if len(endpoint.scopes) > 1 else ""
    return (
        f"add the permission {endpoint.scopes[0]}{others} to the app in the Feishu developer console, "
        "then publish a new version of the app"
    )
