"""The weight rule of a sheet import: one reviewee's weights in a semester sum to at most 100%, the rows
the sheet does not hold included (validate cannot see them in the sheet's rows alone)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from syncer.load.data import HUNDRED
from syncer.model import Catalog, DesiredState, DesiredValue, RowKey, ValueKey
from syncer.sheet.index import RootIndex
from syncer.sheet.log import ProblemLog
from syncer.sheet.model import Cell, column_letter
from syncer.sheet.read import SheetRow


def check_weights(
    rows: list[SheetRow],
    values: dict[ValueKey, DesiredValue],
    *,
    catalog: Catalog,
    desired: DesiredState,
    index: RootIndex,
    log: ProblemLog,
) -> None:
    """Logged where the sheet raises a sum over 100%, at its first weight cell of the reviewee, naming the
    other weights (cells of the sheet, lines of the data files); a sum the sheet leaves as it was is no
    problem of the import."""
    weight_field = {m.id: f for m in catalog.metrics.values() for f in m.fields.values() if f.role == "weight"}
    sheet_cells: dict[tuple[str, str], list[tuple[RowKey, Decimal, SheetRow, Cell]]] = defaultdict(list)
    for row in rows:
        k = row.key
        if k is None or row.metric is None:
            continue
        f = weight_field.get(k.metric)
        got = row.reads.get(f.alias) if f is not None else None
        dv = values.get(ValueKey(*k, f.id)) if f is not None and got is not None else None
        if f is None or got is None or dv is None:
            continue
        sheet_cells[(k.semester, k.reviewee)].append((k, Decimal(dv.value), row, got[1]))
    if not sheet_cells:
        return
    yaml_weights: dict[tuple[str, str], dict[RowKey, Decimal]] = defaultdict(dict)
    for vk, dv in desired.values.items():
        f = weight_field.get(vk.metric)
        if f is not None and vk.field == f.id and (vk.semester, vk.reviewee) in sheet_cells:
            yaml_weights[(vk.semester, vk.reviewee)][vk.row] = Decimal(dv.value)
    for who, cells in sheet_cells.items():
        before = yaml_weights.get(who, {})
        after = dict(before)
        for k, d, _, _ in cells:
            after[k] = d
        total = sum(after.values(), Decimal(0))
        if total <= HUNDRED or total == sum(before.values(), Decimal(0)):
            continue
        first = cells[0]
        others = [f"{column_letter(c.col)}{c.row}" for _, _, _, c in cells[1:]]
        held = {k for k, _, _, _ in cells}
        others += [
            f"{index.rows[k].file.rel}:{index.rows[k].metric_key.line}"
            for k in sorted(before)
            if k not in held and k in index.rows
        ]
        log.add(
            first[2].sheet,
            first[3].row,
            first[3].col,
            "weights-over-100",
            f"the weights of reviewee {first[2].reviewee!r} in this semester sum to {{value}}, over 100% "
            f"(the other weights: {', '.join(others) or 'none'}); lower them",
            f"{total.normalize():f}%",
        )
