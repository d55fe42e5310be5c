"""`syncer doctor`'s reads against the emulator (in process, on a manual clock): a clean tenant passes, and
each fault a first contact with a tenant meets — a wrong secret or app ID, an unreachable host, a missing
scope, a narrow data scope, a project not started, IDs of another type, a catalog field the library lacks — is
named with its remedy and fails the run; the requests stay within the budget the run states."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from syncer.doctor.model import Check, DoctorReport
from syncer.doctor.run import DoctorInputs, inputs_from, run_doctor
from syncer.emulator import Emulator, EmulatorTransport, ManualClock, Tenant, load_tenant
from syncer.emulator.scopes import ENDPOINT_SCOPES
from syncer.emulator.tenant import Activity, I18n
from syncer.feishu.auth import Credentials
from syncer.live.reader import LiveReader
from syncer.load.validate import validate_root
from tests.emulated import granted, in_one_project
from tests.example import copy_example

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
H2 = "7293040702907514899"
PROJECT = "7500000000000000001"
ALL_SCOPES = frozenset(s for scopes in ENDPOINT_SCOPES.values() for s in scopes) | {"contact:user.employee_id:readonly"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "metrics")


def inputs(root: Path) -> DoctorInputs:
    return inputs_from(validate_root(root, root_display="metrics"), base_url="http://127.0.0.1")


def doctor(
    tenant: Tenant,
    given: DoctorInputs,
    *,
    secret: str = "emulator_secret",
    app_id: str = "cli_emulator",
    transport: httpx.BaseTransport | None = None,
) -> tuple[DoctorReport, Emulator]:
    clock = ManualClock()
    emu = Emulator(tenant, clock=clock, sleep=clock.sleep)

    def reader() -> LiveReader:
        return LiveReader(
            base_url=given.base_url,
            credentials=Credentials(app_id, secret),
            transport=transport or EmulatorTransport(emu),
            clock=clock,
            sleep=clock.sleep,
        )

    return run_doctor(given, reader), emu


def check(report: DoctorReport, name: str) -> Check:
    (found,) = [c for c in report.checks if c.name == name]
    return found


def lines(c: Check) -> list[str]:
    return [f"{f.message}: {f.remedy}" for f in c.findings]


def with_project(progress: str, tenant: Tenant | None = None) -> Tenant:
    """Every 2026-H2 reviewee in one project, of `progress`."""
    return in_one_project(tenant or load_tenant(), H2, Activity(PROJECT, I18n("下半年考核", "H2 review"), progress))


def test_a_clean_tenant_passes_within_the_stated_budget(root: Path) -> None:
    report, emu = doctor(load_tenant(), inputs(root))
    assert report.ok, [(c.name, lines(c)) for c in report.checks if c.findings]
    assert {c.status for c in report.checks} == {"ok", "unchecked"}
    # token, semesters, libs, templates, fields, reviewees, details, batch_get_id; never a write
    assert report.requests == len(emu.requests()) <= report.budget == 8
    assert not emu.requests("metric_details.import")
    assert check(report, "data scope 2026-H2 (7293040702907514899)").summary == "30 of 30 reviewees visible"


def test_what_cannot_be_told_without_writing_is_said_not_passed(root: Path) -> None:
    report, _ = doctor(load_tenant(), inputs(root))
    assert check(report, "performance:metric:write").status == "unchecked"
    assert "cannot be checked without writing" in check(report, "performance:metric:write").summary
    assert check(report, "percentage format").status == "unchecked"


def test_a_wrong_secret_is_named_with_its_remedy(root: Path) -> None:
    report, emu = doctor(load_tenant(), inputs(root), secret="not-the-secret")
    assert not report.ok
    (line,) = lines(check(report, "credentials"))
    assert "the app secret is wrong (10014)" in line and "set FEISHU_APP_SECRET" in line
    assert check(report, "data scope").status == "unchecked"
    assert report.requests == len(emu.requests()) == 1


def test_an_unknown_app_id_is_told_apart_from_a_wrong_secret(root: Path) -> None:
    report, _ = doctor(load_tenant(), inputs(root), app_id="cli_someone_else")
    (line,) = lines(check(report, "credentials"))
    assert "does not know the app FEISHU_APP_ID names (10003)" in line and "set FEISHU_APP_ID" in line


def test_an_unreachable_token_endpoint_is_named(root: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    report, _ = doctor(load_tenant(), inputs(root), transport=httpx.MockTransport(refuse))
    (line,) = lines(check(report, "credentials"))
    assert "cannot be reached" in line and "target.base_url" in line
    assert not report.ok


def test_missing_credentials_are_one_problem_and_no_request(root: Path) -> None:
    given = inputs(root)

    def no_credentials() -> LiveReader:
        from syncer.feishu.auth import credentials_from_env

        credentials_from_env({})
        raise AssertionError("unreachable")

    report = run_doctor(given, no_credentials)
    (line,) = lines(check(report, "credentials"))
    assert "FEISHU_APP_ID and FEISHU_APP_SECRET are not set" in line
    assert report.requests == 0 and not report.ok


@pytest.mark.parametrize(
    ("missing", "check_name", "endpoint"),
    [
        ("performance:semester_user:read", "performance:semester_user:read", "reviewees/query"),
        ("performance:metric:read", "performance:metric:read", "metric_details/query"),
        ("performance:semester:read", "performance:semester:read", "v1 semesters"),
        ("contact:user.id:readonly", "contact:user.id:readonly", "users/batch_get_id"),
    ],
)
def test_a_missing_scope_is_named_by_its_scope_string(root: Path, missing: str, check_name: str, endpoint: str) -> None:
    # Grant every scope except the ones that would also open the endpoint.
    others = {s for s in ALL_SCOPES if s.startswith("performance:performance")} | {"performance:metric:write"}
    report, _ = doctor(granted(load_tenant(), ALL_SCOPES - others - {missing}), inputs(root))
    assert not report.ok
    (line,) = lines(check(report, check_name))
    assert f"the app may not call {endpoint} (99991672)" in line
    assert f"add the permission {missing}" in line and "publish a new version" in line


def test_the_library_scope_covers_both_library_reads(root: Path) -> None:
    lib = {"performance:metric_lib:read", "performance:metric:read", "performance:metric:write"}
    report, _ = doctor(granted(load_tenant(), ALL_SCOPES - lib), inputs(root))
    c = check(report, "performance:metric_lib:read")
    assert c.status == "problem" and "the app may not call metric_libs/query (99991672)" in lines(c)[0]
    assert "the app may not call metric_templates/query (99991672), which `syncer catalog pull` need" in lines(c)[1]
    assert check(report, "catalog against Feishu").status == "unchecked"


def test_user_id_without_the_employee_id_scope_is_told_apart(root: Path) -> None:
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("user_id_type: open_id", "user_id_type: user_id"))
    report, _ = doctor(granted(load_tenant(), ALL_SCOPES - {"contact:user.employee_id:readonly"}), inputs(root))
    (line,) = lines(check(report, "contact:user.employee_id:readonly"))
    assert "may not use user_id_type user_id" in line and "add the permission contact:user.employee_id:readonly" in line
    assert check(report, "performance:semester:read").status == "ok"  # the same read without user_id answered


def test_a_narrow_data_scope_counts_and_lists_the_reviewees_left_out(root: Path) -> None:
    tenant = load_tenant()
    narrow = dataclasses.replace(tenant, app=dataclasses.replace(tenant.app, data_scope_exclude=frozenset({ALICE})))
    report, _ = doctor(narrow, inputs(root))
    c = check(report, "data scope 2026-H2 (7293040702907514899)")
    assert c.summary == "29 of 30 reviewees visible"
    (finding,) = c.findings
    assert finding.people == ("alice",)
    assert "1 of the 30 reviewees the data files name in 2026-H2" in finding.message
    assert "widen the app's data scope" in finding.remedy
    assert not report.ok


def test_ids_of_another_type_than_the_setting_are_named_with_the_setting_to_change(root: Path) -> None:
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("user_id_type: open_id", "user_id_type: union_id"))
    report, emu = doctor(load_tenant(), inputs(root))
    (line,) = lines(check(report, "user ID type"))
    assert "33 people in catalog.yaml have IDs that look like open_id, but target.user_id_type is union_id" in line
    assert "set target.user_id_type: open_id in syncer.yaml" in line
    assert check(report, "data scope").status == "unchecked"  # no reviewee could be found by such IDs
    assert not emu.requests("reviewees.query")
    assert not report.ok


def edit_catalog(root: Path, old: str, new: str) -> None:
    catalog = root / "catalog.yaml"
    text = catalog.read_text()
    assert old in text
    catalog.write_text(text.replace(old, new, 1))


def test_a_catalog_field_the_library_lacks_is_named(root: Path) -> None:
    edit_catalog(root, 'target: {id: "4", type: number}', 'target: {id: "7999999999999999999", type: number}')
    report, _ = doctor(load_tenant(), inputs(root))
    (line,) = lines(check(report, "catalog against Feishu"))
    assert "field revenue.target (7999999999999999999) is not a field of that metric in Feishu" in line
    assert "1580305" in line and "fix the field's ID in catalog.yaml" in line
    assert not report.ok


def test_a_catalog_metric_the_library_lacks_is_named(root: Path) -> None:
    edit_catalog(root, '"7272580325522276372"', '"7272580325522270000"')
    report, _ = doctor(load_tenant(), inputs(root))
    (line,) = lines(check(report, "catalog against Feishu"))
    assert "metric revenue (7272580325522270000) is not in Feishu's metric library" in line


def test_a_field_of_another_type_is_named_with_the_library_type(root: Path) -> None:
    edit_catalog(root, 'actual: {id: "5", type: number}', 'actual: {id: "5", type: text}')
    report, _ = doctor(load_tenant(), inputs(root))
    assert "field revenue.actual (5) is of type number in Feishu, not text: set its type: number in catalog.yaml" in (
        lines(check(report, "catalog against Feishu"))
    )


def test_an_admin_owned_field_the_catalog_does_not_mark_is_a_warning(root: Path) -> None:
    edit_catalog(root, "type: text, input_setting: admin}", "type: text}")
    report, _ = doctor(load_tenant(), inputs(root))
    c = check(report, "catalog against Feishu")
    (finding,) = c.findings
    assert finding.severity == "warning" and "input_setting: admin" in finding.message and "1580311" in finding.message
    assert c.status == "warning" and report.ok  # an apply could run: Feishu refuses only those rows


def test_a_host_that_does_not_answer_as_feishu_is_named(root: Path) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>a login page</html>")

    report, _ = doctor(load_tenant(), inputs(root), transport=httpx.MockTransport(html))
    (line,) = lines(check(report, "credentials"))
    assert "does not answer as Feishu does" in line and "https://open.larksuite.com" in line


def test_an_invalid_root_is_a_problem_and_leaves_the_data_scope_unchecked(root: Path) -> None:
    (root / "teams" / "broken.yaml").write_text("semester: 2026-H2\nreviewees:\n  nobody: {revenue: {weight: 1%}}\n")
    report, emu = doctor(load_tenant(), inputs(root))
    (line,) = lines(check(report, "root"))
    assert "the root has 1 validation error" in line and "syncer validate" in line
    assert check(report, "data scope").summary == "not checked: the root does not validate (above)"
    assert not emu.requests("reviewees.query") and not report.ok


def test_a_refused_reviewee_read_leaves_the_data_scope_unchecked_not_empty(root: Path) -> None:
    others = {s for s in ALL_SCOPES if s.startswith("performance:performance")} | {"performance:semester_user:read"}
    report, _ = doctor(granted(load_tenant(), ALL_SCOPES - others), inputs(root))
    assert check(report, "data scope").summary == "not checked: reviewees/query was refused (above)"
    assert check(report, "performance:metric:read").status == "unchecked"  # no visible reviewee to read


def test_open_ids_under_user_id_are_named_and_not_looked_up_as_user_ids(root: Path) -> None:
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("user_id_type: open_id", "user_id_type: user_id"))
    given = inputs(root)
    assert given.root_errors == 0  # user_id IDs have no shape: validation cannot tell
    report, emu = doctor(load_tenant(), given)
    (line,) = lines(check(report, "user ID type"))
    assert "look like open_id, but target.user_id_type is user_id" in line
    assert check(report, "data scope").summary == "not checked: the IDs are not of target.user_id_type (above)"
    assert not emu.requests("reviewees.query") and not report.ok


def test_a_semester_feishu_does_not_list_is_named_and_not_read(root: Path) -> None:
    edit_catalog(root, H2, "7293040702900000000")
    report, emu = doctor(load_tenant(), inputs(root))
    (line,) = lines(check(report, "catalog against Feishu"))
    assert "semester 2026-H2 (7293040702900000000) is not among the semesters Feishu lists" in line
    c = check(report, "data scope 2026-H2 (7293040702900000000)")
    assert c.summary == "not checked: Feishu does not list the semester (above)"
    assert not emu.requests("reviewees.query") and report.requests == len(emu.requests()) <= report.budget


def test_without_people_given_by_email_the_contact_scope_is_not_asked_for(root: Path) -> None:
    from syncer.model import PersonDef

    given = inputs(root)
    people = {a: PersonDef(a, p.id) for a, p in given.catalog.people.items() if p.id}
    given = dataclasses.replace(given, catalog=dataclasses.replace(given.catalog, people=people))
    report, emu = doctor(load_tenant(), given)
    c = check(report, "contact:user.id:readonly")
    assert c.status == "unchecked" and "nobody in catalog.yaml is given by email" in c.summary
    assert not emu.requests("users.batch_get_id") and report.requests == report.budget == 7


def test_a_project_not_started_is_named_with_the_reviewees_it_blocks(root: Path) -> None:
    report, emu = doctor(with_project("initiating"), inputs(root))
    assert not report.ok
    c = check(report, "projects 2026-H2 (7293040702907514899)")
    assert c.summary == "1 of the semester's 1 project not started"
    (finding,) = c.findings
    assert finding.message.startswith(
        f"the project 'H2 review' ('{PROJECT}') of 2026-H2 (7293040702907514899) is not started (Feishu: initiating): "
        "30 of the 30 reviewees the data files name in 2026-H2 (7293040702907514899) are in no project that has "
        "started (an import answers 1580306"
    )
    assert "alice" in finding.people and "a Performance admin starts it in Feishu" in finding.remedy
    assert len(emu.requests("activity.query")) == 1  # one read for the semester, counted in the budget
    assert report.requests == len(emu.requests()) <= report.budget == 9


def test_a_started_project_passes(root: Path) -> None:
    report, _ = doctor(with_project("enabled"), inputs(root))
    assert report.ok, [(c.name, lines(c)) for c in report.checks if c.findings]
    c = check(report, "projects 2026-H2 (7293040702907514899)")
    assert c.status == "ok" and c.summary == "0 of the semester's 1 project not started"
    assert check(report, "performance:semester_activity:read").status == "ok"


def test_without_projects_in_the_answer_they_are_not_read(root: Path) -> None:
    report, emu = doctor(load_tenant(), inputs(root))
    c = check(report, "projects 2026-H2 (7293040702907514899)")
    assert c.status == "unchecked" and "puts none of the visible reviewees in a project" in c.summary
    assert not emu.requests("activity.query")


def test_a_missing_activity_scope_is_named_and_leaves_projects_unchecked(root: Path) -> None:
    others = {s for s in ALL_SCOPES if s.startswith("performance:performance")}
    tenant = granted(with_project("initiating"), ALL_SCOPES - others - {"performance:semester_activity:read"})
    report, _ = doctor(tenant, inputs(root))
    (finding,) = check(report, "performance:semester_activity:read").findings
    assert "the app may not call activity/query (99991672), which `syncer apply --preflight` need" in finding.message
    assert "projects are not checked" in finding.message and finding.severity == "warning"
    assert "add the permission performance:semester_activity:read" in finding.remedy
    c = check(report, "projects 2026-H2 (7293040702907514899)")
    assert c.status == "unchecked" and c.summary == "not checked: activity/query was refused (above)"
    assert report.ok  # the pre-flight goes without project status: an apply can run
