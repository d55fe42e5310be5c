"""Reading a tenant file: YAML of its own format (`schemas/emulator-tenant.schema.json`, docs/emulator.md),
validated against the JSON Schema, checked for consistency (unique IDs, references that resolve) and
built into the frozen `Tenant` of `tenant.py`. The file is trusted test configuration, so
`yaml.safe_load` reads it; the schema still gives a clear error for every mistake.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

import syncer
from syncer.emulator.tenant import (
    DEFAULT_RATE_LIMITS,
    TOTAL_RULE,
    USER_ID_TYPES,
    Activity,
    AdminValue,
    App,
    Dimension,
    FaultSettings,
    FieldDef,
    I18n,
    Metric,
    MetricField,
    MetricTemplate,
    RateLimit,
    Reviewee,
    Semester,
    Switches,
    Tenant,
    User,
)
from syncer.errors import ConfigError

SCHEMA_NAME = "emulator-tenant.schema.json"
DEFAULT_TENANT = "default_tenant.yaml"


class TenantError(ConfigError):
    """The tenant file is unreadable, does not match its schema, or contradicts itself."""

    multiline = True  # one problem a line


def schema_path() -> Path:
    """The tenant schema: `syncer/schemas/` in a wheel, the repository's `schemas/` in a checkout."""
    packaged = resources.files("syncer") / "schemas" / SCHEMA_NAME
    if packaged.is_file():
        return Path(str(packaged))
    return Path(syncer.__file__).resolve().parent.parent / "schemas" / SCHEMA_NAME


@cache
def tenant_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return data


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = tenant_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def default_tenant_path() -> Path:
    return Path(str(resources.files("syncer.emulator") / DEFAULT_TENANT))


def load_tenant(path: str | Path | None = None) -> Tenant:
    """Read, validate and build a tenant; `None` is the default tenant shipped with syncer."""
    p = default_tenant_path() if path is None else Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise TenantError(f"tenant file {p}: cannot read it ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise TenantError(f"tenant file {p}: not UTF-8 text ({exc.reason})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TenantError(f"tenant file {p}: not valid YAML: {exc}") from exc
    return parse_tenant(data, source=str(p))


def parse_tenant(data: Any, *, source: str = "<tenant>") -> Tenant:
    """Validate plain data (as YAML or JSON loads it) against the schema and build the tenant."""
    data = _normalise(data)
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(x) for x in e.absolute_path])
    if errors:
        lines = [f"  at {_where(e.absolute_path)}: {_explain(e)}" for e in errors[:20]]
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise TenantError(
            f"tenant file {source} does not match {SCHEMA_NAME} ({len(errors)} problem(s)):\n" + "\n".join(lines) + more
        )
    problems: list[str] = []
    tenant = _build(data, problems)
    if problems:
        raise TenantError(
            f"tenant file {source} is inconsistent ({len(problems)} problem(s)):\n"
            + "\n".join(f"  {p}" for p in problems)
        )
    return tenant


def _normalise(value: Any) -> Any:
    """YAML timestamps become ISO 8601 text (naive ones are UTC, as YAML says) so the schema sees text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _where(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _explain(err: jsonschema.ValidationError) -> str:
    inst = err.instance
    wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
    if err.validator == "type" and isinstance(inst, int | float) and not isinstance(inst, bool) and "string" in wanted:
        return f'{inst!r} is a number; quote it (IDs and values are text: "{inst}")'
    if err.validator == "additionalProperties":
        return err.message + " (see docs/emulator.md for the keys)"
    if err.validator == "pattern" and isinstance(inst, str):
        described = err.schema.get("description") if isinstance(err.schema, dict) else None
        return f"{inst!r} does not have the expected form ({described or err.validator_value})"
    return err.message


def _ms(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    parsed = dt.datetime.fromisoformat(text.replace(" ", "T"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _i18n(value: Any, fallback: str) -> I18n:
    if isinstance(value, str):
        return I18n(value, value)
    if isinstance(value, dict):
        zh = value.get("zh_cn") or value.get("en_us") or fallback
        en = value.get("en_us") or value.get("zh_cn") or fallback
        return I18n(str(zh), str(en))
    return I18n(fallback, fallback)


def _rate_limit(value: Any) -> RateLimit:
    if value is None:
        return RateLimit()
    if isinstance(value, int):
        return RateLimit(per_minute=value)
    return RateLimit(per_minute=value.get("per_minute"), per_second=value.get("per_second"))


def _build(data: dict[str, Any], problems: list[str]) -> Tenant:
    app_d = data.get("app") or {}
    scope = app_d.get("data_scope") or {}
    include = scope.get("include", "all")
    app = App(
        app_id=app_d.get("app_id", "cli_emulator"),
        app_secret=app_d.get("app_secret", "emulator_secret"),
        token_ttl_seconds=app_d.get("token_ttl_seconds", 7200),
        token_refresh_window_seconds=app_d.get("token_refresh_window_seconds", 1800),
        data_scope=None if include == "all" else frozenset(include),
        data_scope_exclude=frozenset(scope.get("exclude", [])),
        scopes=frozenset(app_d["scopes"]) if "scopes" in app_d else None,
    )
    switches = Switches(**(data.get("switches") or {}))
    limits = dict(DEFAULT_RATE_LIMITS)
    for endpoint, value in (data.get("rate_limits") or {}).items():
        limits[endpoint] = _rate_limit(value)

    users: dict[str, User] = {}
    seen_ids: dict[tuple[str, str], str] = {}
    for i, u in enumerate(data.get("users", [])):
        user = User(
            open_id=u["open_id"],
            union_id=u["union_id"],
            user_id=u["user_id"],
            people_admin_id=u["people_admin_id"],
            name=u.get("name", ""),
            email=u.get("email"),
            mobile=u.get("mobile"),
            is_resigned=u.get("is_resigned", False),
        )
        for t in USER_ID_TYPES:
            key = (t, user.id_of(t))
            if key in seen_ids:
                problems.append(f"users[{i}].{t}: {key[1]!r} is also the {t} of {seen_ids[key]}")
            seen_ids[key] = user.open_id
        users[user.open_id] = user

    def known_user(open_id: str, where: str) -> None:
        if open_id not in users:
            problems.append(f"{where}: {open_id!r} is not the open_id of any user in `users`")

    for oid in sorted((app.data_scope or frozenset()) | app.data_scope_exclude):
        known_user(oid, "app.data_scope")

    fields: dict[str, FieldDef] = {}
    for i, f in enumerate(data.get("fields", [])):
        if f["field_id"] in fields:
            problems.append(f"fields[{i}].field_id: {f['field_id']!r} appears twice")
        fields[f["field_id"]] = FieldDef(f["field_id"], _i18n(f.get("name"), f["field_id"]), f["type"])

    metrics: dict[str, Metric] = {}
    for i, m in enumerate(data.get("metrics", [])):
        mfields: list[MetricField] = []
        for j, mf in enumerate(m["fields"]):
            lib = fields.get(mf["field_id"])
            ftype = mf.get("type") or (lib.type if lib else None)
            if lib is None:
                problems.append(f"metrics[{i}].fields[{j}]: field {mf['field_id']!r} is not in `fields`")
            elif ftype != lib.type:  # Feishu's field library gives a field one type, in every metric
                problems.append(
                    f"metrics[{i}].fields[{j}]: field {mf['field_id']!r} is of type {lib.type} in `fields`, not "
                    f"{ftype}: a field has one type in every metric that uses it"
                )
            if ftype is None:
                ftype = "text"
            if any(x.field_id == mf["field_id"] for x in mfields):
                problems.append(f"metrics[{i}].fields[{j}]: field {mf['field_id']!r} appears twice")
            mfields.append(
                MetricField(
                    field_id=mf["field_id"],
                    type=ftype,
                    input_setting=mf.get("input_setting", "data_source_inputter"),
                    required=mf.get("required", False),
                    max_length=mf.get("max_length", 1000),
                )
            )
        metric = Metric(
            metric_id=m["metric_id"],
            name=m["name"],
            fields=tuple(mfields),
            weight_field=m.get("weight_field"),
            type_id=m.get("type_id", "1"),
            scoring_setting_type=m.get("scoring_setting_type", "score_manually"),
            range_of_availability=m.get("range_of_availability", "all"),
            is_active=m.get("is_active", True),
            old_version=m.get("old_version", False),
            tags=tuple((t["tag_id"], _i18n(t.get("tag_name"), t["tag_id"])) for t in m.get("tags", [])),
        )
        if metric.metric_id in metrics:
            problems.append(f"metrics[{i}].metric_id: {metric.metric_id!r} appears twice")
        if metric.weight_field is not None:
            wf = metric.field(metric.weight_field)
            if wf is None:
                problems.append(f"metrics[{i}].weight_field: {metric.weight_field!r} is not a field of the metric")
            elif wf.type != "percentage":
                problems.append(f"metrics[{i}].weight_field: field {wf.field_id!r} must be of type percentage")
        metrics[metric.metric_id] = metric

    templates: dict[str, MetricTemplate] = {}
    for i, t in enumerate(data.get("metric_templates", [])):
        for mid in t["metric_ids"]:
            if mid not in metrics:
                problems.append(f"metric_templates[{i}].metric_ids: {mid!r} is not in `metrics`")
        tpl = MetricTemplate(
            id=t["id"],
            name=_i18n(t.get("name"), t["id"]),
            metric_ids=tuple(t["metric_ids"]),
            dimension_id=t.get("dimension_id", "1"),
            dimension_name=_i18n(t.get("dimension_name"), "Key metrics")
            if "dimension_name" in t
            else I18n("关键指标", "Key metrics"),
            dimension_weight=t.get("dimension_weight", "100%"),
            metric_weight_method=t.get("metric_weight_method", TOTAL_RULE),
            dimensions=tuple(
                Dimension(
                    d["metric_dimension_id"],
                    _i18n(d.get("name"), d["metric_dimension_id"]),
                    d.get("dimension_weight", ""),
                    tuple(d["metric_ids"]),
                )
                for d in t.get("dimensions", [])
            ),
        )
        if tpl.dimensions and sorted(m for d in tpl.dimensions for m in d.metric_ids) != sorted(tpl.metric_ids):
            problems.append(f"metric_templates[{i}].dimensions: each of metric_ids must be in exactly one dimension")
        if tpl.id in templates:
            problems.append(f"metric_templates[{i}].id: {tpl.id!r} appears twice")
        templates[tpl.id] = tpl

    semesters: dict[str, Semester] = {}
    for i, s in enumerate(data.get("semesters", [])):
        reviewees: dict[str, Reviewee] = {}
        for j, r in enumerate(s.get("reviewees", [])):
            where = f"semesters[{i}].reviewees[{j}]"
            known_user(r["reviewee_user_id"], where)
            if r["metric_template_id"] not in templates:
                problems.append(f"{where}: metric_template_id {r['metric_template_id']!r} is not in `metric_templates`")
            if r["reviewee_user_id"] in reviewees:
                problems.append(f"{where}: {r['reviewee_user_id']!r} is enrolled twice")
            reviewees[r["reviewee_user_id"]] = Reviewee(
                reviewee_user_id=r["reviewee_user_id"],
                metric_template_id=r["metric_template_id"],
                project_started=r.get("project_started", True),
                activity_ids=tuple(r.get("activity_ids", [])),
            )
        admin_values: list[AdminValue] = []
        for j, a in enumerate(s.get("admin_values", [])):
            where = f"semesters[{i}].admin_values[{j}]"
            known_user(a["reviewee_user_id"], where)
            admin_metric = metrics.get(a["metric_id"])
            if admin_metric is None:
                problems.append(f"{where}: metric {a['metric_id']!r} is not in `metrics`")
            elif admin_metric.field(a["field_id"]) is None:
                problems.append(f"{where}: field {a['field_id']!r} is not a field of metric {a['metric_id']!r}")
            if a.get("field_value_person") is not None:
                known_user(a["field_value_person"], where + ".field_value_person")
            admin_values.append(
                AdminValue(
                    reviewee_user_id=a["reviewee_user_id"],
                    metric_id=a["metric_id"],
                    field_id=a["field_id"],
                    field_value=a.get("field_value"),
                    field_value_person=a.get("field_value_person"),
                )
            )
        start = _ms(s["start_time"])
        semester = Semester(
            id=s["id"],
            name=_i18n(s.get("name"), s["id"]),
            year=s.get("year", dt.datetime.fromtimestamp(start / 1000, dt.UTC).year),
            type_group=s.get("type_group", "Semi-annual"),
            type=s.get("type", "first_half"),
            progress=s.get("progress", "enabled"),
            start_time=start,
            end_time=_ms(s["end_time"]),
            input_deadline=None if s.get("input_deadline") is None else _ms(s["input_deadline"]),
            reviewees=reviewees,
            admin_values=tuple(admin_values),
            activities={
                a["id"]: Activity(
                    a["id"], _i18n(a.get("name"), a["id"]), a.get("progress", "enabled"), a.get("mode", "normal")
                )
                for a in s.get("activities", [])
            },
        )
        for r in reviewees.values():
            for a in r.activity_ids if semester.activities else ():
                if a not in semester.activities:
                    problems.append(f"semesters[{i}]: {r.reviewee_user_id!r} is in project {a!r}, not in `activities`")
        if semester.id in semesters:
            problems.append(f"semesters[{i}].id: {semester.id!r} appears twice")
        semesters[semester.id] = semester

    f = data.get("faults") or {}
    lat = f.get("latency_ms", 0)
    faults = FaultSettings(
        seed=f.get("seed", 0),
        latency_ms=(lat, lat) if isinstance(lat, int) else (lat[0], lat[1]),
        error_rate=f.get("error_rate", 0.0),
        error_after_commit_rate=f.get("error_after_commit_rate", 0.0),
        lost_response_rate=f.get("lost_response_rate", 0.0),
        storm_rate=f.get("storm_rate", 0.0),
        storm_length=f.get("storm_length", 5),
        storm_reset_seconds=f.get("storm_reset_seconds", 1),
        endpoints=tuple(f.get("endpoints", [])),
        echo_body=bool(f.get("echo_body", False)),
    )
    return Tenant(
        app=app,
        licence=data.get("licence", True),
        switches=switches,
        rate_limits=limits,
        semesters=semesters,
        fields=fields,
        metrics=metrics,
        templates=templates,
        users=users,
        faults=faults,
    )
