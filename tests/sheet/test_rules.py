"""The company rules at a sheet import (syncer.sheet.check.judge_cells): judged on the cells the sheet changes,
located at the cell; a deny refuses the import and nothing is written, a warning is shown and the import goes on."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.sheet.helpers import export, run, snapshot


def edited(root: Path, tmp_path: Path, **cells: str) -> tuple[Path, int]:
    """The example exported to csv with alice's revenue row given `cells` (column -> text); its row number."""
    out = export(root, tmp_path / "s.csv")
    text = out.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    number = next(i for i, r in enumerate(rows) if r[2] == "alice" and r[3] == "revenue")
    for column, value in cells.items():
        rows[number][header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    out.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return out, number + 1


def test_a_lowered_target_is_denied_at_its_cell_and_nothing_is_written(root: Path, tmp_path: Path) -> None:
    sheet, row = edited(root, tmp_path, target="900000")
    before = snapshot(root)
    r = run("sheet", "import", str(sheet), "--root", str(root))
    assert r.exit_code == 1
    assert f"s.csv:{row}:7: error: rule 'target-not-lowered-after-start'" in r.output
    assert snapshot(root) == before


def test_an_actual_over_three_times_its_target_warns_at_its_cell_and_imports(root: Path, tmp_path: Path) -> None:
    sheet, row = edited(root, tmp_path, actual="3000001")
    r = run("sheet", "import", str(sheet), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert f"s.csv:{row}:8: warning: rule 'actual-over-3x-target'" in r.output
    assert "actual: 3000001" in (root / "teams" / "sales.yaml").read_text(encoding="utf-8")


def test_cells_the_sheet_does_not_change_are_not_judged(root: Path, tmp_path: Path) -> None:
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("actual: 1055000", "actual: 3000001"), encoding="utf-8")
    sheet, _ = edited(root, tmp_path)
    r = run("sheet", "import", str(sheet), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "rule '" not in r.output


def test_rules_that_do_not_compile_refuse_the_import_in_one_line(root: Path, tmp_path: Path) -> None:
    sheet, _ = edited(root, tmp_path, actual="1")
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("new > 3.0 * row.target", "new >"), encoding="utf-8")
    before = snapshot(root)
    r = run("sheet", "import", str(sheet), "--root", str(root))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "rules.yaml:14:16: error: rule 'actual-over-3x-target': the condition does not compile" in r.output
    assert r.output.splitlines()[-1].endswith(": the rules are invalid (1 error, 0 warnings): fix them first")
    assert snapshot(root) == before
