"""read_book: a sheet's header by name, its rows with merged key cells filled down, and each row's key
resolved as validation resolves aliases; what cannot be read is logged at its cell."""

from __future__ import annotations

from syncer.model import RowKey
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Book, Table
from syncer.sheet.read import SheetRow, read_book
from tests.sheet.helpers import Loaded, book, table

H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REVENUE = "7272580325522276372"


def _read(loaded: Loaded, *tables: Table) -> tuple[list[SheetRow], ProblemLog]:
    log = ProblemLog("book.xlsx")
    rows = read_book(book(*tables), catalog=loaded.result.catalog, resolve=loaded.resolve, log=log)
    return rows, log


def _codes(log: ProblemLog) -> list[tuple[str | None, int, int, str]]:
    return [(p.sheet, p.row, p.col, p.code) for p in log.problems]


def test_columns_are_named_case_aside_and_a_hash_column_is_left_out(loaded: Loaded) -> None:
    t = table("2026-H2", ["Reviewee", "METRIC", "Actual", "# my notes"], ["alice", "revenue", "1100000", "call her"])
    rows, log = _read(loaded, t)
    assert log.problems == []
    [row] = rows
    assert row.key == RowKey(H2, ALICE, REVENUE)
    assert {alias: read.text for alias, (read, _) in row.reads.items()} == {"actual": "1100000"}


def test_an_unknown_column_is_logged_at_its_header_with_the_closest_name(loaded: Loaded) -> None:
    _, log = _read(loaded, table("2026-H2", ["reviewee", "metric", "actaul"], ["alice", "revenue", "1"]))
    [p] = log.problems
    assert (p.row, p.col, p.code) == (1, 3, "sheet-column")
    assert "unknown column 'actaul' (did you mean 'actual'?)" in p.message


def test_a_column_named_twice_is_logged_at_the_second(loaded: Loaded) -> None:
    _, log = _read(loaded, table("2026-H2", ["reviewee", "metric", "actual", "Actual"], ["alice", "revenue", "1", "2"]))
    [p] = log.problems
    assert (p.row, p.col, p.code) == (1, 4, "sheet-column")
    assert "column 'actual' is also column C" in p.message


def test_a_sheet_without_a_metric_column_is_logged_after_its_last_column(loaded: Loaded) -> None:
    _, log = _read(loaded, table("2026-H2", ["reviewee", "actual"], ["alice", "1"]))
    assert ("2026-H2", 1, 3, "sheet-column") in _codes(log)


def test_a_csv_file_takes_the_semester_from_its_column_by_alias_or_id(loaded: Loaded) -> None:
    t = table(None, ["semester", "reviewee", "metric"], ["2026-H2", "alice", "revenue"], [H2, "alice", "nps"])
    rows, log = _read(loaded, t)
    assert log.problems == []
    assert [r.semester for r in rows] == [H2, H2]


def test_a_sheet_not_named_after_a_semester_is_one_problem_however_many_rows(loaded: Loaded) -> None:
    t = table("Sheet1", ["reviewee", "metric"], ["alice", "revenue"], ["alice", "nps"])
    rows, log = _read(loaded, t)
    assert _codes(log) == [("Sheet1", 0, 0, "unknown-semester")]
    assert [r.key for r in rows] == [None, None]


def test_a_reviewee_cell_merged_down_the_column_fills_each_row_it_covers(loaded: Loaded) -> None:
    t = table(
        "2026-H2",
        ["reviewee", "metric"],
        ["alice", "revenue"],
        [None, "nps"],
        merged={"A2": "A2:A3", "A3": "A2:A3"},
    )
    rows, log = _read(loaded, t)
    assert log.problems == []
    assert [(r.reviewee, r.metric_text) for r in rows] == [("alice", "revenue"), ("alice", "nps")]


def test_merged_field_cells_are_logged_at_the_range(loaded: Loaded) -> None:
    t = table(
        "2026-H2",
        ["reviewee", "metric", "actual"],
        ["alice", "revenue", "1"],
        ["bob", "revenue", None],
        merged={"C2": "C2:C3", "C3": "C2:C3"},
    )
    _, log = _read(loaded, t)
    assert _codes(log) == [("2026-H2", 2, 3, "sheet-merged")]


def test_blank_rows_are_no_rows(loaded: Loaded) -> None:
    rows, log = _read(loaded, table("2026-H2", ["reviewee", "metric"], [None, " "], ["alice", "revenue"]))
    assert log.problems == []
    assert [r.number for r in rows] == [3]


def test_an_unknown_metric_leaves_the_row_without_a_key(loaded: Loaded) -> None:
    rows, _ = _read(loaded, table("2026-H2", ["reviewee", "metric"], ["alice", "revenu"]))
    assert rows[0].metric_text == "revenu"
    assert rows[0].key is None


H1 = "7250000000000000001"


def _read_csv(loaded: Loaded, t: Table, semester: str | None) -> tuple[list[SheetRow], ProblemLog]:
    log = ProblemLog("h2.csv")
    csv_book = Book("h2.csv", "csv", (t,))
    return read_book(csv_book, catalog=loaded.result.catalog, resolve=loaded.resolve, log=log, semester=semester), log


def test_a_csv_file_without_a_semester_column_is_refused_once_with_the_advice_of_semester(loaded: Loaded) -> None:
    """One sheet of a workbook saved as csv: no semester column, and csv has no sheet name to take it from."""
    rows, log = _read_csv(loaded, table(None, ["reviewee", "metric"], ["alice", "revenue"], ["alice", "nps"]), None)
    [p] = log.problems
    assert (p.sheet, p.row, p.col, p.code) == (None, 1, 3, "sheet-column")
    assert p.message.startswith("no column 'semester'")
    assert p.message.endswith("; saved from one sheet of the workbook? name its semester with --semester ALIAS")
    assert [r.key for r in rows] == [None, None]


def test_the_semester_given_is_the_semester_of_a_csv_file_without_a_semester_column(loaded: Loaded) -> None:
    rows, log = _read_csv(loaded, table(None, ["reviewee", "metric"], ["alice", "revenue"], ["alice", "nps"]), H1)
    assert log.problems == []
    assert [r.semester for r in rows] == [H1, H1]
    assert rows[0].key == RowKey(H1, ALICE, REVENUE)


def test_a_semester_column_that_agrees_with_the_semester_given_is_read_as_it_is(loaded: Loaded) -> None:
    t = table(None, ["semester", "reviewee", "metric"], ["2026-H2", "alice", "revenue"], [H2, "alice", "nps"])
    rows, log = _read_csv(loaded, t, H2)
    assert log.problems == []
    assert [r.semester for r in rows] == [H2, H2]


def test_a_semester_column_naming_another_semester_than_the_one_given_is_one_problem_at_the_first(
    loaded: Loaded,
) -> None:
    t = table(
        None,
        ["semester", "reviewee", "metric"],
        ["2026-H2", "alice", "revenue"],
        ["2026-H1", "alice", "revenue"],
        [H1, "alice", "nps"],
    )
    rows, log = _read_csv(loaded, t, H2)
    [p] = log.problems
    assert (p.sheet, p.row, p.col, p.code) == (None, 3, 1, "sheet-semester")
    assert p.message == (
        "the semester column names another semester than --semester '2026-H2' here and in 1 more row: the column "
        "names each row's semester; drop --semester, or delete the rows of other semesters"
    )
    assert [r.key is not None for r in rows] == [True, False, False]
