"""Projects in the emulator: activity/query answers each semester's projects with their progress, and a
reviewee whose every project is not started is refused by the import with 1580306."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from syncer.emulator import ManualClock, TenantError, parse_tenant
from syncer.emulator.loader import default_tenant_path

from .helpers import ALICE, BOB, H2, REVENUE, WEIGHT, Api, code_of, field, item, make_api
from .test_rules import assert_rejected

ACTIVITY = "/open-apis/performance/v2/activity/query"


def with_projects(progress: str, *, second: str = "enabled") -> dict[str, Any]:
    """The default tenant with two projects in 2026-H2: alice in the first (of `progress`), bob in both."""
    data: dict[str, Any] = copy.deepcopy(yaml.safe_load(default_tenant_path().read_text(encoding="utf-8")))
    h2 = next(s for s in data["semesters"] if s["id"] == H2)
    h2["activities"] = [
        {"id": "7500000000000000001", "name": {"zh_cn": "下半年考核", "en_us": "H2 review"}, "progress": progress},
        {"id": "7500000000000000002", "name": {"zh_cn": "新人", "en_us": "Joiners"}, "progress": second},
    ]
    for r in h2["reviewees"]:
        if r["reviewee_user_id"] == ALICE:
            r["activity_ids"] = ["7500000000000000001"]
        elif r["reviewee_user_id"] == BOB:
            r["activity_ids"] = ["7500000000000000001", "7500000000000000002"]
    return data


@pytest.fixture
def initiating(clock: ManualClock) -> Api:
    return make_api(parse_tenant(with_projects("initiating")), clock)


def test_activity_query_answers_the_projects_of_the_semesters_asked_for(initiating: Api) -> None:
    resp = initiating.call("POST", ACTIVITY, json={"semester_ids": [H2]})
    assert code_of(resp) == 0
    assert [
        (a["id"], a["semester_id"], a["progress"], a["name"]["en_us"]) for a in resp.json()["data"]["activities"]
    ] == [
        ("7500000000000000001", H2, "initiating", "H2 review"),
        ("7500000000000000002", H2, "enabled", "Joiners"),
    ]
    other = initiating.call("POST", ACTIVITY, json={"semester_ids": ["7250000000000000001"]})
    assert other.json()["data"]["activities"] == []
    assert code_of(initiating.call("POST", ACTIVITY, json={"semester_ids": "x"})) == 1580102


@pytest.mark.parametrize("progress", ["initiating", "configurable", "unable"])
def test_a_reviewee_whose_every_project_is_not_started_is_refused_with_1580306(
    clock: ManualClock, progress: str
) -> None:
    api = make_api(parse_tenant(with_projects(progress)), clock)
    assert_rejected(api.import_(item(ALICE, REVENUE, field(WEIGHT, "10%"))), 1580306)
    # bob's second project runs: he can be imported
    assert code_of(api.import_(item(BOB, REVENUE, field(WEIGHT, "10%")))) == 0


@pytest.mark.parametrize("progress", ["enabled", "finished"])
def test_a_running_or_finished_project_takes_imports(clock: ManualClock, progress: str) -> None:
    api = make_api(parse_tenant(with_projects(progress)), clock)
    assert code_of(api.import_(item(ALICE, REVENUE, field(WEIGHT, "10%")))) == 0


def test_a_reviewee_in_an_unknown_project_is_a_tenant_error() -> None:
    data = with_projects("enabled")
    h2 = next(s for s in data["semesters"] if s["id"] == H2)
    h2["reviewees"][0]["activity_ids"] = ["1"]
    with pytest.raises(TenantError, match="not in `activities`"):
        parse_tenant(data)
