"""The edits of a sheet import as text: each data file rendered with its edits (syncer.edit: comments and
layout kept; a new file in fmt's layout), read back to check it holds what the sheet says, and the root
with every edit checked as validate checks it (both in one pass: syncer.sheet.check.check_root). A file the
editor cannot edit in place is logged."""

from __future__ import annotations

from pathlib import Path

from syncer.edit.datafile import person_fields, render_file, schema_comment
from syncer.edit.values import DataFileEditor, NotEditable
from syncer.load.files import display_path
from syncer.load.settings import Settings
from syncer.model import Catalog
from syncer.sheet.change import FileChange
from syncer.sheet.check import check_root
from syncer.sheet.edits import FileWork
from syncer.sheet.index import Resolver, RootIndex
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import METRIC, Book, Cell
from syncer.sheet.read import SheetRow


def render_changes(
    files: dict[str, FileWork],
    *,
    book: Book,
    root: Path,
    root_display: str,
    index: RootIndex,
    settings: Settings,
    catalog: Catalog,
    resolve: Resolver,
    log: ProblemLog,
) -> list[FileChange]:
    """Every file the edits change, in path order (a file they leave byte for byte is none); the errors of
    the root with them go to `log`."""
    changes: list[FileChange] = []
    for rel in sorted(files):
        w = files[rel]
        try:
            new, old = render_work(w, root=root, catalog=catalog, resolve=resolve, index=index)
        except NotEditable as exc:
            cell = _first_cell(w, book)
            log.add(cell[0], cell[1], cell[2], "sheet-edit", f"{rel}: {exc}")
            continue
        if new == old:
            continue
        display = index.files[rel].display if rel in index.files else display_path(root_display, rel)
        changes.append(
            FileChange(
                path=root / rel,
                rel=rel,
                display=display,
                old=old,
                new=new,
                bom=w.info.bom if w.info is not None else False,
                updated=len(w.updates),
                added=len(w.fields) + sum(len(t) for _, t in w.rows),
                rows_added=len(w.rows),
            )
        )
    if changes:  # each changed file read back as the sheet says (else a bug: raised), and the root checked
        texts = {c.rel: c.new for c in changes}
        expected = {c.rel: files[c.rel].expected for c in changes}
        log.problems += check_root(
            texts, expected=expected, settings=settings, catalog=catalog, index=index, root_display=root_display
        )
    return changes


def render_work(
    w: FileWork, *, root: Path, catalog: Catalog, resolve: Resolver, index: RootIndex
) -> tuple[str, str | None]:
    """The file's text with its edits, and its text before (None: a new file). Raises NotEditable."""
    if w.info is None:
        label = resolve.semester_label(w.semester)
        grouped: dict[str, list[tuple[str, dict[str, str]]]] = {}
        for row, texts in w.rows:
            assert row.reviewee is not None and row.metric is not None
            grouped.setdefault(row.reviewee, []).append((row.metric.alias, texts))
        header = []
        neighbours = ((index.files[rel].path, index.files[rel].text) for rel in sorted(index.files))
        comment = schema_comment(root, (root / w.rel).parent, neighbours)
        if comment is not None:  # as the root's other data files have it, or as `syncer init` writes it
            header.append(comment)
        header.append(
            "Written by `syncer sheet import`: edit the values here or in a sheet, then review `syncer plan`."
        )
        people = person_fields(catalog)
        text = render_file(semester_label=label, reviewees=list(grouped.items()), header=header, person_fields=people)
        return text, None
    info = w.info
    editor = DataFileEditor(info.text, person_fields=person_fields(catalog))
    for row_info, alias, text, _ in w.updates:
        node = row_info.value(alias)
        fkey = row_info.metric_node.key(alias)
        assert node is not None and fkey is not None
        parents = (row_info.reviewee_node, row_info.metric_node)
        editor.set_value(node, fkey, text, parents=parents, metric=row_info.metric.alias)
    for row_info, alias, text, _ in w.fields:
        order = list(row_info.metric.fields)  # the catalog's order, which fmt keeps
        editor.add_field(
            row_info.metric_key, row_info.metric_node, alias, text, parents=(row_info.reviewee_node,), order=order
        )
    by_reviewee: dict[str, list[tuple[SheetRow, dict[str, str]]]] = {}
    for row, texts in w.rows:
        assert row.reviewee_id is not None
        by_reviewee.setdefault(row.reviewee_id, []).append((row, texts))
    reviewees_key = info.tree.key("reviewees")
    assert reviewees_key is not None
    # Metrics of reviewees the file holds before new reviewees: the last reviewee's new metric and a new
    # reviewee go in at the same place, and the editor keeps edits at one place in the order made.
    held_by = {rid: next((r for r in info.rows if r.key.reviewee == rid), None) for rid in by_reviewee}
    for rid, entries in by_reviewee.items():
        held = held_by[rid]
        if held is not None:
            for row, texts in entries:
                assert row.metric is not None
                editor.add_metric(held.reviewee_key, held.reviewee_node, row.metric.alias, texts)
    for rid, entries in by_reviewee.items():
        if held_by[rid] is None:
            first = entries[0][0]
            assert first.reviewee is not None
            editor.add_reviewee(
                reviewees_key, info.reviewees, first.reviewee, [(r.metric.alias, t) for r, t in entries if r.metric]
            )
    return editor.render(), info.text


def _first_cell(w: FileWork, book: Book) -> tuple[str | None, int, int]:
    """Where a file's edits begin in the sheet: the cell a problem of the whole file is logged at."""
    for _, _, _, cell in w.updates + w.fields:
        return _sheet_of(cell, book), cell.row, cell.col
    for row, _ in w.rows:
        c = row.cells[METRIC]
        return row.sheet, c.row, c.col
    return None, 0, 0


def _sheet_of(cell: Cell, book: Book) -> str | None:
    for table in book.tables:
        for row in table.rows:
            if any(c is cell for c in row):
                return table.name
    return book.tables[0].name if book.tables else None
