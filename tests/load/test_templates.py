"""The weight rule of a metric template (syncer.load.templates): a total of at most 100%, or at most 100% in
each dimension, and which templates can be a reviewee's."""

from __future__ import annotations

from decimal import Decimal

from syncer.load.templates import reviewee_breaches, template_rule_check, templates_for
from syncer.model import DimensionDef, TemplateDef, WeightRule


def _template(alias: str, rule: WeightRule, **dims: tuple[str, ...]) -> TemplateDef:
    return TemplateDef(alias, "1", rule, tuple(DimensionDef(d, None, m) for d, m in dims.items()))


def _w(**weights: str) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in weights.items()}


SALES = _template("sales", "per_dimension", results=("a", "b"), service=("c",))
SUPPORT = _template("support", "total", all=("c", "d"))


def test_a_dimension_may_sum_to_exactly_100_and_the_dimensions_together_more() -> None:
    assert template_rule_check(SALES, _w(a="60", b="40", c="100")) == []


def test_one_hundredth_over_in_a_dimension_is_a_breach_of_that_dimension_alone() -> None:
    [breach] = template_rule_check(SALES, _w(a="60", b="40.01", c="100"))
    assert (breach.template, breach.dimension, breach.total, breach.metric_ids) == (
        "sales",
        "results",
        Decimal("100.01"),
        ("a", "b"),
    )


def test_a_total_rule_counts_every_dimension_together() -> None:
    total = _template("t", "total", x=("a",), y=("b",))
    assert template_rule_check(total, _w(a="50", b="50")) == []
    [breach] = template_rule_check(total, _w(a="50", b="50.01"))
    assert breach.dimension is None and breach.total == Decimal("100.01")


def test_weights_of_metrics_outside_the_template_are_not_counted() -> None:
    assert template_rule_check(SUPPORT, _w(c="100", a="50")) == []


def test_the_candidates_are_the_templates_holding_every_metric() -> None:
    assert templates_for([SALES, SUPPORT], ["c"]) == [SALES, SUPPORT]
    assert templates_for([SALES, SUPPORT], ["c", "d"]) == [SUPPORT]
    assert templates_for([SALES, SUPPORT], ["a", "d"]) == []


def test_no_candidate_leaves_the_reviewee_to_the_one_total_check() -> None:
    assert reviewee_breaches([SALES, SUPPORT], ["a", "d"], _w(a="100", d="100")) is None


def test_weights_that_one_candidate_allows_are_fine() -> None:
    # c and d fit both templates below: 60 + 60 breaks the total rule, not the per-dimension one.
    split = _template("split", "per_dimension", x=("c",), y=("d",))
    assert reviewee_breaches([SUPPORT, split], ["c", "d"], _w(c="60", d="60")) == []


def test_weights_every_candidate_refuses_are_reported_by_the_first() -> None:
    [breach] = reviewee_breaches([SALES, SUPPORT], ["c"], _w(c="100.5")) or []
    assert (breach.template, breach.dimension) == ("sales", "service")
