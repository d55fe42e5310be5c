"""Metric templates in catalog.yaml (`templates:`) and the weight rule each one sets, as pure functions.

Feishu's metric template says how the weights of a reviewee's metrics add up (docs/feishu-api.md, "Metric
templates"): either the weights of all the template's metrics sum to at most 100% (`total`), or the weights of
each dimension's metrics do, dimension by dimension (`per_dimension`). A reviewee follows the template Feishu
assigns them, which no document lets syncer know offline: the templates that hold every metric the YAML gives
the reviewee are the candidates (`templates_for`), and the reviewee's weights are wrong only when they break
the rule of every candidate (`reviewee_breaches`). A catalog without templates keeps the one total per
reviewee (syncer.load.data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from syncer.load.yamlnodes import MapNode, Node, Scalar, SeqNode, text_of
from syncer.model import DesiredValue, DimensionDef, MetricDef, RowKey, Source, TemplateDef, ValueKey
from syncer.problems import Problem

HUNDRED = Decimal(100)
ZERO = Decimal(0)
FRACTION_CODE = "weight-looks-like-fraction"


@dataclass(frozen=True, slots=True)
class WeightBreach:
    """A template's rule broken: the metrics (IDs) whose weights sum to `total`, over 100%; `dimension` is
    the dimension's alias under a per-dimension rule, None under a total one."""

    template: str
    dimension: str | None
    total: Decimal
    metric_ids: tuple[str, ...]


def template_rule_check(template: TemplateDef, weights: Mapping[str, Decimal]) -> list[WeightBreach]:
    """The breaches of `template`'s weight rule by one reviewee's weights (metric ID -> weight). Metrics the
    template does not hold are not counted; a sum of exactly 100% is allowed."""
    groups: list[tuple[str | None, tuple[str, ...]]]
    if template.weight_rule == "per_dimension":
        groups = [(d.alias, d.metric_ids) for d in template.dimensions]
    else:
        groups = [(None, tuple(m for d in template.dimensions for m in d.metric_ids))]
    out = []
    for dimension, metric_ids in groups:
        held = tuple(m for m in metric_ids if m in weights)
        total = sum((weights[m] for m in held), Decimal(0))
        if total > HUNDRED:
            out.append(WeightBreach(template.alias, dimension, total, held))
    return out


def templates_for(templates: Iterable[TemplateDef], metric_ids: Iterable[str]) -> list[TemplateDef]:
    """The templates that hold every one of `metric_ids` (a reviewee's metrics in one semester), in order."""
    wanted = frozenset(metric_ids)
    return [t for t in templates if wanted <= t.metric_ids]


def reviewee_breaches(
    templates: Sequence[TemplateDef], metric_ids: Iterable[str], weights: Mapping[str, Decimal]
) -> list[WeightBreach] | None:
    """What is wrong with one reviewee's weights by the templates that could be theirs: None when no
    template holds all their metrics (the caller keeps the one-total check), nothing when one candidate's
    rule holds, else the breaches of the first candidate."""
    candidates = templates_for(templates, metric_ids)
    if not candidates:
        return None
    found = [template_rule_check(t, weights) for t in candidates]
    return [] if any(not f for f in found) else found[0]


def weight_problems(
    values: Mapping[ValueKey, DesiredValue],
    rows: Iterable[RowKey],
    sums: Mapping[tuple[str, str], Decimal],
    weight_fields: frozenset[tuple[str, str]],
    templates: Sequence[TemplateDef],
) -> list[Problem]:
    """The weight rules across data files, per (semester, reviewee): by the rule of their metric template
    when the catalog has templates, else one total of at most 100%. `sums` holds each reviewee's total, so
    that the values are looked up by metric only for the reviewees that need it."""
    over = {key for key, total in sums.items() if templates or total > HUNDRED}
    if not over:
        return []
    named: dict[tuple[str, str], list[tuple[str, Decimal, Source]]] = defaultdict(list)
    for k, v in values.items():
        if k[:2] in over and (k.metric, k.field) in weight_fields:
            named[k[:2]].append((k.metric, Decimal(v.value), v.source))
    held: dict[tuple[str, str], set[str]] = defaultdict(set)
    if templates:
        for row in rows:
            if row[:2] in over:
                held[row[:2]].add(row.metric)
    out: list[Problem] = []
    for (semester, reviewee), weights in sorted(named.items()):
        weights.sort(key=lambda i: (i[2].file, i[2].line))
        by_metric: dict[str, Decimal] = {}
        for metric, value, _ in weights:
            by_metric[metric] = by_metric.get(metric, Decimal(0)) + value
        breaches = reviewee_breaches(templates, held[(semester, reviewee)], by_metric) if templates else None
        if breaches is None:
            total = sum(by_metric.values(), Decimal(0))
            if total > HUNDRED:
                out.append(_over(reviewee, [s for _, _, s in weights], total, "weights-over-100", ""))
            continue
        for b in breaches:
            where = [s for m, _, s in weights if m in b.metric_ids]
            out.append(_over(reviewee, where, b.total, *breach_code(b)))
    return out


ONE = Decimal(1)


def looks_like_fraction(weight: Decimal, others: Iterable[Decimal]) -> bool:
    """Whether a weight reads like a fraction typed for a percentage (0.4 meant as 40%): it is between 0 and
    1 (both excluded), and either the reviewee's other weights are all whole numbers (there is at least one),
    or all the reviewee's weights together sum to at most 1 (0.6 and 0.4). Weights are percentages, so 0.4 is
    0.4%; a warning, never an error (0.5% can be meant)."""
    if not ZERO < weight < ONE:
        return False
    rest = list(others)
    if rest and all(w == w.to_integral_value() for w in rest):
        return True
    return weight + sum(rest, ZERO) <= ONE


def may_hold_fraction(total: Decimal) -> bool:
    """Whether a reviewee whose weights sum to `total` can hold a weight looks_like_fraction flags: one that is
    not whole beside whole ones makes the sum not whole; otherwise the sum is at most 1."""
    return total != total.to_integral_value() or ZERO < total <= ONE


def fraction_hint(weight: Decimal) -> tuple[str, str, str]:
    """The message of a weight that looks like a fraction, with its value and what was likely meant."""
    meant = (weight * HUNDRED).normalize()
    return (
        "weight {value}{detail} (a weight is a percentage: a number below 1 is less than 1%)",
        f"{weight.normalize():f}%",
        f" — did you mean {meant:f}%?",
    )


def fraction_problems(
    values: Mapping[ValueKey, DesiredValue],
    sums: Mapping[tuple[str, str], Decimal],
    weight_fields: frozenset[tuple[str, str]],
) -> list[Problem]:
    """A warning (`weight-looks-like-fraction`) at each weight looks_like_fraction flags. The values are
    looked up only when some reviewee's sum could hold one (may_hold_fraction)."""
    suspects = {key for key, total in sums.items() if may_hold_fraction(total)}
    if not suspects:
        return []
    found: dict[tuple[str, str], list[DesiredValue]] = defaultdict(list)
    for k, v in values.items():
        if k[:2] in suspects and (k.metric, k.field) in weight_fields:
            found[k[:2]].append(v)
    out: list[Problem] = []
    for weights in found.values():
        numbers = [Decimal(v.value) for v in weights]
        for i, v in enumerate(weights):
            if looks_like_fraction(numbers[i], numbers[:i] + numbers[i + 1 :]):
                message, shown, meant = fraction_hint(numbers[i])
                src = v.source
                out.append(Problem(src.file, src.line, src.col, "warning", FRACTION_CODE, message, shown, meant))
    return out


def breach_code(b: WeightBreach) -> tuple[str, str]:
    """The problem code of a breach and the words that place it ("in this semester{scope} sum to ...")."""
    if b.dimension is None:
        return "weights-over-100", f" under template {b.template!r}"
    return "dimension-weights-over-100", (
        f" in dimension {b.dimension!r} of template {b.template!r} (its rule: each dimension's weights sum to at "
        "most 100%)"
    )


def _over(reviewee: str, where: list[Source], total: Decimal, code: str, scope: str) -> Problem:
    first = where[0]
    others = ", ".join(f"{s.file}:{s.line}" for s in where[1:]) or "none"
    return Problem(
        first.file,
        first.line,
        first.col,
        "error",
        code,
        f"the weights of reviewee {reviewee} in this semester{scope} sum to {{value}}, over 100% "
        f"(the other weights: {others}); lower them",
        f"{total.normalize():f}%",
    )


def load_templates(
    node: Node | None, metrics: Mapping[str, MetricDef], display: str
) -> tuple[dict[str, TemplateDef], list[Problem]]:
    """The `templates:` section (already checked against the schema): metric aliases resolved to IDs; an
    unknown metric or field alias, or a metric in two dimensions of one template, reported where it is
    written."""
    problems: list[Problem] = []
    out: dict[str, TemplateDef] = {}

    def err(at: Node, code: str, message: str) -> None:
        problems.append(Problem(display, at.line, at.col, "error", code, message))

    def metric_id(at: Scalar, template: str) -> str | None:
        m = metrics.get(at.text or "")
        if m is None:
            err(
                at,
                "unknown-metric",
                f"template {template!r} names metric {at.text!r}, which is not one of the catalog's metrics",
            )
        return None if m is None else m.id

    if not isinstance(node, MapNode):
        return out, problems
    for key, tnode in node.items:
        assert isinstance(tnode, MapNode) and key.text is not None
        dims: list[DimensionDef] = []
        placed: dict[str, str] = {}  # metric ID -> its dimension's alias
        dnode = tnode.get("dimensions")
        assert isinstance(dnode, MapNode)
        for dkey, dim in dnode.items:
            assert isinstance(dim, MapNode) and dkey.text is not None
            ids: list[str] = []
            listed = dim.get("metrics")
            for item in listed.items if isinstance(listed, SeqNode) else []:
                assert isinstance(item, Scalar)
                mid = metric_id(item, key.text)
                if mid is None:
                    continue
                if mid in placed:
                    err(
                        item,
                        "duplicate-id",
                        f"metric {item.text!r} is also in dimension {placed[mid]!r} of this template",
                    )
                    continue
                placed[mid] = dkey.text
                ids.append(mid)
            dims.append(DimensionDef(dkey.text, text_of(dim.get("id")), tuple(ids)))
        for section in ("input_settings", "scores"):  # shown, not checked; but their names must exist
            snode = tnode.get(section)
            for mkey, inner in snode.items if isinstance(snode, MapNode) else []:
                known = metrics.get(mkey.text or "")
                if known is None:
                    metric_id(mkey, key.text)
                elif section == "input_settings" and isinstance(inner, MapNode):
                    for fkey, _ in inner.items:
                        if (fkey.text or "") not in known.fields:
                            err(fkey, "unknown-field", f"metric {mkey.text!r} has no field {fkey.text!r}")
        rule = text_of(tnode.get("weight_rule"))
        out[key.text] = TemplateDef(
            alias=key.text,
            id=text_of(tnode.get("id")) or "",
            weight_rule="per_dimension" if rule == "per_dimension" else "total",
            dimensions=tuple(dims),
        )
    return out, problems
