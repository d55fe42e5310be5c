"""validate's rules through a sheet: the rows as the tree a data file would give (each node at its cell,
so a problem names the cell), one row per key, and an edited file read back before anything is written."""

from __future__ import annotations

import pytest

from syncer.errors import SyncerError
from syncer.load.data import DataChecker, FileResult
from syncer.load.yamlnodes import MapNode, Node, Scalar
from syncer.load.yamlparse import parse
from syncer.model import RowKey, ValueKey
from syncer.sheet import check
from syncer.sheet.check import as_tree, check_root, check_rows, verify_file
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Table
from syncer.sheet.read import SheetRow, read_book
from tests.sheet.helpers import Loaded, book, table

H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REVENUE = "7272580325522276372"


def _rows(loaded: Loaded, t: Table, log: ProblemLog) -> list[SheetRow]:
    return read_book(book(t), catalog=loaded.result.catalog, resolve=loaded.resolve, log=log)


def _check(loaded: Loaded, t: Table) -> tuple[list[SheetRow], dict[ValueKey, str], ProblemLog]:
    log = ProblemLog("book.xlsx")
    rows = _rows(loaded, t, log)
    values = check_rows(
        rows, settings=loaded.result.settings, catalog=loaded.result.catalog, index=loaded.index, log=log
    )
    return rows, {k: v.value for k, v in values.items()}, log


def test_the_tree_puts_each_node_at_its_cell(loaded: Loaded) -> None:
    log = ProblemLog("book.xlsx")
    rows = _rows(loaded, table("2026-H2", ["metric", "reviewee", "actual"], ["revenue", "alice", "7"]), log)
    tree = as_tree(H2, rows)
    reviewees = tree.get("reviewees")
    assert isinstance(reviewees, MapNode)
    [(rkey, rnode)] = reviewees.items
    assert (rkey.text, rkey.line, rkey.col) == ("alice", 2, 2)
    assert isinstance(rnode, MapNode)
    [(mkey, mnode)] = rnode.items
    assert (mkey.text, mkey.line, mkey.col) == ("revenue", 2, 1)
    assert isinstance(mnode, MapNode)
    actual = mnode.get("actual")
    assert isinstance(actual, Scalar)
    assert (actual.text, actual.line, actual.col) == ("7", 2, 3)
    semester = tree.get("semester")
    assert isinstance(semester, Scalar) and semester.text == H2


def test_the_values_are_canonical_by_key(loaded: Loaded) -> None:
    _, values, log = _check(
        loaded, table("2026-H2", ["reviewee", "metric", "weight", "actual"], ["alice", "revenue", "60%", "1055000"])
    )
    assert log.problems == []
    assert values[ValueKey(H2, ALICE, REVENUE, "5")] == "1055000"
    assert ValueKey(H2, ALICE, REVENUE, "2") in values


def test_a_value_validate_refuses_is_logged_at_its_cell(loaded: Loaded) -> None:
    t = table("2026-H2", ["reviewee", "metric", "unit"], ["alice", "revenue", "x" * 21])
    _, values, log = _check(loaded, t)
    [p] = log.problems
    assert (p.book, p.sheet, p.row, p.col, p.severity) == ("book.xlsx", "2026-H2", 2, 3, "error")
    assert ValueKey(H2, ALICE, REVENUE, "3") not in values


def test_a_key_in_two_rows_is_logged_at_the_second_rows_metric_and_loses_its_key(loaded: Loaded) -> None:
    t = table("2026-H2", ["reviewee", "metric", "actual"], ["alice", "revenue", "1"], ["alice", "revenue", "2"])
    rows, values, log = _check(loaded, t)
    [p] = log.problems
    assert (p.row, p.col, p.code) == (3, 2, "duplicate-row")
    assert "is also in row 2" in p.message
    assert [r.key for r in rows] == [RowKey(H2, ALICE, REVENUE), None]
    assert values[ValueKey(H2, ALICE, REVENUE, "5")] == "1"


def _expected(loaded: Loaded, rel: str) -> dict[RowKey, dict[str, str]]:
    info = loaded.index.files[rel]
    keys = {r.key for r in info.rows}
    out: dict[RowKey, dict[str, str]] = {}
    for k, dv in loaded.desired.values.items():
        if k.row in keys:
            out.setdefault(k.row, {})[k.field] = dv.value
    return out


def _read_back(loaded: Loaded, rel: str, text: str) -> FileResult:
    checker = DataChecker(settings=loaded.result.settings, catalog=loaded.result.catalog)
    return checker.check_one(parse(text, rel), rel)


def test_a_file_that_reads_back_as_expected_passes(loaded: Loaded) -> None:
    info = loaded.index.files["teams/sales.yaml"]
    verify_file(_read_back(loaded, info.rel, info.text), info.display, _expected(loaded, "teams/sales.yaml"))


def test_a_file_that_reads_back_otherwise_stops_the_import_as_a_bug(loaded: Loaded) -> None:
    info = loaded.index.files["teams/sales.yaml"]
    expected = _expected(loaded, "teams/sales.yaml")
    expected[RowKey(H2, ALICE, REVENUE)]["5"] = "1"
    with pytest.raises(SyncerError, match="would not read back as the sheet says"):
        verify_file(_read_back(loaded, info.rel, info.text), info.display, expected)


def test_a_file_with_an_error_stops_the_import_as_a_bug(loaded: Loaded) -> None:
    info = loaded.index.files["teams/sales.yaml"]
    text = info.text.replace("actual: 1055000", "actual: lots", 1)
    with pytest.raises(SyncerError, match="would not read back as the sheet says"):
        verify_file(_read_back(loaded, info.rel, text), info.display, _expected(loaded, "teams/sales.yaml"))


def test_the_root_with_the_edits_is_checked_whole_and_its_errors_named_at_their_file(loaded: Loaded) -> None:
    settings, catalog = loaded.result.settings, loaded.result.catalog
    no_edit = check_root(
        {}, expected={}, settings=settings, catalog=catalog, index=loaded.index, root_display="metrics"
    )
    assert no_edit == []
    text = loaded.index.files["teams/sales.yaml"].text.replace("actual: 1055000", "actual: lots", 1)
    texts = {"teams/sales.yaml": text}
    [p] = check_root(texts, expected={}, settings=settings, catalog=catalog, index=loaded.index, root_display="metrics")
    assert (p.book, p.sheet, p.severity) == ("metrics/teams/sales.yaml", None, "error")
    assert p.row == text.splitlines().index("      actual: lots") + 1


def test_each_edited_file_is_read_back_before_the_root_is_checked(loaded: Loaded) -> None:
    settings, catalog = loaded.result.settings, loaded.result.catalog
    info = loaded.index.files["teams/sales.yaml"]
    expected = _expected(loaded, "teams/sales.yaml")
    expected[RowKey(H2, ALICE, REVENUE)]["5"] = "1"
    with pytest.raises(SyncerError, match="would not read back as the sheet says"):
        check_root(
            {info.rel: info.text},
            expected={info.rel: expected},
            settings=settings,
            catalog=catalog,
            index=loaded.index,
            root_display="metrics",
        )


def test_the_files_the_edits_leave_are_checked_without_parsing_them_again(
    loaded: Loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation kept their trees (index): only the edited file is parsed again."""
    settings, catalog = loaded.result.settings, loaded.result.catalog
    parsed: list[str] = []

    def counted(text: str, display: str) -> Node | None:
        parsed.append(display)
        return parse(text, display)

    monkeypatch.setattr(check, "parse", counted)
    sales = loaded.index.files["teams/sales.yaml"]
    assert len(loaded.index.files) > 1
    problems = check_root(
        {sales.rel: sales.text}, expected={}, settings=settings, catalog=catalog, index=loaded.index, root_display="m"
    )
    assert parsed == [sales.display] and problems == []


@pytest.mark.parametrize(("column", "cell"), [("unit", "kg\x00"), ("note", "\x1b[31m"), ("actual", "7\x00")])
def test_a_cell_holding_a_character_no_backend_can_record_is_refused_at_the_cell(
    loaded: Loaded, column: str, cell: str
) -> None:
    # validate's bad-character rule, through the rows: the cell is named, the value is left out.
    t = table("2026-H2", ["reviewee", "metric", column], ["alice", "revenue", cell])
    _, values, log = _check(loaded, t)
    [p] = log.problems
    assert (p.sheet, p.row, p.col, p.severity, p.code) == ("2026-H2", 2, 3, "error", "bad-character")
    assert f"in {column!r} holds a control character" in p.message
    assert not any(k.metric == REVENUE and k.reviewee == ALICE for k in values)
