"""What both reports share: a team is a data file, values are masked when redacting, details are capped."""

from __future__ import annotations

from syncer.html.parts import NO_TEAM, Budget, number, shown, team_of
from syncer.plan.model import Names
from syncer.problems import REDACTED


def test_a_team_is_a_data_file_below_the_root() -> None:
    assert team_of("metrics/teams/sales.yaml", "metrics") == "teams/sales"
    assert team_of("teams/support.yml", "metrics") == "teams/support"
    assert team_of("other/x.yaml", "metrics/") == "other/x"
    assert team_of(None, "metrics") == NO_TEAM


def test_numbers_are_read_exactly_and_nothing_else_is_a_number() -> None:
    assert number("1000000.50") is not None and str(number("33.3")) == "33.3"
    assert number("CNY") is None and number(None) is None and number("NaN") is None


def test_a_value_is_masked_when_redacting_and_a_person_shows_their_alias() -> None:
    names = Names(people={"ou_1": "张三"})
    assert shown("40", names, redact=False, unit="%") == "40%"
    assert shown("ou_1", names, redact=False) == "ou_1 (张三)"
    assert shown("ou_1", names, redact=True) == REDACTED
    assert shown(None, names, redact=True) == ""


def test_the_budget_caps_the_detail_rows_of_a_page_and_counts_what_it_cut() -> None:
    budget = Budget(3)
    first = budget.take([{"n": "1"}, {"n": "2"}])
    second = budget.take([{"n": "3"}, {"n": "4"}, {"n": "5"}])
    third = budget.take([{"n": "6"}])
    assert (len(first.rows), first.cut) == (2, 0)
    assert ([r["n"] for r in second.rows], second.cut) == (["3"], 2)
    assert (third.rows, third.cut) == ([], 1)
