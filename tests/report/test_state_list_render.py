"""Renderers of `syncer state list`: one escaped line per value (text), or JSON; values redactable."""

from __future__ import annotations

import json

from syncer.model import Catalog, FieldDef, MetricDef, PersonDef, SemesterDef, ValueKey
from syncer.report.state_list import render_list
from syncer.state.listing import ListNames, ManagedValue
from syncer.state.model import BatchInfo

SEM, REV = "7293040702907514899", "7272580325522276372"
ALICE, GRACE = "ou_3245842393d09e9428ad4655da6e30b3", "ou_cfa146394857f3a805c1507aed93dd93"
BATCH = BatchInfo(7, SEM, "2026-04-01T10:00:00.000Z", "7300000000000000001", "b" * 40, "tok", "syncer bbbbbbb", 1)
NAMES = ListNames.of(
    Catalog(
        semesters={"2026-H2": SemesterDef("2026-H2", SEM)},
        metrics={
            "revenue": MetricDef(
                "revenue", REV, {"note": FieldDef("note", "7", "text"), "owner": FieldDef("owner", "9", "person")}
            )
        },
        people={"alice": PersonDef("alice", ALICE), "grace": PersonDef("grace", GRACE)},
    )
)
VALUES = [
    ManagedValue(ValueKey(SEM, ALICE, REV, "7"), "line one\n::error::x \x1b[31m", 7, BATCH),
    ManagedValue(ValueKey(SEM, ALICE, REV, "9"), GRACE, 7, BATCH),
    ManagedValue(ValueKey(SEM, "ou_" + "9" * 32, "7000000000000000009", "3"), "5", 8, None),
]


def _text(redact: bool) -> str:
    return "".join(render_list(VALUES, NAMES, "text", location="/s", redact=redact))


def test_text_names_what_the_catalog_names_and_escapes_values() -> None:
    lines = _text(False).splitlines()
    assert len(lines) == 4 and lines[-1] == "3 managed values in 2 rows."
    assert lines[0].startswith('2026-H2  alice  revenue.note = "line one\\n::error::x \\u001b[31m"  (batch 7 on ')
    assert "\x1b" not in _text(False)
    assert lines[1].startswith(f'2026-H2  alice  revenue.owner = "{GRACE}" (grace)  ')  # a person value's alias
    assert lines[2] == f'2026-H2  ou_{"9" * 32}  7000000000000000009.3 = "5"  (batch 8)'  # no alias: IDs


def test_redacted_text_and_json_hold_no_value() -> None:
    for out in (_text(True), "".join(render_list(VALUES, NAMES, "json", location="/s", redact=True))):
        assert "line one" not in out and "(grace)" not in out and '"5"' not in out


def test_json_is_one_document() -> None:
    doc = json.loads("".join(render_list(VALUES, NAMES, "json", location="/s", redact=False)))
    assert doc["location"] == "/s" and doc["count"] == 3 and len(doc["values"]) == 3
    assert doc["values"][0]["value"] == "line one\n::error::x \x1b[31m"
    assert doc["values"][2]["names"] == {"semester": "2026-H2", "reviewee": None, "metric": None, "field": None}
    assert doc["values"][2]["applied_at"] is None
    empty = json.loads("".join(render_list([], NAMES, "json", location="/s", redact=False)))
    assert empty["values"] == [] and empty["count"] == 0
