"""check_weights: a reviewee's weights in a semester sum to at most 100%, the rows the sheet does not hold
included; logged where the sheet raises the sum, naming the other weights. A weight the sheet changes that
looks like a fraction (0.4 meant as 40%) is a warning at its cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from syncer.sheet.check import check_rows
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Table
from syncer.sheet.read import read_book
from syncer.sheet.weights import check_weights
from tests.sheet.helpers import Loaded, book, cells_of, edit_workbook, export, load, run, table


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


def _per_dimension(root: Path) -> Loaded:
    # The example's template sales (revenue, nps) with one dimension each, by the per-dimension rule.
    catalog = root / "catalog.yaml"
    old = (
        "    weight_rule: total\n    dimensions:\n"
        '      key_metrics: {id: "1", weight: "100%", metrics: [revenue, nps]}\n'
    )
    new = (
        "    weight_rule: per_dimension\n    dimensions:\n"
        "      money: {metrics: [revenue]}\n      voice: {metrics: [nps]}\n"
    )
    assert old in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(old, new))
    return load(root)


def test_a_per_dimension_template_allows_each_dimension_up_to_100(root: Path) -> None:
    # alice: revenue 100% and nps 40% make 140% in all, and neither dimension passes 100%
    t = table("2026-H2", ["reviewee", "metric", "weight"], ["alice", "revenue", "100%"])
    assert _weights(_per_dimension(root), t).problems == []


def test_a_dimension_one_step_over_100_is_logged_with_its_template(root: Path) -> None:
    t = table("2026-H2", ["reviewee", "metric", "weight"], ["alice", "revenue", "100.01%"])
    [p] = _weights(_per_dimension(root), t).problems
    assert (p.code, p.value) == ("dimension-weights-over-100", "100.01%")
    assert "in dimension 'money' of template 'sales'" in p.message


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_weight_typed_as_a_fraction_is_a_warning_at_its_cell(root: Path, tmp_path: Path, suffix: str) -> None:
    # alice's nps weight typed 0.4 beside her revenue weight of 60%: written (a warning), and said at the cell.
    book_path = export(root, tmp_path / f"book{suffix}")
    if suffix == ".xlsx":
        coords: list[str] = []

        def change(wb: Any) -> None:
            cell = cells_of(wb["2026-H2"], "alice", "nps")["weight"]
            cell.value = "0.4"
            coords.append(f"book.xlsx!2026-H2!{cell.coordinate}")

        edit_workbook(book_path, change)
        where = coords[0]
    else:
        rows = list(csv.reader(io.StringIO(book_path.read_text(encoding="utf-8-sig"))))
        at = next(i for i, r in enumerate(rows) if r[:5] == ["2026-H2", "teams/sales.yaml", "alice", "nps", "40%"])
        rows[at][4] = "0.4"
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        book_path.write_text(out.getvalue(), encoding="utf-8-sig")
        where = f"book.csv:{at + 1}:5"
    r = run("sheet", "import", str(book_path), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert f"{where}: warning: weight '0.4%' — did you mean 40%? " in r.output
    assert "[weight-looks-like-fraction]" in r.output and "1 value updated" in r.output
    again = run("sheet", "import", str(export(root, tmp_path / f"again{suffix}")), "--root", str(root))
    assert again.exit_code == 0, again.output
    assert "weight '0.4%'" in again.output  # validate's warning, at the data file's line...
    assert not [line for line in again.output.splitlines() if f"again{suffix}" in line and "warning" in line]
