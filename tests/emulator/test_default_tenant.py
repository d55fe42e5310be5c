"""The default tenant stays in step with the example metrics root (metrics/) and the seed page.

Only IDs and keys matter here, so the YAML files are read with yaml.safe_load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.emulator import Tenant
from syncer.load.files import NOT_DATA

METRICS = Path(__file__).resolve().parents[2] / "metrics"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _id(value: Any) -> str:
    return str(value["id"] if isinstance(value, dict) else value)


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    data: dict[str, Any] = _load(METRICS / "catalog.yaml")
    return data


def data_files() -> list[Path]:
    return sorted(
        p for p in METRICS.rglob("*.y*ml")
        if p.name not in NOT_DATA and not any(part.startswith(".") for part in p.parts)
    )  # fmt: skip


def test_semesters(tenant: Tenant, catalog: dict[str, Any]) -> None:
    for alias, value in catalog["semesters"].items():
        sid = _id(value)
        assert sid in tenant.semesters, alias
        closed = isinstance(value, dict) and value.get("closed", False)
        deadline = tenant.semesters[sid].input_deadline
        if closed:  # past its input deadline, whatever today is
            assert deadline is not None and deadline < 1_790_000_000_000, alias
        else:
            assert deadline is None, alias


def test_metrics_and_fields(tenant: Tenant, catalog: dict[str, Any]) -> None:
    for alias, metric in catalog["metrics"].items():
        m = tenant.metrics.get(str(metric["id"]))
        assert m is not None and not m.old_version, alias
        assert {f.field_id for f in m.fields} == {str(f["id"]) for f in metric["fields"].values()}, alias
        for falias, f in metric["fields"].items():
            mf = m.field(str(f["id"]))
            assert mf is not None and mf.type == f["type"], f"{alias}.{falias}"
            assert str(f["id"]) in tenant.fields, f"{alias}.{falias}"
            if "input_setting" in f:
                assert mf.input_setting == f["input_setting"], f"{alias}.{falias}"
            assert mf.required == f.get("required", False), f"{alias}.{falias}"
            assert mf.max_length == f.get("max_length", 1000), f"{alias}.{falias}"
            if f.get("role") == "weight":
                assert m.weight_field == str(f["id"]), alias
    calibration = tenant.metrics[str(catalog["metrics"]["csat"]["id"])].field("7283776005142675480")
    assert calibration is not None and calibration.input_setting == "admin"


def test_people(tenant: Tenant, catalog: dict[str, Any]) -> None:
    for alias, person in catalog["people"].items():
        user = tenant.users.get(_id(person))
        assert user is not None, alias
        if isinstance(person, dict) and "email" in person:
            assert user.email == person["email"], alias
        assert all(user.id_of(t) for t in ("union_id", "user_id", "people_admin_id")), alias


def test_every_reviewee_and_metric_of_the_open_semesters_data_files(tenant: Tenant, catalog: dict[str, Any]) -> None:
    people = {alias: _id(p) for alias, p in catalog["people"].items()}
    metrics = {alias: str(m["id"]) for alias, m in catalog["metrics"].items()}
    semesters = {alias: _id(s) for alias, s in catalog["semesters"].items()}
    checked = 0
    for path in data_files():
        doc = _load(path)
        semester = tenant.semesters[semesters.get(doc["semester"], str(doc["semester"]))]
        for who, rows in doc["reviewees"].items():
            open_id = people.get(who, who)
            enrolled = semester.reviewees.get(open_id)
            assert enrolled is not None, f"{path.name}: {who} not enrolled in {semester.id}"
            assert enrolled.project_started and tenant.app.in_scope(open_id), f"{path.name}: {who}"
            template = tenant.templates[enrolled.metric_template_id]
            for metric_alias, fields in rows.items():
                assert metrics[metric_alias] in template.metric_ids, f"{path.name}: {who}.{metric_alias}"
                for value in fields.values():  # person values are people of the tenant
                    if isinstance(value, str) and value in people:
                        assert people[value] in tenant.users
                checked += 1
    assert checked >= 60


def test_the_seed_pages_ids(tenant: Tenant) -> None:
    semester = tenant.semesters["7293040702907514899"]
    reviewee = semester.reviewees["ou_3245842393d09e9428ad4655da6e30b3"]
    assert "7272580325522276372" in tenant.templates[reviewee.metric_template_id].metric_ids
    owner = tenant.metrics["7272580325522276372"].field("7283776005142675476")
    assert owner is not None and owner.type == "person"
