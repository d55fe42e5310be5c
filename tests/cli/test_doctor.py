"""`syncer doctor` from the command line, against the emulator on loopback with the credentials of the
environment: exit 0 only when an apply could run, the report in text or JSON, secrets never printed, the
reviewees it names redactable, and the request budget stated in its help."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorServer, Tenant, load_tenant
from tests.emulated import in_one_project
from tests.example import copy_example

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
H2 = "7293040702907514899"


def serve(tenant: Tenant, monkeypatch: pytest.MonkeyPatch, secret: str = "emulator_secret") -> Iterator[Emulator]:
    emu = Emulator(tenant)
    with EmulatorServer(emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", secret)
        yield emu


@pytest.fixture
def root(tmp_path: Path) -> str:
    return str(copy_example(tmp_path / "metrics"))


def doctor(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["doctor", *args])
    return result.exit_code, result.output


def test_a_clean_tenant_exits_0(root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for emu in serve(load_tenant(), monkeypatch):
        code, out = doctor("--root", root)
        assert code == 0, out
        assert "No problems (0 warnings): an apply could run. 8 requests (at most 8 for this root)." in out
        assert len(emu.requests()) == 8
        code, out = doctor("--root", root, "--format", "json")
        doc = json.loads(out[out.index("{") :])
        assert code == 0 and doc["ok"] is True and doc["requests"] == 8


def test_a_wrong_secret_exits_1_with_its_remedy_and_never_prints_the_secret(
    root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in serve(load_tenant(), monkeypatch, secret="s3cr3t-wrong"):
        code, out = doctor("--root", root)
        assert code == 1
        assert "error: the app secret is wrong (10014): set FEISHU_APP_SECRET to the App Secret" in out
        assert "s3cr3t-wrong" not in out and "emulator_secret" not in out


def test_the_reviewees_out_of_the_data_scope_are_listed_unless_redacted(
    root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = load_tenant()
    narrow = dataclasses.replace(tenant, app=dataclasses.replace(tenant.app, data_scope_exclude=frozenset({ALICE})))
    for _ in serve(narrow, monkeypatch):
        code, out = doctor("--root", root)
        assert code == 1 and "      alice\n" in out and "widen the app's data scope" in out
        code, out = doctor("--root", root, "--redact-values")
        assert code == 1 and "alice" not in out and "(redacted)" in out


def test_invalid_settings_are_one_line_and_exit_1(root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Path(root) / "syncer.yaml"
    settings.write_text(settings.read_text().replace("user_id_type: open_id", "user_id_type: email"))
    code, out = doctor("--root", root)
    assert code == 1 and "syncer.yaml is invalid: fix it first" in out and "Traceback" not in out


def test_the_help_states_the_requests_it_spends() -> None:
    code, out = doctor("--help")
    assert code == 0
    assert "1 reviewees/query per 50 reviewees" in " ".join(out.split())
    assert "1 activity/query per open semester whose visible reviewees are in projects" in " ".join(out.split())
    assert "performance:metric:write cannot be checked without writing" in " ".join(out.split())


def project_not_started(tenant: Tenant) -> Tenant:
    from syncer.emulator.tenant import Activity, I18n

    return in_one_project(tenant, H2, Activity("7500000000000000001", I18n("下半年考核", "H2 review"), "initiating"))


def without_scope(tenant: Tenant) -> Tenant:
    from syncer.emulator.scopes import ENDPOINT_SCOPES

    every = {s for scopes in ENDPOINT_SCOPES.values() for s in scopes}
    kept = frozenset(s for s in every if s not in ("performance:metric:read", "performance:metric:write"))
    return dataclasses.replace(tenant, app=dataclasses.replace(tenant.app, scopes=kept))


@pytest.mark.parametrize(
    ("fault", "edit", "tenant_of", "expected"),
    [
        (
            "missing scope",
            None,
            without_scope,
            "the app may not call metric_details/query (99991672), which `syncer apply`, `syncer plan --refresh`, "
            "`syncer import` need: add the permission performance:metric:read",
        ),
        (
            "project not started",
            None,
            project_not_started,
            "error: the project 'H2 review' ('7500000000000000001') of 2026-H2 (7293040702907514899) is not started "
            "(Feishu: initiating): 30 of the 30 reviewees",
        ),
        (
            "wrong ID type",
            ("syncer.yaml", "user_id_type: open_id", "user_id_type: people_admin_id"),
            None,
            "but target.user_id_type is people_admin_id: set target.user_id_type: open_id in syncer.yaml",
        ),
        (
            "unknown field",
            ("catalog.yaml", 'note:   {id: "7"', 'note:   {id: "7999"'),
            None,
            "field revenue.note (7999) is not a field of that metric in Feishu (an import answers 1580305): fix",
        ),
    ],
)
def test_each_fault_is_named_with_its_remedy_and_exits_1(
    root: str,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    edit: tuple[str, str, str] | None,
    tenant_of: Callable[[Tenant], Tenant] | None,
    expected: str,
) -> None:
    if edit is not None:
        path = Path(root) / edit[0]
        text = path.read_text()
        assert edit[1] in text, fault
        path.write_text(text.replace(edit[1], edit[2], 1))
    tenant = load_tenant()
    if tenant_of is not None:
        tenant = tenant_of(tenant)
    for _ in serve(tenant, monkeypatch):
        code, out = doctor("--root", root)
        assert code == 1, out
        assert expected in " ".join(out.split()), out
