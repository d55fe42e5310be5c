"""Loading the rules: where they may be, and every way a rule can be broken reported at its own line in
its file (a rule that does not parse or type-check, a duplicate name, rules in two places, no CEL library).
Broken rules leave an empty rule set: a run never goes on with rules it could not compile."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.rules import compile as cel_compile
from syncer.rules.compile import MissingLibrary
from syncer.rules.load import load_rules
from tests.paths import REPO

ONE = """rules:
  - name: small-target
    scope: {fields: [target]}
    condition: {condition}
    severity: warn
    message: small
"""


def one(condition: str) -> str:
    """The rules file of one rule with `condition` (single-quoted in the YAML)."""
    return ONE.replace("{condition}", "'" + condition.replace("'", "''") + "'")


def root_with(tmp_path: Path, rules_yaml: str | None = None, settings: str = "") -> Path:
    root = tmp_path / "m"
    root.mkdir()
    if rules_yaml is not None:
        (root / "rules.yaml").write_text(rules_yaml, encoding="utf-8")
    if settings:
        (root / "syncer.yaml").write_text(settings, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[tuple[int, int, str, str]]:
    rules, problems = load_rules(root, "m")
    assert not rules or not problems
    return [(p.line, p.col, p.code, p.message) for p in problems]


def test_the_example_rules_load_and_compile() -> None:
    rules, problems = load_rules(REPO / "metrics", "metrics")
    assert problems == []
    assert [r.name for r in rules.rules] == [
        "target-not-lowered-after-start",
        "actual-over-3x-target",
        "note-under-80-percent",
    ]
    assert [r.severity for r in rules.rules] == ["deny", "warn", "warn"]
    assert rules.rules[0].scope.fields == ("target",) and rules.rules[0].line == 7


def test_no_rules_is_an_empty_rule_set(tmp_path: Path) -> None:
    rules, problems = load_rules(root_with(tmp_path, settings="exclude: []\n"), "m")
    assert not rules and problems == []


def test_rules_may_be_in_syncer_yaml(tmp_path: Path) -> None:
    root = root_with(tmp_path, settings=one("new < 1.0"))
    rules, problems = load_rules(root, "m")
    assert problems == [] and [r.file for r in rules.rules] == ["m/syncer.yaml"]


def test_rules_in_both_places_are_an_error_at_the_second(tmp_path: Path) -> None:
    root = root_with(tmp_path, one("new < 1.0"), settings=one("new < 2.0"))
    assert problems_of(root) == [
        (2, 3, "rules-twice", "rules are in syncer.yaml and in rules.yaml: keep them in one of the two")
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("new <", "Syntax error"),  # does not parse
        ("nope > 1.0", "undeclared reference to 'nope'"),  # an unknown variable
        ("field.name > 1", "no matching overload"),  # text against a number: a type error
        ("1 + 1", "must be true or false; this one gives int"),  # not a condition
        ("'" + "(" * 40, "Syntax error"),  # an unterminated string
        ("(" * 200 + "true" + ")" * 200, "recursion limit exceeded"),  # deeply nested: refused, no crash
        ("[" * 100 + "1" + "]" * 100 + " == []", "recursion limit exceeded"),
    ],
)
def test_a_condition_that_does_not_compile_is_an_error_at_its_line(
    tmp_path: Path, condition: str, expected: str
) -> None:
    root = root_with(tmp_path, one(condition))
    [(line, col, code, message)] = problems_of(root)
    assert (line, col, code) == (4, 16, "rule-condition")
    assert message.startswith("rule 'small-target': the condition does not compile: ")
    assert expected.lower() in message.lower() and "\n" not in message


def test_a_huge_condition_is_refused_by_the_schema(tmp_path: Path) -> None:
    root = root_with(tmp_path, one("true" + " && true" * 600))
    [(line, _, code, message)] = problems_of(root)
    assert (line, code) == (4, "schema") and "at most 4000 characters" in message


def test_a_duplicate_name_is_an_error_at_the_second_rule(tmp_path: Path) -> None:
    body = one("new < 1.0")
    root = root_with(tmp_path, body + body.removeprefix("rules:\n"))
    assert problems_of(root) == [
        (7, 5, "duplicate-rule", "rule 'small-target' is also on line 2: give each rule its own name")
    ]


@pytest.mark.parametrize("missing", ["severity", "message", "condition", "name"])
def test_a_rule_missing_a_key_is_a_schema_error(tmp_path: Path, missing: str) -> None:
    text = one("true").replace(f"- {missing}:", "- x-unused:").replace(f"    {missing}:", "    x-unused:")
    found = problems_of(root_with(tmp_path, text))
    assert found and all(code == "schema" for _, _, code, _ in found)
    assert any(f"'{missing}' is a required property" in message for _, _, _, message in found)


def test_rules_without_the_cel_library_fail_in_one_line_and_never_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise MissingLibrary(
            "the rules need the CEL library, which is not installed: pip install 'feishu-syncer[rules]'"
        )

    monkeypatch.setattr(cel_compile, "_cel", missing)
    root = root_with(tmp_path, one("true"))
    rules, problems = load_rules(root, "m")
    assert not rules
    assert [(p.severity, p.code, p.message) for p in problems] == [
        (
            "error",
            "rules-library",
            "the rules need the CEL library, which is not installed: pip install 'feishu-syncer[rules]'",
        )
    ]


def test_a_rules_file_that_is_not_yaml_is_an_error(tmp_path: Path) -> None:
    rules, problems = load_rules(root_with(tmp_path, "rules: [\n"), "m")
    assert not rules and [p.file for p in problems] == ["m/rules.yaml"]
