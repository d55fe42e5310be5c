"""The permission scopes each endpoint accepts (any one of them will do), as Feishu's documentation pages
list them, and the refusal of a request whose app was granted none of them.

A tenant file that lists `app.scopes` grants exactly those; without the key every scope is granted (the
default tenant). `user_id_type=user_id` also needs `contact:user.employee_id:readonly`: the pages list it as
the field scope of the `user_id` they answer; the emulator refuses the request without it (a guess: Feishu
may instead leave `user_id` out of the answer; docs/emulator.md).
"""

from __future__ import annotations

from collections.abc import Mapping

EMPLOYEE_ID_SCOPE = "contact:user.employee_id:readonly"
MISSING_SCOPE = 99991672

_PERFORMANCE = ("performance:performance", "performance:performance:readonly")
_METRIC_LIB = ("performance:metric:write", "performance:metric_lib:read", "performance:metric:read")

#: Endpoint name -> the scopes that each open it. Endpoints not named here need no scope.
ENDPOINT_SCOPES: Mapping[str, tuple[str, ...]] = {
    "metric_details.import": ("performance:metric:write",),
    "metric_details.query": ("performance:metric:write", "performance:metric:read"),
    "metric_fields.query": _METRIC_LIB,
    "metric_libs.query": _METRIC_LIB,
    "metric_templates.query": _METRIC_LIB,
    "activity.query": (*_PERFORMANCE, "performance:semester_activity:read"),
    "reviewees.query": (*_PERFORMANCE, "performance:semester_user:read"),
    "semesters.list": (*_PERFORMANCE, "performance:semester:read"),
    "users.batch_get_id": ("contact:user.id:readonly",),
}


def missing_scopes(granted: frozenset[str] | None, endpoint: str, user_id_type: str | None) -> tuple[str, ...]:
    """The scopes one of which the request needs and the app lacks (empty: it may go on)."""
    if granted is None:
        return ()
    needed = ENDPOINT_SCOPES.get(endpoint, ())
    if needed and not granted & set(needed):
        return needed
    if user_id_type == "user_id" and endpoint != "auth.tenant_access_token" and EMPLOYEE_ID_SCOPE not in granted:
        return (EMPLOYEE_ID_SCOPE,)
    return ()


def denied_message(scopes: tuple[str, ...]) -> str:
    """Feishu's wording of the refusal: it names the scopes, any one of which would do."""
    return f"Access denied. One of the following scopes is required: [{', '.join(scopes)}]."
