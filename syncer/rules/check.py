"""A validation's result with the root's rules: loaded and compiled once for the run, and (for `validate`
and `sheet import`) judged on the desired values, which have no old value there. A rule that does not
compile, and a `deny` finding, make the result invalid as any error does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from syncer.load.validate import ValidationResult
from syncer.problems import sort_problems
from syncer.rules.judge import Item, rule_findings
from syncer.rules.load import RuleSet, load_rules


def with_rules(
    result: ValidationResult, *, root_display: str, judge_values: bool, today: date | None = None
) -> tuple[ValidationResult, RuleSet]:
    """The result with the rules' problems (and, with `judge_values`, their findings) added, and the rules
    (empty when they have problems: a run never goes on with rules it could not compile)."""
    rules, problems = load_rules(result.root, root_display)
    if judge_values and rules and result.desired is not None:
        desired = result.desired
        items: list[Item] = [(k, None, dv.value, dv.source) for k, dv in desired.open_values().items()]
        found = rule_findings(rules, desired.catalog, desired.values, items, root=root_display, today=today)
        problems += [f.problem for f in found]
    if not problems:
        return result, rules
    merged = sort_problems([*result.problems, *problems])
    ok = not any(p.severity == "error" for p in merged)
    return replace(result, problems=merged, desired=result.desired if ok else None), rules
