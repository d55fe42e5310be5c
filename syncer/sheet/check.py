"""validate's rules, applied to a sheet import: the rows read (as the tree a data file would give, each node
at its cell, so that a problem names the cell), each edited file read back, and the root with every edit
(rules across files too). The sheet's own rule here: one row per key."""

from __future__ import annotations

from collections import ChainMap, defaultdict
from collections.abc import Mapping
from typing import cast

from syncer.errors import SyncerError
from syncer.load.data import DataChecker, FileResult
from syncer.load.files import display_path
from syncer.load.settings import Settings
from syncer.load.yamlnodes import MapNode, Scalar
from syncer.load.yamlparse import parse
from syncer.model import Catalog, DesiredState, DesiredValue, RowKey, Source, ValueKey
from syncer.rules.judge import Item, rule_findings
from syncer.rules.load import RuleSet
from syncer.sheet.index import RootIndex
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import METRIC, REVIEWEE, SheetProblem
from syncer.sheet.read import SheetRow


def check_rows(
    rows: list[SheetRow], *, settings: Settings, catalog: Catalog, index: RootIndex, log: ProblemLog
) -> dict[ValueKey, DesiredValue]:
    """validate's checks of every row, at its cells; the canonical values. A row whose key an earlier row
    has is logged and loses its key; a warning is kept only where the sheet changes the cell."""
    seen: dict[RowKey, SheetRow] = {}
    groups: dict[str | None, list[SheetRow]] = defaultdict(list)
    for row in rows:
        k = row.key
        if k is not None:
            other = seen.get(k)
            if other is not None:
                cell = row.cells[METRIC]
                where = (
                    f"row {other.number}" if other.sheet == row.sheet else f"sheet {other.sheet!r} row {other.number}"
                )
                log.add(
                    row.sheet,
                    cell.row,
                    cell.col,
                    "duplicate-row",
                    f"{row.reviewee!r} {row.metric.alias if row.metric else ''!r} in this semester is also in "
                    f"{where}; keep it in one row",
                )
                row.ok = False
                continue
            seen[k] = row
        if row.reviewee is not None and row.metric_text is not None and row.semester is not None:
            groups[row.sheet].append(row)
    values: dict[ValueKey, DesiredValue] = {}
    new_rows = {(r.sheet, r.number) for r in seen.values() if r.key not in index.rows}
    for sheet, group in groups.items():
        checker = DataChecker(settings=settings, catalog=catalog)
        by_sem: dict[str, list[SheetRow]] = defaultdict(list)
        for r in group:
            by_sem[r.semester or ""].append(r)
        for sem, members in by_sem.items():
            checker.check_file(as_tree(sem, members), "")
        for p in checker.problems:
            if p.code in ("empty-mapping", "admin-field"):  # an admin field's edit is refused (syncer.sheet.protect)
                continue
            if p.severity == "warning" and not _changing(p.line, sheet, new_rows, group, p.col, index):
                continue
            log.problems.append(
                SheetProblem(log.book, sheet, p.line, p.col, p.severity, p.code, p.message, p.value, p.detail)
            )
        values.update(checker.values)
    return values


def _changing(
    number: int,
    sheet: str | None,
    new_rows: set[tuple[str | None, int]],
    group: list[SheetRow],
    col: int,
    index: RootIndex,
) -> bool:
    """Whether the sheet changes the cell at (number, col): a new row's cells all do."""
    if (sheet, number) in new_rows:
        return True
    return any(r.number == number and r.key is not None and _cell_changes(r, col, index) for r in group)


def _cell_changes(row: SheetRow, col: int, index: RootIndex) -> bool:
    info = index.rows.get(row.key) if row.key else None
    for alias, (read, cell) in row.reads.items():
        if cell.col == col and info is not None:
            node = info.value(alias)
            return node is None or node.text != read.text
    return False


def as_tree(semester: str, rows: list[SheetRow]) -> MapNode:
    """The rows as the tree a data file would give, each node at its cell."""
    root = MapNode(1, 1)
    root.items.append((Scalar("semester", 1, 1, False), Scalar(semester, 1, 1, True)))
    reviewees = MapNode(1, 1)
    root.items.append((Scalar("reviewees", 1, 1, False), reviewees))
    for r in rows:
        rcell = r.cells[REVIEWEE]
        mcell = r.cells[METRIC]
        mtext = r.metric_text or ""
        metric = MapNode(mcell.row, mcell.col)
        for alias, (read, cell) in r.reads.items():
            metric.items.append((Scalar(alias, cell.row, cell.col, False), Scalar(read.text, cell.row, cell.col, True)))
        rnode = MapNode(rcell.row, rcell.col)
        rnode.items.append((Scalar(mtext, mcell.row, mcell.col, False), metric))
        reviewees.items.append((Scalar(r.reviewee, rcell.row, rcell.col, False), rnode))
    return root


def verify_file(result: FileResult, display: str, expected: dict[RowKey, dict[str, str]]) -> None:
    """An edited file, read back with validate's own checks (`result`: DataChecker.check_one's), must hold
    exactly the values expected (by row, field ID -> canonical value); anything else is a bug of the editor,
    and stops the import."""
    errors = [p for p in result.problems if p.severity == "error"]
    got: dict[RowKey, dict[str, str]] = {}
    for k, dv in zip(result.keys, result.values, strict=True):
        got.setdefault(k.row, {})[k.field] = dv.value
    if errors or got != expected:
        first = errors[0].text(redact=True) if errors else "the values read back differ"
        raise SyncerError(
            f"internal error: {display} would not read back as the sheet says ({first}); nothing was "
            "written. This is a bug in syncer: please report it"
        )


def check_root(
    texts: dict[str, str],
    *,
    expected: Mapping[str, dict[RowKey, dict[str, str]]],
    settings: Settings,
    catalog: Catalog,
    index: RootIndex,
    root_display: str,
) -> list[SheetProblem]:
    """The errors of the root with every edit (`texts`: rel -> the new text), checked as validate checks
    it (rules across files too), each at its file and line. Each edited file is parsed once, and first
    checked on its own against `expected` (rel -> its values: verify_file); a file the edits leave is checked
    from the tree validation parsed (index), not parsed again."""
    checker = DataChecker(settings=settings, catalog=catalog)
    for rel in sorted(set(index.files) | set(texts)):
        info = index.files.get(rel)
        display = info.display if info is not None else display_path(root_display, rel)
        if rel not in texts:
            assert info is not None
            checker.check_file(info.tree, display)
            continue
        result = checker.check_one(parse(texts[rel], display), display)
        if rel in expected:
            verify_file(result, display, expected[rel])
        checker.merge(result)
    checker.finish()
    return [
        SheetProblem(p.file, None, p.line, p.col, p.severity, p.code, p.message, p.value, p.detail)
        for p in checker.problems
        if p.severity == "error"
    ]


def judge_cells(
    rows: list[SheetRow],
    values: Mapping[ValueKey, DesiredValue],
    *,
    rules: RuleSet,
    desired: DesiredState,
    index: RootIndex,
    root_display: str,
    log: ProblemLog,
) -> None:
    """The company rules (syncer.rules) on the cells the sheet changes, at the cell: `old` is the value the
    data files hold (None for a new one); a row's other fields are as they will be after the import; a rule's
    `files` scope is matched against the data file that holds the row (a row the sheet adds has none yet)."""
    if not rules:
        return
    sheet_of = {r.key: r.sheet for r in rows if r.key is not None}
    merged = ChainMap(cast(dict[ValueKey, DesiredValue], values), desired.values)
    by_sheet: dict[str | None, list[Item]] = defaultdict(list)
    for key, dv in values.items():
        held = desired.values.get(key)
        if held is not None and held.value == dv.value:
            continue  # the sheet does not change this cell
        at = index.rows.get(key.row)
        file = display_path(root_display, at.file.rel) if at is not None else ""
        source = Source(file, dv.line, dv.col)  # the cell's row and column
        by_sheet[sheet_of.get(key.row)].append((key, None if held is None else held.value, dv.value, source))
    for sheet, items in by_sheet.items():
        for f in rule_findings(rules, desired.catalog, merged, items, root=root_display):
            p = f.problem
            log.problems.append(
                SheetProblem(log.book, sheet, p.line, p.col, p.severity, p.code, p.message, detail=p.detail)
            )
