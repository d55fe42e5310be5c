"""catalog.yaml's semester dates (start, end): what rules see as semester.start and semester.end."""

from __future__ import annotations

from pathlib import Path

from syncer.load.validate import validate_root
from tests.example import copy_example

H2 = '  2026-H2: {id: "7293040702907514899", start: 2026-07-01, end: 2026-12-31}'


def with_h2(tmp_path: Path, line: str) -> Path:
    root = copy_example(tmp_path / "m")
    cat = root / "catalog.yaml"
    text = cat.read_text(encoding="utf-8")
    assert H2 in text
    cat.write_text(text.replace(H2, line), encoding="utf-8")
    return root


def test_a_semester_keeps_its_dates_as_written(tmp_path: Path) -> None:
    result = validate_root(copy_example(tmp_path / "m"))
    h2 = result.catalog.semesters["2026-H2"]
    assert (h2.start, h2.end) == ("2026-07-01", "2026-12-31")
    assert result.catalog.semesters["2026-H1"].start is None


def test_a_date_that_does_not_exist_is_an_error_at_it(tmp_path: Path) -> None:
    root = with_h2(tmp_path, '  2026-H2: {id: "7293040702907514899", start: 2026-02-30}')
    result = validate_root(root, root_display="m")
    assert [(p.file, p.line, p.col, p.code) for p in result.errors] == [("m/catalog.yaml", 4, 47, "bad-date")]
    assert "write YYYY-MM-DD" in result.errors[0].message


def test_a_date_of_another_shape_is_refused_by_the_schema(tmp_path: Path) -> None:
    root = with_h2(tmp_path, '  2026-H2: {id: "7293040702907514899", end: 31.12.2026}')
    assert [p.code for p in validate_root(root).errors] == ["schema"]
