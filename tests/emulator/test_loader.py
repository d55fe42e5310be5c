"""The tenant file: its JSON Schema, loading, and the errors a broken file gets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from syncer.emulator import TenantError, load_tenant, parse_tenant
from syncer.emulator.loader import default_tenant_path, schema_path, tenant_schema
from syncer.emulator.tenant import ENDPOINTS
from syncer.load.schema import schema_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(default_tenant_path().read_text(encoding="utf-8"))
    return loaded


def test_the_schema_is_a_valid_2020_12_schema_with_a_versioned_id() -> None:
    schema = tenant_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_url("emulator-tenant.schema.json")
    assert schema_path() == REPO / "schemas" / "emulator-tenant.schema.json"  # an editable install


def _properties(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            found.append((f"{path}/{name}", sub))
        for key, sub in node.items():
            found += _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            found += _properties(sub, f"{path}/{i}")
    return found


def test_every_property_has_a_title_and_a_description() -> None:
    props = _properties(tenant_schema())
    assert len(props) > 60
    for where, prop in props:
        assert prop.get("title") and prop.get("description"), where


def test_the_schema_names_every_endpoint_and_switch() -> None:
    schema = tenant_schema()
    assert set(schema["properties"]["rate_limits"]["properties"]) == set(ENDPOINTS)
    assert set(schema["properties"]["switches"]["properties"]) == {
        "metric_details_shape", "remember_rejected_tokens", "partial_rows", "percentage_wire_format",
        "accept_numeric_ids", "admin_fields", "user_object", "semester_names", "semester_times",
    }  # fmt: skip


def test_the_default_tenant_validates_and_loads(data: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(tenant_schema()).validate(data)
    t = load_tenant()
    assert t.app.app_id == "cli_emulator" and t.app.app_secret == "emulator_secret"
    assert t.app.token_ttl_seconds == 7200 and t.licence is True
    assert t.switches.metric_details_shape == "object"
    assert t.rate_limits["metric_details.import"].per_minute == 10


def test_an_unquoted_id_is_refused_with_advice(data: dict[str, Any]) -> None:
    data["semesters"][0]["id"] = 7293040702907514899
    with pytest.raises(TenantError, match=r"semesters\[0\]\.id: 7293040702907514899 is a number; quote it"):
        parse_tenant(data, source="t.yaml")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(colour="blue"), "Additional properties"),
        (lambda d: d["switches"].update(partial_rows="sometimes"), "switches.partial_rows"),
        (lambda d: d["metrics"][0]["fields"][0].update(type="date"), r"metrics\[0\]\.fields\[0\]\.type"),
        (lambda d: d["users"][0].update(open_id="alice"), r"users\[0\]\.open_id"),
        (lambda d: d["semesters"][1].update(input_deadline="2026-07-15"), "input_deadline"),
        (lambda d: d.pop("users"), "'users' is a required property"),
        (lambda d: d.update(version=2), "version"),
    ],
    ids=[
        "unknown key",
        "bad switch",
        "bad field type",
        "bad open_id",
        "date without time",
        "no users",
        "version",
    ],
)
def test_schema_errors_are_clear(data: dict[str, Any], mutate: Any, message: str) -> None:
    mutate(data)
    with pytest.raises(TenantError, match=message) as err:
        parse_tenant(data, source="t.yaml")
    assert "t.yaml" in str(err.value)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["metric_templates"][0]["metric_ids"].append("1"), "'1' is not in `metrics`"),
        (lambda d: d["semesters"][0]["reviewees"][0].update(metric_template_id="9"), "not in `metric_templates`"),
        (lambda d: d["semesters"][0]["reviewees"][0].update(reviewee_user_id="ou_0"), "not the open_id of any user"),
        (lambda d: d["semesters"][0]["reviewees"].append(copy.deepcopy(d["semesters"][0]["reviewees"][0])),
         "enrolled twice"),
        (lambda d: d["metrics"].append(copy.deepcopy(d["metrics"][0])), "appears twice"),
        (lambda d: d["metrics"][0].update(weight_field="4"), "must be of type percentage"),
        (lambda d: d["metrics"][0].update(weight_field="99"), "is not a field of the metric"),
        (lambda d: d["users"][1].update(user_id=d["users"][0]["user_id"]), "is also the user_id of"),
        (lambda d: d["semesters"][0]["admin_values"][0].update(field_id="3"), "is not a field of metric"),
        (lambda d: d["app"]["data_scope"].update(exclude=["ou_0"]), "app.data_scope"),
        (lambda d: d["metrics"][1]["fields"][1].update(type="percentage"), "a field has one type in every metric"),
    ],
    ids=["template metric", "reviewee template", "reviewee user", "enrolled twice", "metric twice",
         "weight not a percentage", "weight not a field", "duplicate user_id", "admin value field", "scope user",
         "a field typed per metric"],
)  # fmt: skip
def test_consistency_errors_are_all_reported(data: dict[str, Any], mutate: Any, message: str) -> None:
    mutate(data)
    with pytest.raises(TenantError, match=message):
        parse_tenant(data, source="t.yaml")


def test_yaml_timestamps_and_millisecond_times(tmp_path: Path, data: dict[str, Any]) -> None:
    text = default_tenant_path().read_text(encoding="utf-8")
    text = text.replace('input_deadline: "2026-07-15T23:59:59+08:00"', "input_deadline: 2026-07-15 15:59:59")
    text = text.replace('start_time: "2026-07-01T00:00:00+08:00"', "start_time: 1782835200000")
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    t = load_tenant(path)
    assert t.semesters["7250000000000000001"].input_deadline == 1784131199000  # naive YAML times are UTC
    assert t.semesters["7293040702907514899"].start_time == 1782835200000


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TenantError, match="cannot read it"):
        load_tenant(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("a: [", encoding="utf-8")
    with pytest.raises(TenantError, match="not valid YAML"):
        load_tenant(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(TenantError, match="is not of type 'object'"):
        load_tenant(tmp_path / "list.yaml")


def test_a_minimal_tenant_and_json(tmp_path: Path) -> None:
    minimal = {
        "version": 1,
        "semesters": [{"id": "1", "name": "S", "start_time": 0, "end_time": "1000"}],
        "fields": [{"field_id": "2", "type": "percentage"}],
        "metrics": [{"metric_id": "10", "name": "M", "weight_field": "2", "fields": [{"field_id": "2"}]}],
        "metric_templates": [{"id": "20", "metric_ids": ["10"]}],
        "users": [{"open_id": "ou_a", "union_id": "on_a", "user_id": "a", "people_admin_id": "1"}],
    }
    path = tmp_path / "t.json"  # JSON is YAML
    path.write_text(json.dumps(minimal), encoding="utf-8")
    t = load_tenant(path)
    assert t.app.app_id == "cli_emulator" and t.metrics["10"].fields[0].type == "percentage"
    assert t.semesters["1"].input_deadline is None and t.semesters["1"].end_time == 1000
