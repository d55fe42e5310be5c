"""A validation's result with the root's rules: loaded and compiled once for the run, and (for `validate`
and `sheet import`) judged on the desired values, which have no old value there. A rule that does not
compile, and a `deny` finding, make the result invalid as any error does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from syncer.load.files import glob_matches
from syncer.load.validate import ValidationResult
from syncer.model import Catalog
from syncer.problems import Problem, sort_problems
from syncer.rules.load import RuleSet, load_rules

if TYPE_CHECKING:
    from syncer.rules.judge import Item
    from syncer.rules.model import Rule


def with_rules(
    result: ValidationResult, *, root_display: str, judge_values: bool, today: date | None = None
) -> tuple[ValidationResult, RuleSet]:
    """The result with the rules' problems (and, with `judge_values`, their findings) added, and the rules
    (empty when they have problems: a run never goes on with rules it could not compile)."""
    rules, problems = load_rules(result.root, root_display, in_settings=result.settings.has_rules)
    if rules and result.desired is not None:  # a catalog with problems of its own is not one to judge scopes by
        problems += [p for rule in rules.rules for p in unmatched_scope(rule, result.desired.catalog)]
        if problems:
            rules = RuleSet()
    if judge_values and rules and result.desired is not None:
        from syncer.rules.judge import rule_findings  # a root without rules never needs it

        desired = result.desired
        items: list[Item] = [(k, None, dv.value, dv.source) for k, dv in desired.open_values().items()]
        found = rule_findings(rules, desired.catalog, desired.values, items, root=root_display, today=today)
        problems += [f.problem for f in found]
    if not problems:
        return result, rules
    merged = sort_problems([*result.problems, *problems])
    ok = not any(p.severity == "error" for p in merged)
    return replace(result, problems=merged, desired=result.desired if ok else None), rules


_KINDS = (("semesters", "semester"), ("metrics", "metric"), ("fields", "field"))


def unmatched_scope(rule: Rule, catalog: Catalog) -> list[Problem]:
    """Errors at the rule for each alias or glob of its scope that names nothing in the catalog (a typo, an ID
    where an alias is meant), and for a scope whose metrics have none of its fields: such a rule would judge
    no value and pass every plan without a word. Data file globs are not checked: files come and go."""
    aliases = {
        "semesters": set(catalog.semesters),
        "metrics": set(catalog.metrics),
        "fields": {a for m in catalog.metrics.values() for a in m.fields},
    }
    out: list[Problem] = []

    def error(text: str) -> None:
        out.append(Problem(rule.file, rule.line, rule.col, "error", "rule-scope", f"rule {rule.name!r}: {text}"))

    for kind, noun in _KINDS:
        for pattern in getattr(rule.scope, kind):
            if not any(glob_matches(a, pattern) for a in aliases[kind]):
                error(f"its scope's {kind} {pattern!r} matches no {noun} alias of the catalog; name aliases or globs")
    if not out and (rule.scope.metrics or rule.scope.fields):
        scope = rule.scope
        if not any(
            scope.names("fields", fa)
            for ma, m in catalog.metrics.items()
            if scope.names("metrics", ma)
            for fa in m.fields
        ):
            error("no metric in its scope has a field in its scope: it would judge no value")
    return out
