"""`apply --plan FILE` (syncer/apply/run.py): a saved plan's shape is checked before anything is compared with
it, and a saved plan that is not the plan this apply would make now is refused with the one reason that
tells the user what to do (the same flag, no flag, the same targeting, or a fresh plan)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import cast

import pytest

from syncer.apply.run import check_saved_plan, read_saved_plan
from syncer.errors import RefusedError
from syncer.plan.model import PLAN_FORMAT, Plan, Targeting

SEM = "7293040702907514899"
CHECKSUM = "sha256:" + "0" * 64
VALID: dict[str, object] = {
    "plan_format": PLAN_FORMAT,
    "checksum": CHECKSUM,
    "state": {"lineage": None, "serial": None},
}


def refusal(text: str) -> str:
    with pytest.raises(RefusedError) as caught:
        read_saved_plan(text, display="p.json")
    message = str(caught.value)
    assert message.startswith("p.json: not a plan file written by `syncer plan --out` ("), message
    return message.removeprefix("p.json: not a plan file written by `syncer plan --out` (").removesuffix(")")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[]", "an array"), ('"x"', "a string"), ("true", "a boolean"), ("null", "null"), ("7", "a number")],
)
def test_a_json_document_that_is_not_an_object_is_named_by_its_kind(text: str, kind: str) -> None:
    assert refusal(text) == f"JSON {kind}, not an object"


def test_json_nested_too_deeply_is_refused_in_words() -> None:
    assert refusal("[" * 100_000 + "]" * 100_000) == "JSON nested too deeply"


@pytest.mark.parametrize(
    ("part", "value", "said"),
    [
        ("state", [], "no state object with a lineage"),
        ("state", {"lineage": 5, "serial": None}, "no state object with a lineage"),
        ("state", {"lineage": None, "serial": "7"}, "the state's serial is not a number"),
        ("state", {"lineage": None, "serial": True}, "the state's serial is not a number"),
        ("targeting", [], "its targeting is not an object with lists of semesters and paths"),
        (
            "targeting",
            {"semesters": SEM, "paths": []},
            "its targeting is not an object with lists of semesters and paths",
        ),
        (
            "targeting",
            {"semesters": [""], "paths": []},
            "its targeting is not an object with lists of semesters and paths",
        ),
        ("targeting", {"semesters": [SEM]}, "its targeting is not an object with lists of semesters and paths"),
    ],
)
def test_a_saved_plan_of_the_wrong_shape_is_refused_saying_which_part(part: str, value: object, said: str) -> None:
    assert refusal(json.dumps({**VALID, part: value})) == said


def test_a_saved_plan_of_the_right_shape_is_read() -> None:
    doc = {**VALID, "state": {"lineage": "ab", "serial": 3}, "targeting": {"semesters": [SEM], "paths": ["a.yaml"]}}
    assert read_saved_plan(json.dumps(doc), display="p.json") == doc


def fresh(
    *, lineage: str | None = "ab", serial: int = 3, refreshed: bool = False, targeting: Targeting | None = None
) -> Plan:
    """The plan this apply makes now, as far as the comparison reads it."""
    return cast(
        "Plan",
        SimpleNamespace(
            state=SimpleNamespace(lineage=lineage, serial=serial),
            checksum=CHECKSUM,
            refreshed=object() if refreshed else None,
            targeting=None if targeting is None else SimpleNamespace(targeting=targeting),
        ),
    )


def stale(saved: dict[str, object], now: Plan) -> str:
    with pytest.raises(RefusedError) as caught:
        check_saved_plan(saved, now)
    message = str(caught.value)
    head, tail = "the saved plan is stale: ", ". Run `syncer plan --out FILE` again and review it"
    assert message.startswith(head) and message.endswith(tail), message
    return message.removeprefix(head).removesuffix(tail)


OTHER = "sha256:" + "1" * 64
SAME_STATE: dict[str, object] = {"state": {"lineage": "ab", "serial": 3}}


def test_a_saved_plan_that_is_the_plan_of_now_is_applied() -> None:
    check_saved_plan({**SAME_STATE, "checksum": CHECKSUM}, fresh())
    targeted = {**SAME_STATE, "checksum": CHECKSUM, "targeting": {"semesters": [SEM], "paths": []}}
    check_saved_plan(targeted, fresh(targeting=Targeting.of([SEM])))


def test_a_saved_plan_of_another_state_says_which() -> None:
    assert stale({"state": {"lineage": None}, "checksum": CHECKSUM}, fresh()) == "it was made before this state existed"
    assert stale({"checksum": CHECKSUM}, fresh()) == "it was made before this state existed"
    assert (
        stale({"state": {"lineage": "cd", "serial": 3}, "checksum": CHECKSUM}, fresh())
        == "it was made against another state (lineage differs)"
    )


@pytest.mark.parametrize(
    ("saved", "now", "reason"),
    [
        (
            {"refreshed": {"reviewees": 1}},
            fresh(),
            "it was made with --refresh/--refresh-all (it repairs drift): apply with the same flag",
        ),
        ({}, fresh(refreshed=True), "this apply reads Feishu (--refresh) but the saved plan did not: drop the flag"),
        (
            {"targeting": {"semesters": [SEM], "paths": []}},
            fresh(),
            "it was made with another targeting (--semester, --path) than this apply's",
        ),
        (
            {},
            fresh(targeting=Targeting.of([SEM])),
            "it was made with another targeting (--semester, --path) than this apply's",
        ),
        ({}, fresh(), "the YAML or the target changed since (the checksum differs)"),
        (
            {"targeting": {"semesters": [], "paths": []}},  # targeting nothing: not targeted
            fresh(),
            "the YAML or the target changed since (the checksum differs)",
        ),
        (
            {"refreshed": {"reviewees": 1}, "targeting": {"semesters": [SEM], "paths": []}},
            fresh(refreshed=True, targeting=Targeting.of([SEM])),
            "the YAML or the target changed since (the checksum differs)",
        ),
    ],
)
def test_a_saved_plan_whose_changes_differ_says_what_to_do(saved: dict[str, object], now: Plan, reason: str) -> None:
    assert stale({**SAME_STATE, "checksum": OTHER, **saved}, now) == reason
