"""ProblemLog: the problems of one import, in the order found, each at a cell of the book."""

from __future__ import annotations

from syncer.sheet.cells import Unreadable
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Cell, SheetProblem


def test_a_problem_is_located_in_the_logs_book() -> None:
    log = ProblemLog("h2.xlsx")
    log.add("2026-H2", 4, 2, "sheet-blank", "the metric is empty")
    assert log.problems == [SheetProblem("h2.xlsx", "2026-H2", 4, 2, "error", "sheet-blank", "the metric is empty")]


def test_an_unreadable_cell_is_logged_at_the_cell_with_its_reason() -> None:
    log = ProblemLog("h2.csv")
    log.unreadable(None, Cell(3, 5, "#N/A", error=True), Unreadable("sheet-error", "an error value", "#N/A", "d"))
    [p] = log.problems
    assert (p.book, p.sheet, p.row, p.col, p.code, p.message, p.value, p.detail) == (
        "h2.csv",
        None,
        3,
        5,
        "sheet-error",
        "an error value",
        "#N/A",
        "d",
    )


def test_only_an_error_stops_the_import() -> None:
    log = ProblemLog("h2.xlsx")
    log.add("2026-H2", 2, 3, "w", "a warning", severity="warning")
    assert not log.has_errors
    log.add("2026-H2", 2, 4, "e", "an error")
    assert log.has_errors
