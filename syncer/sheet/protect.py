"""What a sheet may not change, and why: the values of a closed semester (syncer never applies them), the
fields admins enter in Feishu (`input_setting: admin`: Feishu refuses to overwrite them) and the key cells
of an exported row (its reviewee and metric say which row of the data files its values belong to; its file
cell is held to the file by syncer.sheet.edits).

An export marks them (a workbook: locked cells of a sheet protected without a password, greyed, with a note
on the header saying why; the keys it wrote kept on a very hidden sheet, syncer.sheet.model.KEYS_SHEET).
An import refuses an edit of any of them at its cell, whatever the sheet's protection became; csv files,
which can carry no mark, the same way, except the reviewee and metric: a csv row whose key was changed reads
as a new row, and the row it was as one left alone (both counted in the import's summary)."""

from __future__ import annotations

import difflib
import gettext
from collections import defaultdict

from syncer.model import MetricDef
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import METRIC, REVIEWEE, Book
from syncer.sheet.read import SheetRow

ENGLISH = gettext.NullTranslations()


def closed_reason(semester: str, t: gettext.NullTranslations = ENGLISH) -> str:
    """Why a closed semester's cells may not change: the import's refusal (English, as every command-line
    message), and the note on the workbook's header in the reader's language."""
    return t.gettext(
        "semester {semester} is closed (closed: true in catalog.yaml): syncer never applies its values, so an "
        "edit here would be written and then never sent; change values of an open semester"
    ).format(semester=repr(semester))


def admin_reason(alias: str, t: gettext.NullTranslations = ENGLISH) -> str:
    """Why a field admins enter may not change (the import's refusal; the header's note in the reader's
    language)."""
    return t.gettext(
        "field {field} is entered by admins in Feishu (input_setting: admin in catalog.yaml), and Feishu refuses "
        "to overwrite it (1580311); ask a Performance admin to change it in Feishu"
    ).format(field=repr(alias))


def admin_note(alias: str, t: gettext.NullTranslations) -> str:
    """The note on the header of a column some of whose cells admins enter."""
    return t.gettext("Protected where greyed: {reason}").format(reason=admin_reason(alias, t))


def key_reason(name: str, exported: str) -> str:
    return (
        f"the {name} of an exported row is protected (it says which row of the data files the values belong to; "
        f"exported as {exported!r}): put it back; to add a reviewee or metric, type a new row below the last one"
    )


def key_note(t: gettext.NullTranslations) -> str:
    """The note on the header of a key column of a workbook."""
    return t.gettext(
        "Protected on exported rows: the file, reviewee and metric say which row of the data files the values "
        "belong to. To add a reviewee or metric, type a new row below the last one."
    )


def admin_fields(metric: MetricDef) -> frozenset[str]:
    """The aliases of the metric's fields that admins enter in Feishu."""
    return frozenset(a for a, f in metric.fields.items() if f.input_setting == "admin")


def check_exported_keys(rows: list[SheetRow], book: Book, log: ProblemLog) -> None:
    """The rows of each sheet lined up with the keys the export wrote there (difflib: rows inserted, deleted,
    sorted or added below stay what they are). Where exported rows gave way to others, each exported key
    that is gone from the sheet and a row in its place whose key no exported row had are one row whose key
    was edited, paired in order: refused at the changed cell, and left without a key (nothing of it is
    written). Rows past the pairs are new rows."""
    by_sheet: dict[str, list[SheetRow]] = defaultdict(list)
    for row in rows:
        if row.sheet is not None and row.sheet in book.exported:
            by_sheet[row.sheet].append(row)
    for sheet, members in by_sheet.items():
        was = book.exported[sheet]
        now = [(r.reviewee or "", r.metric_text or "") for r in members]
        known, present = set(was), set(now)
        matcher = difflib.SequenceMatcher(None, was, now, autojunk=False)
        for _, i1, i2, j1, j2 in matcher.get_opcodes():  # only where rows gave way to others are both lists full
            gone = [p for p in was[i1:i2] if p not in present]
            edited = [j for j in range(j1, j2) if now[j] not in known]
            for before, j in zip(gone, edited, strict=False):
                row = members[j]
                for name, a, b in ((REVIEWEE, now[j][0], before[0]), (METRIC, now[j][1], before[1])):
                    cell = row.cells.get(name)
                    if cell is not None and a and a != b:
                        log.refuse(row.sheet, cell.row, cell.col, key_reason(name, b))
                        row.ok = False
