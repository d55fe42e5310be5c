"""The weight rule of a metric template (syncer.load.templates): a total of at most 100%, or at most 100% in
each dimension, and which templates can be a reviewee's; and the warning at a weight that looks like a
fraction typed for a percentage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.load.templates import (
    looks_like_fraction,
    may_hold_fraction,
    reviewee_breaches,
    template_rule_check,
    templates_for,
)
from syncer.model import DimensionDef, TemplateDef, WeightRule
from tests.example import copy_example


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


# A weight typed as a fraction (0.4 meant as 40%): looks_like_fraction, and the warning at validate and plan.


@pytest.mark.parametrize(
    ("weight", "others", "flagged"),
    [
        ("0.4", ["60"], True),  # beside whole weights
        ("0.4", ["60", "30.5"], False),  # an other weight is not whole
        ("0.6", ["0.4"], True),  # the sum is exactly 1
        ("0.6", ["0.41"], False),  # the sum is 1.01
        ("0.5", [], True),  # alone, below 1
        ("1", ["60"], False),  # 1 is no fraction
        ("0", ["60"], False),
        ("0.99", ["1"], True),
    ],
)
def test_looks_like_fraction_at_its_boundaries(weight: str, others: list[str], flagged: bool) -> None:
    assert looks_like_fraction(Decimal(weight), [Decimal(o) for o in others]) is flagged
    if flagged:  # the reviewee's sum is one the lookup keeps
        assert may_hold_fraction(Decimal(weight) + sum((Decimal(o) for o in others), Decimal(0)))


def test_a_fraction_weight_is_a_warning_at_validate_and_in_the_plan(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "metrics")
    sales = root / "teams" / "sales.yaml"
    text = sales.read_text(encoding="utf-8")
    assert "    nps:\n      weight: 40%\n" in text
    sales.write_text(
        text.replace("    nps:\n      weight: 40%\n", "    nps:\n      weight: 0.4\n", 1), encoding="utf-8"
    )
    line = sales.read_text(encoding="utf-8").split("\n").index("      weight: 0.4") + 1
    where = f"{root.as_posix()}/teams/sales.yaml:{line}:15: warning: weight '0.4%' — did you mean 40%?"
    runner = CliRunner()
    v = runner.invoke(cli, ["validate", "--root", str(root)])
    assert v.exit_code == 0, v.output  # a warning, not an error
    assert where in v.output and "[weight-looks-like-fraction]" in v.output
    p = runner.invoke(cli, ["plan", "--root", str(root), "--state", str(tmp_path / "state")])
    assert p.exit_code == 0, p.output
    assert where in p.output
    assert '+ nps.weight = "0.4%"' in p.output  # the plan shows the percentage with its %
    redacted = runner.invoke(cli, ["validate", "--root", str(root), "--redact-values"])
    assert "weight (redacted) (a weight is a percentage" in redacted.output and "40%" not in redacted.output
