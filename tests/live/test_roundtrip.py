"""Adopting a live tenant, end to end through the real CLI: apply a root to a tenant, then bootstrap a
fresh root from the tenant alone (`catalog pull --write`, `import --all`), and the fresh root holds every
value Feishu holds (admin-entered fields aside, and said so), marks ended semesters closed, and plans no
change. For the default tenant (the example's own field names come back) and for a generated tenant that
uses every field type in more than one metric."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.edit.fmt import format_root
from syncer.emulator import Emulator, EmulatorServer, parse_tenant
from syncer.emulator.tenant import Tenant
from syncer.load.files import NOT_DATA
from syncer.load.validate import validate_root
from tests.example import copy_example

FAR = 4_102_444_800_000  # 2100-01-01: the open semester stays open whenever the suite runs
SETTINGS = "target:\n  import_per_minute: 1000\nstate:\n  backend: local\n"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[Tenant], Emulator]]:
    servers: list[EmulatorServer] = []

    def serve(tenant: Tenant) -> Emulator:
        emu = Emulator(tenant, import_per_minute=1000)
        server = EmulatorServer(emu)
        server.__enter__()
        servers.append(server)
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", tenant.app.app_id)
        monkeypatch.setenv("FEISHU_APP_SECRET", tenant.app.app_secret)
        return emu

    monkeypatch.chdir(tmp_path)
    yield serve
    for s in servers:
        s.__exit__(None, None, None)


def held(emu: Emulator, semester: str) -> dict[tuple[str, str, str, str], str]:
    """What Feishu holds (imported values), percentages without their sign."""
    out = {}
    for v in emu.values(semester):
        if v.source == "import":
            value = v.field_value_person or v.field_value or ""
            out[(v.semester_id, v.reviewee_user_id, v.metric_id, v.field_id)] = value.removesuffix("%")
    return out


def bootstrapped(root: Path, semester: str) -> dict[tuple[str, str, str, str], str]:
    """What a root says, keyed and formed like `held`."""
    result = validate_root(root)
    assert result.ok and result.desired is not None, result.problems
    values = result.desired.open_values().items()
    return {(k[0], k[1], k[2], k[3]): v.value.removesuffix("%") for k, v in values if k.semester == semester}


def adopt(fresh: Path, semester: str) -> str:
    run("catalog", "pull", "--root", str(fresh), "--write")
    out = run("import", "--root", str(fresh), "--semester", semester, "--all")
    imported = sorted((fresh / "imported").rglob("*.yaml"))
    formatted = format_root(fresh, root_display="fresh", paths=imported)  # import writes what fmt would
    assert imported and not formatted.problems and [f.display for f in formatted.changed] == []
    plan = run("plan", "--root", str(fresh), "--refresh-all", "--detailed-exitcode")
    assert "No changes" in plan, plan
    return out


def test_the_example_comes_back_from_the_default_tenant_with_its_own_names(
    served: Callable[[Tenant], Emulator], tmp_path: Path
) -> None:
    from syncer.emulator import load_tenant

    tenant = load_tenant(None)
    h2 = "7293040702907514899"
    tenant = dataclasses.replace(
        tenant, semesters={**tenant.semesters, h2: dataclasses.replace(tenant.semesters[h2], end_time=FAR)}
    )
    emu = served(tenant)
    example = copy_example(tmp_path / "example")
    (example / "syncer.yaml").write_text(SETTINGS)
    run("apply", "--root", str(example), "--auto-approve")
    assert len(held(emu, h2)) == 215

    run("init", "fresh")
    (tmp_path / "fresh" / "syncer.yaml").write_text(SETTINGS)
    for data in (tmp_path / "fresh").rglob("*.yaml"):
        if data.name not in NOT_DATA:
            data.unlink()  # the scaffold's example values: Feishu's are adopted instead
    out = adopt(tmp_path / "fresh", "2026-H2")
    assert "Imported 215 values" in out and "csat.calibration, which admins enter in Feishu" in out
    assert bootstrapped(tmp_path / "fresh", h2) == held(emu, h2)
    fresh = validate_root(tmp_path / "fresh").catalog
    ours = validate_root(example).catalog
    for alias, metric in ours.metrics.items():
        assert set(fresh.metrics[alias].fields) >= set(metric.fields), alias  # the example's own names
    assert fresh.semesters["2026-H1"].closed and not fresh.semesters["2026-H2"].closed


def _generated_tenant() -> Tenant:
    """Every field type in more than one metric (and an admin field), three reviewees, one open semester
    and one that has ended."""
    pct, person, text, num, admin = (f"72837760051426755{i:02d}" for i in range(1, 6))
    users = [f"ou_{i:032x}" for i in range(1, 5)]
    fields = [
        {"field_id": "2", "name": {"en_us": "Weight"}, "type": "percentage"},
        {"field_id": "4", "name": {"en_us": "Target value"}, "type": "number"},
        {"field_id": "5", "name": {"en_us": "Actual value"}, "type": "number"},
        {"field_id": "7", "name": {"en_us": "Completion note"}, "type": "text"},
        {"field_id": pct, "name": {"en_us": "Stretch"}, "type": "percentage"},
        {"field_id": person, "name": {"en_us": "Reviewer"}, "type": "person"},
        {"field_id": text, "name": {"en_us": "Comment"}, "type": "text"},
        {"field_id": num, "name": {"en_us": "Score"}, "type": "number"},
        {"field_id": admin, "name": {"en_us": "Calibration"}, "type": "text"},
    ]
    layout = {
        "7272580325522277001": ("Growth", ["2", "4", "5", "7", pct, person, num]),
        "7272580325522277002": ("Quality", ["2", "4", "5", pct, person, text, num]),
        "7272580325522277003": ("Hiring", ["2", "5", "7", person, text, admin]),
    }
    metrics = [
        {
            "metric_id": mid,
            "name": name,
            "weight_field": "2",
            "fields": [{"field_id": f, "input_setting": "admin" if f == admin else "data_source_inputter"} for f in fs],
        }
        for mid, (name, fs) in layout.items()
    ]
    return parse_tenant(
        {
            "version": 1,
            "fields": fields,
            "metrics": metrics,
            "metric_templates": [{"id": "7300000000000000009", "metric_ids": list(layout)}],
            "users": [
                {
                    "open_id": u,
                    "union_id": f"on_{i:032x}",
                    "user_id": f"u{i}",
                    "people_admin_id": f"74000000000000009{i}",
                }
                for i, u in enumerate(users, 1)
            ],
            "semesters": [
                {
                    "id": "7293040702907519001",
                    "name": {"en_us": "2030 H1"},
                    "start_time": 0,
                    "end_time": str(FAR),
                    "reviewees": [
                        {"reviewee_user_id": u, "metric_template_id": "7300000000000000009"} for u in users[:3]
                    ],
                },
                {
                    "id": "7293040702907519000",
                    "name": {"en_us": "2020 H2"},
                    "start_time": 0,
                    "end_time": "1600000000000",
                },
            ],
        },
        source="generated",
    )


def _generated_root(root: Path, tenant: Tenant) -> None:
    root.mkdir()
    (root / "syncer.yaml").write_text(SETTINGS)
    kinds = {f.field_id: f.type for f in tenant.fields.values()}
    lines = ["semesters:", '  open: "7293040702907519001"', "metrics:"]
    for m in tenant.metrics.values():
        lines += [f"  m{m.metric_id[-1]}:", f'    id: "{m.metric_id}"', "    fields:"]
        for f in m.fields:
            role = ", role: weight" if f.field_id == "2" else ""
            setting = ", input_setting: admin" if f.input_setting == "admin" else ""
            lines.append(f'      f{f.field_id[-2:]}: {{id: "{f.field_id}", type: {kinds[f.field_id]}{role}{setting}}}')
    users = sorted(tenant.users)
    lines += ["people:"] + [f"  p{i}: {u}" for i, u in enumerate(users)]
    (root / "catalog.yaml").write_text("\n".join(lines) + "\n")
    sample = {"percentage": "30%", "number": "12.5", "text": "ok: line one"}
    data = ["semester: open", "reviewees:"]
    for i in range(3):
        data.append(f"  p{i}:")
        for m in tenant.metrics.values():
            data.append(f"    m{m.metric_id[-1]}:")
            for f in m.fields:
                if f.input_setting == "admin":
                    continue
                kind = kinds[f.field_id]
                value = f"p{(i + 1) % 4}" if kind == "person" else sample[kind]
                data.append(
                    f'      f{f.field_id[-2:]}: "{value}"' if kind == "text" else f"      f{f.field_id[-2:]}: {value}"
                )
    (root / "values.yaml").write_text("\n".join(data) + "\n")


def test_a_tenant_with_every_field_type_in_several_metrics_comes_back_whole(
    served: Callable[[Tenant], Emulator], tmp_path: Path
) -> None:
    tenant = _generated_tenant()
    emu = served(tenant)
    root = tmp_path / "applied"
    _generated_root(root, tenant)
    run("apply", "--root", str(root), "--auto-approve")
    semester = "7293040702907519001"
    assert len(held(emu, semester)) == 3 * (7 + 7 + 5)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "syncer.yaml").write_text(SETTINGS)
    adopt(fresh, semester)
    assert bootstrapped(fresh, semester) == held(emu, semester)
    catalog = validate_root(fresh).catalog
    ended = [s for s in catalog.semesters.values() if s.id == "7293040702907519000"]
    assert ended and ended[0].closed
    growth = next(m for m in catalog.metrics.values() if m.id == "7272580325522277001")
    assert {"weight", "target", "actual", "note", "stretch", "reviewer", "score"} == set(growth.fields)
