"""The read endpoints: metric_details/query, metric_fields/query, metric_libs/query, reviewees/query,
v1 semesters and contact users/batch_get_id. Pure functions of the tenant and the stored values; each
returns the `data` object of the envelope or a `Rejection`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from syncer.emulator.rules import Rejection, parse_id, user_id_type_of
from syncer.emulator.store import Store
from syncer.emulator.tenant import Metric, Tenant, User

Data = dict[str, Any]
GATEWAY_INVALID = 99992402  # the gateway's "field validation failed", with field_violations
CONTACT_BAD_REQUEST = GATEWAY_INVALID
CONTACT_ID_TYPES = ("open_id", "union_id", "user_id")
SEMESTER_ID_TYPES = CONTACT_ID_TYPES  # v1 semesters documents these three only
MAX_QUERY_REVIEWEES = 50
MAX_FIELD_IDS = 50
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50  # reviewees/query documents 1-50; the metric library is held to the same
WIRE_TYPE = {"percentage": "pencentage"}  # the platform's own spelling


def _bad(detail: str, field: str | None = None) -> Rejection:
    return Rejection(1580102, detail, field)


def user_json(user: User, user_id_type: str, shape: str = "documented") -> dict[str, str]:
    """A user as the performance API returns one: {open_id, user_id} (the SDK's `User`). `documented`: its
    `user_id` holds the ID of the request's user_id_type (the endpoint pages: 与入参 user_id_type 类型一致);
    `typed_key` (the other reading): `user_id` is the employee ID, and a union_id or people_admin_id request
    adds that ID under its own key."""
    if shape == "typed_key":
        out = {"open_id": user.open_id, "user_id": user.user_id}
        if user_id_type in ("union_id", "people_admin_id"):
            out[user_id_type] = user.id_of(user_id_type)
        return out
    return {"open_id": user.open_id, "user_id": user.id_of(user_id_type)}


def _body(body: bytes, *, required: bool = True) -> dict[str, Any] | Rejection:
    if not body.strip():
        return {} if not required else _bad("the body must be a JSON object")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _bad("the body is not JSON")
    if not isinstance(data, dict):
        return _bad("the body must be a JSON object")
    return data


def _str_list(value: Any, where: str, *, max_items: int | None = None) -> list[str] | Rejection:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return _bad(f"{where} must be a list of strings", where)
    if max_items is not None and len(value) > max_items:
        return _bad(f"{where} holds at most {max_items} items", where)
    return list(value)


def _paging(query: Mapping[str, str], total: int) -> tuple[int, int] | Rejection:
    size_text = query.get("page_size")
    size = DEFAULT_PAGE_SIZE
    if size_text:
        if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
            # The gateway checks declared parameter ranges before the service sees the request.
            return Rejection(GATEWAY_INVALID, f"page_size must be between 1 and {MAX_PAGE_SIZE}", "page_size")
        size = int(size_text)
    start = 0
    token = query.get("page_token")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii").removeprefix("offset:"))
        except (ValueError, binascii.Error, UnicodeError):
            return _bad("page_token is not one this API gave out", "page_token")
        if not 0 <= start <= total:
            return _bad("page_token is not one this API gave out", "page_token")
    return start, size


def _page(items: list[Data], start: int, size: int, key: str) -> Data:
    chunk = items[start : start + size]
    more = start + size < len(items)
    out: Data = {key: chunk, "has_more": more}
    if more:
        out["page_token"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode("ascii")).decode("ascii")
    return out


def _metric_detail(
    tenant: Tenant,
    store: Store,
    semester_id: str,
    user: User,
    metric: Metric,
    tpl_dimension: tuple[str, dict[str, str], str],
    uid_type: str,
) -> Data:
    row = store.row(semester_id, user.open_id, metric.metric_id)
    fields: list[Data] = []
    for mf in metric.fields:
        v = row.get(mf.field_id)
        if v is None:
            continue
        f: Data = {"field_id": mf.field_id}
        if v.field_value is not None:
            f["field_value"] = v.field_value
        if v.field_value_person is not None:
            f["field_value_person"] = user_json(
                tenant.users[v.field_value_person], uid_type, tenant.switches.user_object
            )
        fields.append(f)
    dim_id, dim_name, dim_weight = tpl_dimension
    return {
        "metric_id": metric.metric_id,
        "name": metric.name,
        "fields": fields,
        "dimension_id": dim_id,
        "dimension_name": dim_name,
        "dimension_weight": dim_weight,
        "add_from": "admin",
        "is_from_library": True,
    }


def _request(query: Mapping[str, str], body: bytes, *, required: bool) -> tuple[str, dict[str, Any]] | Rejection:
    """A read's user_id_type (query) and JSON body, or the refusal of either."""
    uid_type = _uid_type(query)
    data = uid_type if isinstance(uid_type, Rejection) else _body(body, required=required)
    return data if isinstance(data, Rejection) else (str(uid_type), data)


def _uid_type(query: Mapping[str, str]) -> str | Rejection:
    uid_type = user_id_type_of(query)
    if uid_type is None:
        return _bad("user_id_type must be open_id, union_id, user_id or people_admin_id", "user_id_type")
    return uid_type


def _semester_request(
    tenant: Tenant, query: Mapping[str, str], body: bytes
) -> tuple[str, dict[str, Any], str] | Rejection:
    """What the per-semester reads share: user_id_type, a JSON body, and its semester_id."""
    request = _request(query, body, required=True)
    if isinstance(request, Rejection):
        return request
    uid_type, data = request
    semester_id = parse_id(data.get("semester_id"), "semester_id", tenant.switches)
    if isinstance(semester_id, Rejection):
        return semester_id
    return uid_type, data, semester_id


def metric_details_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    request = _semester_request(tenant, query, body)
    if isinstance(request, Rejection):
        return request
    uid_type, data, semester_id = request
    ids = _str_list(data.get("reviewee_user_ids"), "reviewee_user_ids", max_items=MAX_QUERY_REVIEWEES)
    if isinstance(ids, Rejection):
        return ids
    if not ids:
        return _bad("reviewee_user_ids must hold 1 to 50 user IDs", "reviewee_user_ids")
    semester = tenant.semesters.get(semester_id)
    if semester is None:
        return Rejection(1580105, f"semester {semester_id} does not exist", "semester_id")
    out: list[Data] = []
    seen: set[str] = set()
    for rid in ids:
        user = tenant.find_user(uid_type, rid)
        if user is None or user.open_id in seen:
            continue
        seen.add(user.open_id)
        if not tenant.app.in_scope(user.open_id):
            return Rejection(1580112, f"reviewee {rid} is outside the app's data scope", "reviewee_user_ids")
        enrolled = semester.reviewees.get(user.open_id)
        if enrolled is None:
            continue
        tpl = tenant.templates[enrolled.metric_template_id]
        details = []
        for mid in tpl.metric_ids:
            d = tpl.dimension_of(mid)
            dim = (d.metric_dimension_id, d.name.to_json(), d.dimension_weight)
            details.append(_metric_detail(tenant, store, semester.id, user, tenant.metrics[mid], dim, uid_type))
        head: Data = {
            "reviewee_user_id": user_json(user, uid_type, tenant.switches.user_object),
            "metric_template_id": tpl.id,
        }
        if tenant.switches.metric_details_shape == "list":
            out.append({**head, "metric_details": details, "reviewee_stage_statuses": []})
        else:
            out.extend({**head, "metric_details": d, "reviewee_stage_statuses": []} for d in details)
    return {"semester_id": semester.id, "reviewee_metrics": out}


def metric_fields_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    data = _body(body, required=False)
    if isinstance(data, Rejection):
        return data
    raw = data.get("field_ids")
    if raw is not None and not isinstance(raw, list):
        return _bad("field_ids must be a list of IDs", "field_ids")
    if raw is not None and len(raw) > MAX_FIELD_IDS:
        return _bad(f"field_ids holds at most {MAX_FIELD_IDS} IDs", "field_ids")
    ids: list[str] = []
    for i, v in enumerate(raw or []):
        fid = parse_id(v, f"field_ids[{i}]", tenant.switches)
        if isinstance(fid, Rejection):
            return fid
        ids.append(fid)
    chosen = [tenant.fields[i] for i in ids if i in tenant.fields] if ids else list(tenant.fields.values())
    return {
        "items": [
            {"field_id": f.field_id, "name": f.name.to_json(), "type": WIRE_TYPE.get(f.type, f.type)} for f in chosen
        ]
    }


def metric_libs_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    request = _request(query, body, required=False)
    if isinstance(request, Rejection):
        return request
    _, data = request
    is_active = data.get("is_active")
    if is_active is not None and not isinstance(is_active, bool):
        return _bad("is_active must be a boolean", "is_active")
    tag_ids = _str_list(data.get("tag_ids"), "tag_ids")
    type_ids = _str_list(data.get("type_ids"), "type_ids")
    if isinstance(tag_ids, Rejection):
        return tag_ids
    if isinstance(type_ids, Rejection):
        return type_ids
    items: list[Data] = []
    for m in tenant.metrics.values():
        if m.old_version:
            continue
        if is_active is not None and m.is_active != is_active:
            continue
        if tag_ids and not {t for t, _ in m.tags} & set(tag_ids):
            continue
        if type_ids and m.type_id not in type_ids:
            continue
        rng = data.get("range_of_availability")
        if rng is not None and m.range_of_availability != rng:
            continue
        sst = data.get("scoring_setting_type")
        if sst is not None and m.scoring_setting_type != sst:
            continue
        items.append(
            {
                "metric_id": m.metric_id,
                "name": m.name,
                "type_id": m.type_id,
                "tags": [{"tag_id": t, "tag_name": n.to_json()} for t, n in m.tags],
                "fields": [{"field_id": f.field_id, "input_setting": f.input_setting} for f in m.fields],
                "scoring_setting_type": m.scoring_setting_type,
                "data_source_inputters": [],
                "range_of_availability": m.range_of_availability,
                "is_active": m.is_active,
            }
        )
    paging = _paging(query, len(items))
    if isinstance(paging, Rejection):
        return paging
    return _page(items, *paging, key="items")


def reviewees_query(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    request = _semester_request(tenant, query, body)
    if isinstance(request, Rejection):
        return request
    uid_type, data, semester_id = request
    user_ids = _str_list(data.get("user_ids"), "user_ids", max_items=MAX_QUERY_REVIEWEES)
    activity_ids = _str_list(data.get("activity_ids"), "activity_ids")
    if isinstance(user_ids, Rejection):
        return user_ids
    if isinstance(activity_ids, Rejection):
        return activity_ids
    semester = tenant.semesters.get(semester_id)
    if semester is None:
        return Rejection(1580105, f"semester {semester_id} does not exist", "semester_id")
    wanted: set[str] | None = None
    if user_ids:
        wanted = {u.open_id for u in (tenant.find_user(uid_type, i) for i in user_ids) if u is not None}
    items: list[Data] = []
    for r in semester.reviewees.values():
        if wanted is not None and r.reviewee_user_id not in wanted:
            continue
        if not tenant.app.in_scope(r.reviewee_user_id):
            continue
        if activity_ids and not set(r.activity_ids) & set(activity_ids):
            continue
        user = tenant.users[r.reviewee_user_id]
        items.append(
            {
                "reviewee_user_id": user_json(user, uid_type, tenant.switches.user_object),
                "activity_ids": list(r.activity_ids),
                "reviewprofile_url": f"https://performance.feishu.cn/reviewprofile?semester_id={semester.id}"
                f"&user_id={user.user_id}",
            }
        )
    paging = _paging(query, len(items))
    if isinstance(paging, Rejection):
        return paging
    return {"semester_id": semester.id, **_page(items, *paging, key="reviewees")}


def semesters_list(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    uid_type = query.get("user_id_type") or "open_id"
    if uid_type not in SEMESTER_ID_TYPES:
        # Documented as open_id | union_id | user_id only; the gateway checks a declared enum.
        return Rejection(GATEWAY_INVALID, "user_id_type must be open_id, union_id or user_id", "user_id_type")
    filters: dict[str, int] = {}
    for key in ("start_time", "end_time", "year"):
        text = query.get(key)
        if text:
            if not text.isdigit():
                return _bad(f"{key} must be an integer", key)
            filters[key] = int(text)
    time: Callable[[int], int | str] = int if tenant.switches.semester_times == "int" else str
    items: list[Data] = []
    for s in tenant.semesters.values():
        if "year" in filters and s.year != filters["year"]:
            continue
        if "start_time" in filters and s.start_time < filters["start_time"]:
            continue
        if "end_time" in filters and s.end_time > filters["end_time"]:
            continue
        if query.get("type_group") and s.type_group != query["type_group"]:
            continue
        if query.get("type") and s.type != query["type"]:
            continue
        items.append(
            {
                "id": s.id,
                "year": s.year,
                "type_group": s.type_group,
                "type": s.type,
                "name": s.name.to_json(tenant.switches.semester_names),
                "progress": s.progress,
                "start_time": time(s.start_time),
                "end_time": time(s.end_time),
                "create_time": time(s.start_time),
                "modify_time": time(s.start_time),
            }
        )
    return {"items": items}


def _status(user: User) -> Data:
    return {
        "is_frozen": False,
        "is_resigned": user.is_resigned,
        "is_activated": not user.is_resigned,
        "is_exited": user.is_resigned,
        "is_unjoin": False,
    }


def batch_get_id(tenant: Tenant, store: Store, query: Mapping[str, str], body: bytes) -> Data | Rejection:
    uid_type = query.get("user_id_type") or "open_id"
    if uid_type not in CONTACT_ID_TYPES:
        return Rejection(CONTACT_BAD_REQUEST, "user_id_type must be open_id, union_id or user_id", "user_id_type")
    data = _body(body)
    if isinstance(data, Rejection):
        return Rejection(CONTACT_BAD_REQUEST, data.detail)
    emails = _str_list(data.get("emails"), "emails", max_items=50)
    mobiles = _str_list(data.get("mobiles"), "mobiles", max_items=50)
    if isinstance(emails, Rejection):
        return Rejection(CONTACT_BAD_REQUEST, emails.detail, emails.field)
    if isinstance(mobiles, Rejection):
        return Rejection(CONTACT_BAD_REQUEST, mobiles.detail, mobiles.field)
    include_resigned = data.get("include_resigned", False)
    if not isinstance(include_resigned, bool):
        return Rejection(CONTACT_BAD_REQUEST, "include_resigned must be a boolean", "include_resigned")
    if not emails and not mobiles:
        return Rejection(CONTACT_BAD_REQUEST, "give emails or mobiles (up to 50 each)", "emails")

    def visible(u: User | None) -> User | None:
        if u is None or not tenant.app.in_scope(u.open_id) or (u.is_resigned and not include_resigned):
            return None
        return u

    by_email = {u.email.lower(): u for u in tenant.users.values() if u.email}
    by_mobile = {u.mobile: u for u in tenant.users.values() if u.mobile}
    out: list[Data] = []
    for e in emails:
        u = visible(by_email.get(e.lower()))
        out.append({"email": e, **({"user_id": u.id_of(uid_type), "status": _status(u)} if u else {})})
    for m in mobiles:
        u = visible(by_mobile.get(m) or by_mobile.get("+86" + m))
        out.append({"mobile": m, **({"user_id": u.id_of(uid_type), "status": _status(u)} if u else {})})
    return {"user_list": out}
