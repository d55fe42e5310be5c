"""Targeting (`--semester`, `--path`): what a targeted plan covers, what it leaves untouched, how the safety
thresholds judge it, and that its targeting is part of what it does (the checksum)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import jsonschema
import pytest

from syncer.errors import SyncerError
from syncer.load.settings import Safety
from syncer.model import DesiredState, DesiredValue, RowKey, ValueKey
from syncer.plan.model import LiveView, Plan, Targeting
from syncer.plan.targeting import flags, resolve
from syncer.report.plan_json import plan_document
from tests.plan.test_diff import CLOSED, NPS, PEOPLE, REV, SCHEMA, SEM, SEM2, catalog, k, plan_of, state_of

Written = Mapping[tuple[str, str, str, str], tuple[str, str]]  # key -> (value, file)


def desired_in(values: Written) -> DesiredState:
    """The YAML holding each value in the file given with it (relative to the root `metrics`)."""
    vals = {
        ValueKey(*key): DesiredValue(v, "text", f"metrics/{file}", i + 1, 7)
        for i, (key, (v, file)) in enumerate(values.items())
    }
    cat = catalog()
    return DesiredState(
        values=vals,
        rows={key.row: dv.source for key, dv in vals.items()},
        catalog=cat,
        closed_semesters=cat.closed_semester_ids(),
        files=tuple(sorted({dv.file for dv in vals.values()})),
    )


def changes(p: Plan) -> set[tuple[str, tuple[str, ...]]]:
    return {(c.action, tuple(c.key)) for c in p.changes}


# --- what is in the target ---------------------------------------------------------------------------------


def test_a_semester_target_plans_that_semester_alone_and_counts_the_rest() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("2", "a.yaml"), k(SEM2, 1, REV, "4"): ("9", "b.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM2, 1, REV, "4"): "1", k(SEM2, 2, REV, "4"): "1"})
    p = plan_of(d, s, targeting=Targeting.of([SEM]))
    assert changes(p) == {("update", k(SEM, 0, REV, "4"))}
    assert [x.semester for x in p.semesters] == [SEM]
    assert p.targeting is not None
    t = p.targeting
    assert (t.semesters_left_out, t.files_left_out, t.values_left_out) == (1, 1, 1)
    assert (t.values_managed_left_out, t.forgets_left_out) == (2, 1)  # SEM2's update and forget wait


def test_with_a_semester_alone_forgets_of_that_semester_are_planned() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM, 1, REV, "4"): "1"})  # person 1's row is in no file now
    p = plan_of(d, s, targeting=Targeting.of([SEM]))
    assert changes(p) == {("forget", k(SEM, 1, REV, "4"))}


def test_with_a_path_a_row_in_no_file_any_more_is_not_forgotten() -> None:
    """The state does not record files: a row the YAML no longer writes cannot be placed in a file, so a
    plan by --path leaves it managed, and says so."""
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM, 1, REV, "4"): "1"})
    p = plan_of(d, s, targeting=Targeting.of(paths=["a.yaml"]))
    assert p.empty
    assert p.targeting is not None and p.targeting.forgets_left_out == 1
    assert p.targeting.values_managed_left_out == 1
    assert changes(plan_of(d, s)) == {("forget", k(SEM, 1, REV, "4"))}  # the untargeted plan forgets it


def test_a_field_removed_from_a_row_of_a_targeted_file_is_forgotten() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM, 0, REV, "5"): "7"})
    p = plan_of(d, s, targeting=Targeting.of(paths=["a.yaml"]))
    assert changes(p) == {("forget", k(SEM, 0, REV, "5"))}


def test_a_row_moved_to_an_untargeted_file_is_left_out_even_when_it_changed() -> None:
    """Judged by where the YAML writes it now: moved out of the target (and changed), it is neither
    updated nor forgotten; the state keeps its value."""
    d = desired_in({k(SEM, 0, REV, "4"): ("2", "b.yaml"), k(SEM, 1, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM, 1, REV, "4"): "1"})
    p = plan_of(d, s, targeting=Targeting.of(paths=["a.yaml"]))
    assert p.empty
    assert p.targeting is not None and p.targeting.values_managed_left_out == 1
    assert p.targeting.forgets_left_out == 0


def test_a_row_moved_into_a_targeted_file_is_compared_as_usual() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("2", "teams/a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1"})
    p = plan_of(d, s, targeting=Targeting.of(paths=["teams/*.yaml"]))
    assert changes(p) == {("update", k(SEM, 0, REV, "4"))}


def test_globs_are_relative_to_the_root_and_read_double_stars() -> None:
    d = desired_in(
        {
            k(SEM, 0, REV, "4"): ("1", "teams/sales/a.yaml"),
            k(SEM, 1, REV, "4"): ("1", "teams/b.yaml"),
            k(SEM, 2, REV, "4"): ("1", "c.yaml"),
        }
    )
    p = plan_of(d, None, targeting=Targeting.of(paths=["teams/**/*.yaml"]))
    assert {c.key.reviewee for c in p.changes} == {PEOPLE[0], PEOPLE[1]}
    both = plan_of(d, None, targeting=Targeting.of([SEM], ["c.yaml"]))
    assert {c.key.reviewee for c in both.changes} == {PEOPLE[2]}


def test_semester_and_path_combine_as_and() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml"), k(SEM2, 0, REV, "4"): ("1", "a.yaml")})
    p = plan_of(d, None, targeting=Targeting.of([SEM2], ["a.yaml"]))
    assert changes(p) == {("create", k(SEM2, 0, REV, "4"))}


def test_a_closed_semesters_rows_in_the_state_leave_the_rest_of_the_state_in_the_target() -> None:
    """Closed semesters are in no plan; the state's rows after theirs are still compared as usual."""
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(CLOSED, 0, REV, "4"): "1", k(SEM, 0, REV, "4"): "1"})
    assert plan_of(d, s, targeting=Targeting.of([SEM])).empty


def test_every_value_left_out_that_the_yaml_no_longer_has_is_counted_as_a_forget_left_out() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1", k(SEM2, 1, REV, "4"): "1", k(SEM2, 2, REV, "4"): "1"})
    p = plan_of(d, s, targeting=Targeting.of([SEM]))
    assert p.targeting is not None
    assert (p.targeting.values_managed_left_out, p.targeting.forgets_left_out) == (2, 2)


# --- safety judges the targeted part ------------------------------------------------------------------------


def _twenty_managed(updated: int) -> tuple[DesiredState, dict[tuple[str, str, str, str], str]]:
    """20 managed values: persons 0-9 in a.yaml, 10-19 in b.yaml; the first `updated` of a.yaml changed."""
    written = {
        k(SEM, i, REV, "4"): ("new" if i < updated else "old", "a.yaml" if i < 10 else "b.yaml") for i in range(20)
    }
    return desired_in(written), {key: "old" for key in written}


def test_the_thresholds_judge_the_targeted_part_alone() -> None:
    """4 updates of 20 managed values is 20% (under 30%); of the 10 in the targeted file it is 40%."""
    d, applied = _twenty_managed(4)
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=10)
    assert not plan_of(d, state_of(applied), safety=safety).refused
    targeted = plan_of(d, state_of(applied), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert targeted.refused
    (breach,) = targeted.breaches
    assert (breach.values, breach.values_managed) == (4, 10)


def test_a_targeted_part_under_min_existing_is_not_guarded() -> None:
    d, applied = _twenty_managed(4)
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=11)
    targeted = plan_of(d, state_of(applied), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert not targeted.breaches and not targeted.semesters[0].guarded


def test_a_targeted_part_under_min_existing_is_judged_against_its_whole_semester() -> None:
    """9 updates of the 20 values a semester manages (45%) pass no threshold in pieces under min_existing:
    a targeted plan is never less guarded than the untargeted plan of the same changes."""
    d, applied = _twenty_managed(9)
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=11)  # a.yaml manages 10
    assert plan_of(d, state_of(applied), safety=safety).refused
    targeted = plan_of(d, state_of(applied), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert targeted.refused
    (breach,) = targeted.breaches
    assert (breach.kind, breach.values, breach.values_managed) == ("update", 9, 20)


def test_a_guarded_targeted_part_is_judged_once_as_the_part() -> None:
    """9 updates of the 10 values in a.yaml (min_existing 10: guarded) pass the threshold as the part; the
    part is not judged again against its whole semester (9 of 20 would pass it too)."""
    d, applied = _twenty_managed(9)
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=10)
    targeted = plan_of(d, state_of(applied), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    (breach,) = targeted.breaches
    assert (breach.kind, breach.values, breach.values_managed) == ("update", 9, 10)


def test_every_semester_of_a_targeted_plan_is_judged_against_its_whole_semester() -> None:
    """Two semesters, each with 9 updates of 20 managed values in the targeted file: both are refused; and
    a semester the state manages nothing of yet (its first values) is planned beside them."""
    written = {
        k(sem, i, REV, "4"): ("new" if i < 9 else "old", "a.yaml" if i < 10 else "b.yaml")
        for sem in (SEM, SEM2)
        for i in range(20)
    }
    applied = {key: "old" for key in written}
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=11)
    targeted = plan_of(desired_in(written), state_of(applied), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert sorted((b.semester, b.kind, b.values, b.values_managed) for b in targeted.breaches) == [
        (SEM, "update", 9, 20),
        (SEM2, "update", 9, 20),
    ]
    only_sem2 = {key: v for key, v in applied.items() if key[0] == SEM2}
    new_sem = {k(SEM, 0, REV, "4"): ("1", "a.yaml"), **{key: v for key, v in written.items() if key[0] == SEM2}}
    p = plan_of(desired_in(new_sem), state_of(only_sem2), safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert [s.semester for s in p.semesters] == [SEM, SEM2]
    assert [(b.semester, b.values, b.values_managed) for b in p.breaches] == [(SEM2, 9, 20)]
    assert ("create", k(SEM, 0, REV, "4")) in changes(p)


def test_repairs_count_as_updates_when_a_targeted_part_is_judged_against_its_whole_semester() -> None:
    """4 updates and 5 repairs (Feishu holds another value) in a.yaml: 9 of the 20 values its semester
    manages (45%) pass the update threshold, in the targeted plan as in the untargeted one."""
    d, applied = _twenty_managed(4)
    live = LiveView(
        "plan",
        {RowKey(SEM, PEOPLE[i], REV): {"4": "drift" if 4 <= i < 9 else "old"} for i in range(10)},
        {SEM: frozenset(PEOPLE[:10])},
        True,
    )
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=11)
    assert plan_of(d, state_of(applied), safety=safety, live=live).refused
    targeted = plan_of(d, state_of(applied), safety=safety, live=live, targeting=Targeting.of(paths=["a.yaml"]))
    assert len([c for c in targeted.changes if c.action == "repair"]) == 5
    (breach,) = targeted.breaches
    assert (breach.kind, breach.values_managed) == ("update", 20)


def test_a_targeted_part_under_min_existing_is_judged_on_the_forgets_of_its_whole_semester() -> None:
    """3 fields removed from rows of a.yaml: 3 forgets of the 13 values the part manages (23%, over 20%),
    but of the 23 its semester manages (13%): as the untargeted plan, the targeted one is not refused."""
    written = {k(SEM, i, REV, "4"): ("old", "a.yaml" if i < 10 else "b.yaml") for i in range(20)}
    applied = {key: "old" for key in written} | {k(SEM, i, REV, "5"): "x" for i in range(3)}
    safety = Safety(max_update_ratio=0.3, max_forget_ratio=0.2, min_existing=14)
    d, s = desired_in(written), state_of(applied)
    assert not plan_of(d, s, safety=safety).refused
    targeted = plan_of(d, s, safety=safety, targeting=Targeting.of(paths=["a.yaml"]))
    assert len([c for c in targeted.changes if c.action == "forget"]) == 3
    assert not targeted.refused and not targeted.breaches


# --- the checksum and the document ---------------------------------------------------------------------------


def test_the_targeting_is_part_of_the_checksum() -> None:
    """A targeting that covers everything plans the same changes, yet another plan: it applies only as
    targeted. An untargeted plan's checksum does not depend on the targeting code at all."""
    d = desired_in({k(SEM, 0, REV, "4"): ("2", "a.yaml")})
    s = state_of({k(SEM, 0, REV, "4"): "1"})
    whole, targeted = plan_of(d, s), plan_of(d, s, targeting=Targeting.of(paths=["*.yaml"]))
    assert changes(whole) == changes(targeted)
    assert whole.checksum != targeted.checksum
    assert plan_of(d, s, targeting=Targeting()).checksum == whole.checksum  # empty targeting: none
    other = plan_of(d, s, targeting=Targeting.of(paths=["a.yaml"]))
    assert other.checksum != targeted.checksum


def test_the_document_carries_the_targeting_and_follows_the_schema() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("2", "a.yaml"), k(SEM, 1, NPS, "4"): ("2", "b.yaml")})
    p = plan_of(d, None, targeting=Targeting.of([SEM], ["a.yaml"]))
    doc = plan_document(p, redact=True)
    jsonschema.validate(doc, SCHEMA)
    assert doc["targeting"] == {
        "semesters": [SEM],
        "paths": ["a.yaml"],
        "semesters_left_out": 0,
        "files_left_out": 1,
        "values_left_out": 1,
        "values_managed_left_out": 0,
        "forgets_left_out": 0,
    }
    untargeted = plan_document(plan_of(d, None), redact=True)
    jsonschema.validate(untargeted, SCHEMA)
    assert untargeted["targeting"] is None


# --- the command line's aliases and globs ------------------------------------------------------------------


def test_resolve_takes_aliases_and_ids_and_normalises_globs() -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "teams/a.yaml")})
    t = resolve(d, semesters=["2026-H2", SEM2, "7000000000000000001"], paths=["./teams/*.yaml"], root="metrics")
    assert t == Targeting.of([SEM, SEM2, "7000000000000000001"], ["teams/*.yaml"])
    assert resolve(d, root="metrics") is None
    assert resolve(d, paths=[".\\teams\\*.yaml"], root="metrics") == Targeting.of(paths=["teams/*.yaml"])
    assert flags(t, {SEM: "2026-H2"}) == (
        "--semester 2026-H2 --semester 7000000000000000001 --semester 7293040702907514900 --path 'teams/*.yaml'"
    )


@pytest.mark.parametrize(
    ("semesters", "paths", "message"),
    [
        (["2026-H3"], [], "unknown semester (did you mean '2026-H2'?)"),
        (["2026-H1"], [], "the semester is closed"),
        ([CLOSED], [], "the semester is closed"),
        ([], ["metrics/teams/a.yaml"], "matches no data file under metrics/: globs are relative to the root"),
        ([], ["../teams/a.yaml"], "relative to the root, without '..'"),
        ([], ["/etc/*.yaml"], "give a glob relative to the root, without '..'"),
        ([], [""], "give a glob relative to the root, without '..'"),
    ],
)
def test_resolve_refuses_mistakes(semesters: list[str], paths: list[str], message: str) -> None:
    d = desired_in({k(SEM, 0, REV, "4"): ("1", "teams/a.yaml")})
    with pytest.raises(SyncerError, match=re.escape(message)):
        resolve(d, semesters=semesters, paths=paths, root="metrics")
