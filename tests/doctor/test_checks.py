"""The pure checks of `syncer doctor`: IDs against `user_id_type` by their shape, the catalog against the
library, the projects not started and whom they block, and the request budget at its page boundaries."""

from __future__ import annotations

from syncer.doctor.checks import (
    id_kind,
    id_type_findings,
    library_findings,
    projects_not_started,
    request_budget,
    semester_findings,
)
from syncer.feishu.records import LibraryField, LibraryMetric, Semester
from syncer.feishu.setup_records import Activity
from syncer.model import Catalog, FieldDef, MetricDef, SemesterDef

OPEN = "ou_3245842393d09e9428ad4655da6e30b3"
UNION = "on_3245842393d09e9428ad4655da6e30b3"


def test_an_id_s_shape_gives_its_type_away_when_it_has_one() -> None:
    assert (id_kind(OPEN), id_kind(UNION), id_kind("5bb2e38e")) == ("open_id", "union_id", None)


def test_ids_of_the_configured_type_pass() -> None:
    assert id_type_findings("open_id", {"alice": OPEN}) == ()
    assert id_type_findings("union_id", {"alice": UNION}) == ()
    assert id_type_findings("user_id", {"alice": "5bb2e38e"}) == ()


def test_open_ids_under_user_id_are_named_with_the_setting_that_fits_them() -> None:
    (f,) = id_type_findings("user_id", {"alice": OPEN, "bob": "5bb2e38e"})
    assert f.people == ("alice",)
    assert "look like open_id, but target.user_id_type is user_id" in f.message
    assert f.remedy.startswith("set target.user_id_type: open_id")


def test_shapeless_ids_under_open_id_are_named() -> None:
    (f,) = id_type_findings("open_id", {"alice": "5bb2e38e"})
    assert "look like an unknown type" in f.message and f.remedy.startswith("write the people's open_id")


def catalog(**fields: FieldDef) -> Catalog:
    return Catalog(
        semesters={"h2": SemesterDef("h2", "1"), "h1": SemesterDef("h1", "2", closed=True)},
        metrics={"revenue": MetricDef("revenue", "100", dict(fields))},
    )


def test_a_closed_semester_need_not_be_listed_but_an_open_one_must() -> None:
    (f,) = semester_findings(catalog(), [])
    assert "semester h2 (1)" in f.message
    assert semester_findings(catalog(), [Semester("1", {})]) == ()


def test_library_findings_name_each_mismatch() -> None:
    cat = catalog(
        weight=FieldDef("weight", "2", "percentage"),
        actual=FieldDef("actual", "5", "text"),
        ghost=FieldDef("ghost", "9", "number"),
        calibration=FieldDef("calibration", "8", "text"),
    )
    lib = [
        LibraryMetric(
            "100", "Revenue", True, tuple(LibraryField(i, s) for i, s in [("2", None), ("5", None), ("8", "admin")])
        )
    ]
    found = library_findings(cat, lib, {"2": "percentage", "5": "number", "8": "text"})
    assert [(f.severity, f.message.split(" (")[0]) for f in found] == [
        ("error", "field revenue.actual"),
        ("warning", "field revenue.calibration"),
        ("error", "field revenue.ghost"),
    ]
    marked = catalog(calibration=FieldDef("calibration", "8", "text", input_setting="admin"))
    assert library_findings(marked, lib, {"8": "text"}) == ()


def test_a_switched_off_metric_is_a_warning() -> None:
    (f,) = library_findings(catalog(), [LibraryMetric("100", "Revenue", False, ())], {})
    assert f.severity == "warning" and "switched off" in f.message


def budget(
    reviewees: dict[str, int],
    *,
    uid: str = "open_id",
    library: int = 50,
    templates: int = 50,
    fields: int = 50,
    emails: bool = False,
    projects: int = 0,
) -> int:
    return request_budget(
        user_id_type=uid,
        library_metrics=library,
        catalog_fields=fields,
        reviewees=reviewees,
        emails=emails,
        templates=templates,
        project_reads=projects,
    )


def test_the_budget_counts_a_request_per_50_at_each_boundary() -> None:
    # token + semesters + library page + templates page + fields + reviewees + details
    assert budget({"1": 50}) == 1 + 1 + 1 + 1 + 1 + 1 + 1
    assert budget({"1": 51}) == 8
    assert budget({"1": 50}, library=51) == 8
    assert budget({"1": 50}, templates=51) == 8
    assert budget({"1": 50}, fields=51) == 8
    # an empty library or template list is still one page each; no reviewee, no details
    assert budget({}, library=0, templates=0, fields=0) == 4


def test_the_budget_adds_an_activity_read_per_semester_with_projects() -> None:
    assert budget({"1": 50, "2": 50}, projects=2) == budget({"1": 50, "2": 50}) + 2


def test_the_budget_adds_the_user_id_probe_and_the_email_lookup() -> None:
    assert budget({"1": 1, "2": 1}, uid="user_id", emails=True) == 1 + 2 + 1 + 1 + 1 + 2 + 1 + 1


def test_a_project_not_started_blocks_only_the_reviewees_in_no_started_project() -> None:
    waiting = Activity("p1", {"en_us": "Waiting"}, "S", "initiating")
    running = Activity("p2", {"en_us": "Running"}, "S", "enabled")
    projects_of = {"ou_a": ("p1",), "ou_b": ("p1", "p2"), "ou_c": ("p2",)}
    (f,) = projects_not_started(
        [waiting, running], semester_id="S", label="H2 (S)", projects_of=projects_of, named=4, names={"ou_a": "alice"}
    )
    assert f.severity == "error" and f.people == ("alice",)
    assert f.message.startswith(
        "the project 'Waiting' ('p1') of H2 (S) is not started (Feishu: initiating): 1 of the 4"
    )


def test_a_project_not_started_that_blocks_nobody_is_a_warning() -> None:
    waiting = Activity("p1", {"en_us": "Waiting"}, "S", "configurable")
    (f,) = projects_not_started(
        [waiting], semester_id="S", label="H2 (S)", projects_of={"ou_c": ("p2",)}, named=1, names={}
    )
    assert f.severity == "warning" and "it holds none of the reviewees the data files name" in f.message
    assert f.people == ()
