"""The pure part of `syncer doctor`: what the IDs look like against `user_id_type`, the catalog against
Feishu's semesters and metric library, the projects not started and whom they block, and how many requests a
run may send. Plain data in, findings out."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from syncer.apply.projects import activity_problems, blocking_project
from syncer.doctor.model import Check, Finding
from syncer.feishu.records import LibraryMetric, Semester
from syncer.feishu.setup_records import Activity
from syncer.model import Catalog
from syncer.text import plural

PAGE = 50  # items a read request names or a page holds (reviewees/query, metric_libs/query, metric_fields/query)

#: The user ID types whose IDs have a shape of their own (docs/feishu-api.md); user_id and people_admin_id
#: have none, so an ID of these shapes under them is of the wrong type.
ID_SHAPES: Mapping[str, re.Pattern[str]] = {
    "open_id": re.compile(r"ou_[0-9a-f]{32}\Z"),
    "union_id": re.compile(r"on_[0-9a-f]{32}\Z"),
}


def id_kind(user_id: str) -> str | None:
    """The user ID type an ID's shape gives away (open_id, union_id), or None when it has no known shape."""
    for kind, shape in ID_SHAPES.items():
        if shape.match(user_id):
            return kind
    return None


def id_type_findings(user_id_type: str, ids: Mapping[str, str]) -> tuple[Finding, ...]:
    """The catalog's people IDs (`ids`: alias -> ID) whose shape says they are of another type than
    `target.user_id_type`: every request would name people Feishu cannot find (1580306 on every row)."""
    wrong: dict[str, list[str]] = {}
    for alias, user_id in sorted(ids.items()):
        kind = id_kind(user_id)
        shaped = user_id_type in ID_SHAPES
        if (kind is not None and kind != user_id_type) or (shaped and kind is None):
            wrong.setdefault(kind or "an unknown type", []).append(alias)
    out: list[Finding] = []
    for kind, aliases in sorted(wrong.items()):
        remedy = (
            f"set target.user_id_type: {kind} in syncer.yaml if the catalog's IDs are right, else write the "
            f"people's {user_id_type} in catalog.yaml"
            if kind in ID_SHAPES
            else f"write the people's {user_id_type} in catalog.yaml (or set target.user_id_type to their type)"
        )
        out.append(
            Finding(
                f"{len(aliases)} people in catalog.yaml have IDs that look like {kind}, "
                f"but target.user_id_type is {user_id_type}",
                remedy,
                people=tuple(aliases),
            )
        )
    return tuple(out)


def semester_findings(catalog: Catalog, semesters: Sequence[Semester]) -> tuple[Finding, ...]:
    """Open semesters of the catalog that Feishu does not list (an import would answer 1580105)."""
    known = {s.id for s in semesters}
    return tuple(
        Finding(
            f"semester {alias} ({s.id}) is not among the semesters Feishu lists",
            "fix its ID in catalog.yaml (`syncer catalog pull` lists Feishu's semesters) or mark it closed: true",
        )
        for alias, s in sorted(catalog.semesters.items())
        if not s.closed and s.id not in known
    )


def library_findings(
    catalog: Catalog, library: Sequence[LibraryMetric], field_types: Mapping[str, str]
) -> tuple[Finding, ...]:
    """The catalog's metrics and fields against the library: metrics it lacks or has switched off, fields
    that are not the metric's (1580305), types other than the field's (1580301) and fields an admin owns that
    the catalog does not mark (1580311 over the values an admin entered). `field_types`: field ID -> type, as
    metric_fields/query answered."""
    by_id = {m.metric_id: m for m in library}
    out: list[Finding] = []
    for alias, metric in sorted(catalog.metrics.items()):
        lib = by_id.get(metric.id)
        if lib is None:
            out.append(
                Finding(
                    f"metric {alias} ({metric.id}) is not in Feishu's metric library (or is an old-version metric)",
                    "fix its ID in catalog.yaml; `syncer catalog pull` lists the library",
                )
            )
            continue
        if lib.is_active is False:
            out.append(
                Finding(
                    f"metric {alias} ({metric.id}) is switched off in Feishu's metric library",
                    "switch it on in Feishu, or leave it out of the data files",
                    severity="warning",
                )
            )
        lib_fields = {f.field_id: f for f in lib.fields}
        for falias, fdef in sorted(metric.fields.items()):
            where = f"field {alias}.{falias} ({fdef.id})"
            lib_field = lib_fields.get(fdef.id)
            if lib_field is None:
                out.append(
                    Finding(
                        f"{where} is not a field of that metric in Feishu (an import answers 1580305)",
                        "fix the field's ID in catalog.yaml; `syncer catalog pull` lists the metric's fields",
                    )
                )
                continue
            live_type = field_types.get(fdef.id)
            if live_type is not None and live_type != fdef.type:
                out.append(
                    Finding(
                        f"{where} is of type {live_type} in Feishu, not {fdef.type}",
                        f"set its type: {live_type} in catalog.yaml",
                    )
                )
            if lib_field.input_setting == "admin" and fdef.input_setting != "admin":
                out.append(
                    Finding(
                        f"{where} is filled in by an admin in Feishu (input_setting: admin): an import answers "
                        "1580311 over values an admin entered",
                        "mark it input_setting: admin in catalog.yaml (validate then warns where it is written), "
                        "or leave it out of the data files",
                        severity="warning",
                    )
                )
    return tuple(out)


def requests_for(items: int) -> int:
    return math.ceil(items / PAGE)


def request_budget(
    *,
    user_id_type: str,
    library_metrics: int,
    catalog_fields: int,
    reviewees: Mapping[str, int],
    emails: bool,
    templates: int,
    project_reads: int,
) -> int:
    """The most requests a doctor run sends: the token; v1 semesters (twice under user_id, the second to
    tell the employee-ID scope); a page of metric_libs/query per 50 metrics of the library (at least one);
    a page of metric_templates/query per 50 templates (at least one); a metric_fields/query per 50 field
    IDs of the catalog; a reviewees/query per 50 reviewees each open semester's data files name; an
    activity/query per open semester some of whose visible reviewees are in projects (`project_reads`);
    one metric_details/query when any reviewee is visible; one users/batch_get_id when someone is given by
    email."""
    return (
        1
        + (2 if user_id_type == "user_id" else 1)
        + max(1, requests_for(library_metrics))
        + max(1, requests_for(templates))
        + requests_for(catalog_fields)
        + sum(requests_for(n) for n in reviewees.values())
        + project_reads
        + (1 if any(reviewees.values()) else 0)
        + (1 if emails else 0)
    )


def projects_not_started(
    activities: Sequence[Activity],
    *,
    semester_id: str,
    label: str,
    projects_of: Mapping[str, tuple[str, ...]],
    named: int,
    names: Mapping[str, str],
) -> tuple[Finding, ...]:
    """The semester's projects (as activity/query answers them) that are not started, one finding each:
    an error naming the reviewees it blocks (those of `projects_of`, reviewee ID -> their projects as
    reviewees/query answers them, whose every project is not started: an import answers 1580306 for them),
    else a warning. `named`: how many reviewees the data files name in the semester; `names`: ID -> alias."""
    problems = activity_problems(activities, semester_id=semester_id)
    out: list[Finding] = []
    for p in problems:
        blocked = sorted(
            r for r, ids in projects_of.items() if p.activity_id in ids and blocking_project(ids, problems) is not None
        )
        what = f"the project {p.name!r} ({p.activity_id!r}) of {label} is not started (Feishu: {p.progress})"
        remedy = "a Performance admin starts it in Feishu, then run `syncer doctor` again"
        if blocked:
            out.append(
                Finding(
                    f"{what}: {len(blocked)} of the {named} reviewees the data files name in {label} are in no "
                    "project that has started (an import answers 1580306 for them)",
                    remedy,
                    people=tuple(names.get(r, r) for r in blocked),
                )
            )
        else:
            out.append(Finding(f"{what}: it holds none of the reviewees the data files name", remedy, "warning"))
    return tuple(out)


def data_scope_checks(
    catalog: Catalog,
    named: Mapping[str, tuple[str, ...]] | None,
    visible: Mapping[str, Mapping[str, tuple[str, ...]]],
    projects: Mapping[str, Sequence[Activity] | None],
    *,
    unusable: str | None,
    refused: bool,
) -> list[Check]:
    """Per open semester (`named`: semester ID -> the reviewees its data files name; None when the root does
    not validate): how many of them the app can see (`visible`: semester -> reviewee -> their projects), and
    its projects (`projects`: as activity/query answered, None when refused) not started. `unusable`: why
    no reviewee could be asked about; `refused`: reviewees/query was."""
    aliases = {s.id: a for a, s in catalog.semesters.items()}
    names = {p.id: a for a, p in sorted(catalog.people.items(), reverse=True) if p.id}
    if named is None:
        return [Check("data scope", "not checked: the root does not validate (above)", checked=False)]
    if unusable is not None:
        return [Check("data scope", f"not checked: {unusable} (above)", checked=False)]
    if refused:
        return [Check("data scope", "not checked: reviewees/query was refused (above)", checked=False)]
    if not named:
        return [Check("data scope", "not checked: the data files name no reviewee in an open semester", checked=False)]
    out: list[Check] = []
    for semester_id, ids in named.items():
        label = f"{aliases.get(semester_id, semester_id)} ({semester_id})"
        if semester_id not in visible:
            out.append(
                Check(f"data scope {label}", "not checked: Feishu does not list the semester (above)", checked=False)
            )
            continue
        hidden = [i for i in ids if i not in visible[semester_id]]
        findings: tuple[Finding, ...] = ()
        if hidden:
            findings = (
                Finding(
                    f"{len(hidden)} of the {len(ids)} reviewees the data files name in {label} are not among the "
                    "semester's reviewees the app can see (an import answers 1580112 or 1580306 for them)",
                    "widen the app's data scope in the Feishu developer console (or add them to the semester)",
                    people=tuple(names.get(i, i) for i in hidden),
                ),
            )
        out.append(Check(f"data scope {label}", f"{len(ids) - len(hidden)} of {len(ids)} reviewees visible", findings))
        out.append(_projects_check(label, semester_id, len(ids), visible[semester_id], projects, names))
    return out


def _projects_check(
    label: str,
    semester_id: str,
    named: int,
    seen: Mapping[str, tuple[str, ...]],
    projects: Mapping[str, Sequence[Activity] | None],
    names: Mapping[str, str],
) -> Check:
    """The semester's projects not started, and which of the visible reviewees they block."""
    name = f"projects {label}"
    if semester_id not in projects:
        return Check(
            name, "not checked: reviewees/query puts none of the visible reviewees in a project", checked=False
        )
    activities = projects[semester_id]
    if activities is None:
        return Check(name, "not checked: activity/query was refused (above)", checked=False)
    found = projects_not_started(
        activities, semester_id=semester_id, label=label, projects_of=seen, named=named, names=names
    )
    return Check(name, f"{len(found)} of the semester's {plural(len(activities), 'project')} not started", found)
