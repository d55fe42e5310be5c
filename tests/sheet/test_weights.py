"""check_weights: a reviewee's weights in a semester sum to at most 100%, the rows the sheet does not hold
included; logged where the sheet raises the sum, naming the other weights."""

from __future__ import annotations

from syncer.sheet.check import check_rows
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Table
from syncer.sheet.read import read_book
from syncer.sheet.weights import check_weights
from tests.sheet.helpers import Loaded, book, table


def _weights(loaded: Loaded, t: Table) -> ProblemLog:
    log = ProblemLog("book.xlsx")
    catalog, settings = loaded.result.catalog, loaded.result.settings
    rows = read_book(book(t), catalog=catalog, resolve=loaded.resolve, log=log)
    values = check_rows(rows, settings=settings, catalog=catalog, index=loaded.index, log=log)
    assert log.problems == []
    check_weights(rows, values, catalog=catalog, desired=loaded.desired, index=loaded.index, log=log)
    return log


def test_a_weight_raised_over_100_with_a_row_the_sheet_does_not_hold_names_that_row(loaded: Loaded) -> None:
    # teams/sales.yaml: alice's revenue 60%, nps 40%
    log = _weights(loaded, table("2026-H2", ["reviewee", "metric", "weight"], ["alice", "revenue", "70%"]))
    [p] = log.problems
    assert (p.sheet, p.row, p.col, p.code, p.value) == ("2026-H2", 2, 3, "weights-over-100", "110%")
    nps_line = loaded.index.files["teams/sales.yaml"].text.splitlines().index("    nps:") + 1
    assert f"the other weights: teams/sales.yaml:{nps_line}" in p.message


def test_the_other_weights_of_the_sheet_are_named_by_cell(loaded: Loaded) -> None:
    t = table("2026-H2", ["reviewee", "metric", "weight"], ["alice", "revenue", "70%"], ["alice", "nps", "50%"])
    [p] = _weights(loaded, t).problems
    assert (p.row, p.col, p.value) == (2, 3, "120%")
    assert "the other weights: C3)" in p.message


def test_weights_moved_within_100_are_no_problem(loaded: Loaded) -> None:
    t = table("2026-H2", ["reviewee", "metric", "weight"], ["alice", "revenue", "70%"], ["alice", "nps", "30%"])
    assert _weights(loaded, t).problems == []


def test_rows_without_a_weight_cell_are_not_summed_again(loaded: Loaded) -> None:
    assert (
        _weights(loaded, table("2026-H2", ["reviewee", "metric", "actual"], ["alice", "revenue", "1"])).problems == []
    )
