"""The files a sheet import creates (syncer.sheet.render): they open with the `yaml-language-server: $schema=`
line an editor needs, pointing where the root's other data files point (made relative to the new file), else
at the `.schemas/` that `syncer init` writes."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from tests.paths import SCHEMAS
from tests.sheet.helpers import export, run


def _import_new_row(root: Path, tmp_path: Path, rel: str) -> str:
    book = export(root, tmp_path / "book.csv")
    rows = list(csv.reader(io.StringIO(book.read_text(encoding="utf-8-sig"))))
    rows.append(["2026-H2", rel, "sam.lead", "nps", "10%"] + [""] * (len(rows[0]) - 5))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    book.write_text(out.getvalue(), encoding="utf-8-sig")
    r = run("sheet", "import", str(book), "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output
    return (root / rel).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("rel", "line"),
    [
        ("teams/new.yaml", "# yaml-language-server: $schema=../../schemas/data.schema.json\n"),
        ("teams/east/new.yaml", "# yaml-language-server: $schema=../../../schemas/data.schema.json\n"),
        ("new.yaml", "# yaml-language-server: $schema=../schemas/data.schema.json\n"),
    ],
)
def test_a_new_file_points_where_the_other_data_files_point(root: Path, tmp_path: Path, rel: str, line: str) -> None:
    # the example's data files point at the repository's schemas/, beside the root
    shutil.copytree(SCHEMAS, root.parent / "schemas")
    assert (
        (root / "teams/sales.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=../../schemas/data.schema.json\n")
    )
    assert _import_new_row(root, tmp_path, rel).startswith(line)


def test_a_new_file_points_at_the_schemas_init_writes(root: Path, tmp_path: Path) -> None:
    for path in root.rglob("*.yaml"):  # data files without the line; the schemas where `syncer init` puts them
        text = path.read_text(encoding="utf-8")
        path.write_text("".join(x for x in text.splitlines(True) if "yaml-language-server" not in x), encoding="utf-8")
    (root / ".schemas").mkdir()
    shutil.copy(SCHEMAS / "data.schema.json", root / ".schemas" / "data.schema.json")
    assert _import_new_row(root, tmp_path, "teams/new.yaml").startswith(
        "# yaml-language-server: $schema=../.schemas/data.schema.json\n"
    )


def test_no_line_points_at_a_schema_that_is_not_there(root: Path, tmp_path: Path) -> None:
    # the example's data files point at ../../schemas/, which a copy of the root alone does not have
    assert not (root.parent / "schemas").exists()
    assert _import_new_row(root, tmp_path, "teams/new.yaml").startswith("# Written by `syncer sheet import`")
