"""The pure part of `syncer doctor`: what the IDs look like against `user_id_type`, the catalog against
Feishu's semesters and metric library, and how many requests a run may send. Plain data in, findings out."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from syncer.doctor.model import Finding
from syncer.feishu.records import LibraryMetric, Semester
from syncer.model import Catalog

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
) -> int:
    """The most requests a doctor run sends: the token; v1 semesters (twice under user_id, the second to
    tell the employee-ID scope); a page of metric_libs/query per 50 metrics of the library (at least one);
    a metric_fields/query per 50 field IDs of the catalog; a reviewees/query per 50 reviewees each open
    semester's data files name; one metric_details/query when any reviewee is visible; one
    users/batch_get_id when someone is given by email."""
    return (
        1
        + (2 if user_id_type == "user_id" else 1)
        + max(1, requests_for(library_metrics))
        + requests_for(catalog_fields)
        + sum(requests_for(n) for n in reviewees.values())
        + (1 if any(reviewees.values()) else 0)
        + (1 if emails else 0)
    )


def projects_not_started(semester_id: str, reviewees: Sequence[str]) -> tuple[Finding, ...]:
    """EXTENSION POINT, not done: reviewees whose project (activity/query) has not started, so that an import
    would answer 1580306. syncer does not read project status yet; this finds nothing until it does, and the
    report says the check did not run."""
    del semester_id, reviewees
    return ()
