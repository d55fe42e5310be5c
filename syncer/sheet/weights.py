"""The weight rules of a sheet import: one reviewee's weights in a semester sum to at most 100%, or by the
rule of their metric template when the catalog has templates (syncer.load.templates), the rows the sheet
does not hold included (validate cannot see them in the sheet's rows alone); and a weight the sheet changes
that looks like a fraction (0.4 meant as 40%) is a warning at its cell."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from syncer.load.data import HUNDRED
from syncer.load.templates import FRACTION_CODE, breach_code, fraction_hint, looks_like_fraction, reviewee_breaches
from syncer.model import Catalog, DesiredState, DesiredValue, RowKey, TemplateDef, ValueKey
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
    templates = list(catalog.templates.values())
    held_metrics: dict[tuple[str, str], set[str]] = defaultdict(set)  # the reviewee's metrics, YAML and sheet
    for k in [*index.rows, *(r.key for r in rows if r.key is not None)] if templates else ():
        if k[:2] in sheet_cells:
            held_metrics[k[:2]].add(k.metric)
    for who, cells in sheet_cells.items():
        before = yaml_weights.get(who, {})
        after = dict(before)
        for k, d, _, _ in cells:
            after[k] = d
        _fractions(cells, before, after, log)
        over = _over(templates, held_metrics[who], after)
        if over is None or over == _over(templates, held_metrics[who], before):
            continue
        code, total, scope = over
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
            code,
            f"the weights of reviewee {first[2].reviewee!r} in this semester{scope} sum to {{value}}, over 100% "
            f"(the other weights: {', '.join(others) or 'none'}); lower them",
            f"{total.normalize():f}%",
        )


def _fractions(
    cells: list[tuple[RowKey, Decimal, SheetRow, Cell]],
    before: dict[RowKey, Decimal],
    after: dict[RowKey, Decimal],
    log: ProblemLog,
) -> None:
    """A warning at each weight the sheet changes that looks like a fraction typed for a percentage, beside
    the reviewee's other weights, the rows the sheet does not hold included (syncer.load.templates)."""
    for k, d, row, cell in cells:
        if before.get(k) == d:
            continue
        if looks_like_fraction(d, [w for other, w in after.items() if other != k]):
            message, value, detail = fraction_hint(d)
            log.add(row.sheet, cell.row, cell.col, FRACTION_CODE, message, value, "warning", detail)


def _over(
    templates: list[TemplateDef], metrics: set[str], weights: dict[RowKey, Decimal]
) -> tuple[str, Decimal, str] | None:
    """The first rule `weights` break (code, sum, the words that place it), or None."""
    by_metric = {k.metric: d for k, d in weights.items()}
    breaches = reviewee_breaches(templates, metrics | set(by_metric), by_metric) if templates else None
    if breaches is None:
        total = sum(by_metric.values(), Decimal(0))
        return ("weights-over-100", total, "") if total > HUNDRED else None
    if not breaches:
        return None
    code, scope = breach_code(breaches[0])
    return code, breaches[0].total, scope
