"""Workbooks and csv files for the sheet tests: exported from the example, then edited the way a
spreadsheet program leaves them."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from syncer.cli import cli
from syncer.load.validate import ValidationResult, validate_root
from syncer.model import DesiredState
from syncer.sheet.index import Resolver, RootIndex, index_root
from syncer.sheet.model import Book, Cell, CellValue, Table, column_letter


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def export(root: Path, out: Path, *extra: str) -> Path:
    r = run("sheet", "export", "--root", str(root), "--out", str(out), *extra)
    assert r.exit_code == 0, r.output
    return out


#: A three-line note whose first line is Chinese (YAML double-quoted: \n is a line break).
NOTE = "销售目标说明：第一季度按新客户计算，续约另计入\\nsecond line\\nthird line"


def with_note(root: Path) -> None:
    """alice's nps in the example gets NOTE."""
    path = root / "teams" / "sales.yaml"
    text = path.read_text(encoding="utf-8")
    assert "      actual: 42\n" in text
    path.write_text(
        text.replace("      actual: 42\n", f'      actual: 42\n      note: "{NOTE}"\n', 1), encoding="utf-8"
    )


#: What the tests that look at a workbook through LibreOffice run: soffice converts it, poppler-utils'
#: pdfinfo, pdftotext and pdftoppm read the PDF it prints.
LIBREOFFICE_TOOLS = ("soffice", "pdfinfo", "pdftotext", "pdftoppm")
#: Set to 1 by .ci/run, which installs the tools: a missing one fails those tests instead of skipping them.
REQUIRE_LIBREOFFICE = "SYNCER_REQUIRE_LIBREOFFICE"


def need_libreoffice(*tools: str) -> None:
    """Skip the calling test (or fixture) where one of `tools` (default LIBREOFFICE_TOOLS) is not on PATH;
    fail it instead under SYNCER_REQUIRE_LIBREOFFICE=1."""
    missing = [t for t in tools or LIBREOFFICE_TOOLS if shutil.which(t) is None]
    if not missing:
        return
    why = f"not installed: {', '.join(missing)} (Debian packages libreoffice-calc-nogui, poppler-utils)"
    if os.environ.get(REQUIRE_LIBREOFFICE) == "1":
        pytest.fail(f"{REQUIRE_LIBREOFFICE}=1 but {why}", pytrace=False)
    pytest.skip(why)


def soffice(src: Path, target: str, outdir: Path, *, infilter: str | None = None, locale: str | None = None) -> Path:
    """`src` converted by LibreOffice, headless, with a profile of its own (beside `outdir`), to `target`
    (a suffix, with the filter's options after a colon; `infilter` reads `src` so, e.g. a csv file's
    separator, quote and encoding), in the `locale` of the environment (e.g. de_DE.UTF-8; default this
    process's); the converted file."""
    profile = outdir.parent / f"{outdir.name}-profile"
    reading = [f"--infilter={infilter}"] if infilter is not None else []
    env = {**os.environ, "LC_ALL": locale, "LANG": locale} if locale is not None else None
    subprocess.run(
        [
            *("soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", *reading),
            *("--convert-to", target, "--outdir", str(outdir), str(src)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=env,
    )
    return outdir / f"{src.stem}.{target.split(':')[0]}"


def cells_of(ws: Any, reviewee: str, metric: str) -> dict[str, Any]:
    """The cells of one row of a sheet, by header."""
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        d = {header[i]: c for i, c in enumerate(row) if i < len(header)}
        if d["reviewee"].value == reviewee and d["metric"].value == metric:
            return d
    raise AssertionError(f"no row {reviewee} {metric}")


def edit_workbook(path: Path, change: Callable[[Any], None], out: Path | None = None) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    target = out or path
    wb.save(target)
    return target


def set_number(c: Any, value: float, fmt: str = "General") -> None:
    c.value = value
    c.data_type = "n"
    c.number_format = fmt


def patch_sheet_xml(path: Path, edit: Callable[[str], str], sheet: int = 1) -> None:
    """Edit a sheet's XML as another program would write it (e.g. a float as `1310000.0`, a formula with
    its saved result)."""
    patch_member(path, f"xl/worksheets/sheet{sheet}.xml", edit)


def patch_member(path: Path, member: str, edit: Callable[[str], str]) -> None:
    """Edit one member of a workbook (a sheet's XML, styles.xml) as another program would write it."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == member:
                new = edit(data.decode("utf-8"))
                assert new != data.decode("utf-8"), "the patch changed nothing"
                data = new.encode("utf-8")
            dst.writestr(item, data)
    path.write_bytes(out.getvalue())


def set_cell_xml(xml: str, coord: str, inner: str) -> str:
    """The cell `coord` of a sheet's XML holding `inner` (e.g. `<v>1310000.0</v>`), its style kept."""

    def one(m: re.Match[str]) -> str:
        style = re.search(r' s="\d+"', m.group(1))
        return f'<c r="{coord}"{style.group() if style else ""}>{inner}</c>'

    return re.sub(rf'<c r="{coord}"([^>]*?)(?:/>|>.*?</c>)', one, xml, count=1)


def table(name: str | None, header: list[str], *rows: list[CellValue], merged: dict[str, str] | None = None) -> Table:
    """A sheet as a reader gives it: the header in row 1, each later row's cells from column A; `merged`
    puts a cell (e.g. "A2") in a merged range (e.g. "A2:A3")."""
    merged = merged or {}

    def cell(r: int, c: int, value: CellValue) -> Cell:
        return Cell(r, c, value, merged=merged.get(f"{column_letter(c)}{r}"))

    return Table(
        name,
        tuple(cell(1, c, v) for c, v in enumerate(header, 1)),
        tuple(tuple(cell(r, c, v) for c, v in enumerate(row, 1)) for r, row in enumerate(rows, 2)),
    )


def book(*tables: Table) -> Book:
    return Book("book.xlsx", "xlsx", tables)


@dataclass(frozen=True)
class Loaded:
    """A root as an import sees it: validated, indexed, its aliases resolvable."""

    result: ValidationResult
    index: RootIndex
    resolve: Resolver

    @property
    def desired(self) -> DesiredState:
        assert self.result.desired is not None
        return self.result.desired


def load(root: Path) -> Loaded:
    result = validate_root(root, root_display="metrics")
    assert result.ok, result.errors
    return Loaded(result, index_root(root, "metrics", result), Resolver(result.catalog, "open_id"))
