"""Where the rules are (`rules:` in syncer.yaml, or rules.yaml beside the catalog, not both), their schema
check and their compiling: once per run. Every problem is at the rule's own line in its file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from syncer.load.files import RULES_FILE, SETTINGS_FILE, display_path
from syncer.load.schema import check
from syncer.load.settings import DEFAULT_MAX_FILE_BYTES
from syncer.load.yamlnodes import MapNode, Node, Scalar, SeqNode, text_of
from syncer.problems import Problem

if TYPE_CHECKING:  # the rules' model and compiler: imported where a root has rules
    from syncer.rules.compile import Program
    from syncer.rules.model import Rule, Severity


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of a root, compiled (programs in the rules' order). Empty when the root has none."""

    rules: tuple[Rule, ...] = ()
    programs: tuple[Program, ...] = field(default=(), compare=False)

    @property
    def digest(self) -> str:
        from syncer.rules.model import rules_digest

        return rules_digest(self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)


def load_rules(root: Path, root_display: str, *, in_settings: bool = True) -> tuple[RuleSet, list[Problem]]:
    """The root's rules, compiled; problems (a rule that does not parse or type-check, both places used, the
    CEL library missing) are errors, and the rule set is then empty: a run with broken rules stops.

    `in_settings=False` says syncer.yaml, as read with the settings, has no `rules:` (Settings.has_rules):
    it is then not parsed again (with the settings cache warm, nothing here imports the YAML parser)."""
    found: list[tuple[str, SeqNode]] = []
    problems: list[Problem] = []
    for name, schema in ((SETTINGS_FILE, "syncer"), (RULES_FILE, "rules")):
        path, display = root / name, display_path(root_display, name)
        if not path.is_file() or (name == SETTINGS_FILE and not in_settings):
            continue
        from syncer.load.yamlparse import load_tree  # the YAML parser: only when there is a file to read

        tree, loaded = load_tree(path, display, max_bytes=DEFAULT_MAX_FILE_BYTES)
        invalid = loaded or check(schema, tree, display)
        if name == RULES_FILE:  # syncer.yaml's own problems are reported with the settings
            problems += invalid
        node = tree.get("rules") if isinstance(tree, MapNode) and not invalid else None
        if isinstance(node, SeqNode):
            found.append((display, node))
    if len(found) > 1:
        where, twice = found[1]
        message = "rules are in syncer.yaml and in rules.yaml: keep them in one of the two"
        problems.append(Problem(where, twice.line, twice.col, "error", "rules-twice", message))
    if problems or not found:
        return RuleSet(), problems
    display, node = found[0]
    rules = _rules(node, display, problems)
    if problems or not rules:
        return RuleSet(), problems
    from syncer.rules.compile import CompileError, Compiler, MissingLibrary

    try:
        compiler = Compiler()
    except MissingLibrary as exc:
        return RuleSet(), [Problem(display, node.line, node.col, "error", "rules-library", str(exc))]
    programs: list[Program] = []
    for rule, item in zip(rules, node.items, strict=True):
        cond = item.get("condition") if isinstance(item, MapNode) else None
        try:
            programs.append(compiler.compile(rule.condition))
        except CompileError as exc:
            line, col = (cond.line, cond.col) if cond is not None else (rule.line, 1)
            message = f"rule {rule.name!r}: the condition does not compile: {_where(str(exc))}"
            problems.append(Problem(display, line, col, "error", "rule-condition", message))
    if problems:
        return RuleSet(), problems
    return RuleSet(tuple(rules), tuple(programs)), []


def _rules(node: SeqNode, display: str, problems: list[Problem]) -> list[Rule]:
    from syncer.rules.model import Rule, Scope

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for item in node.items:
        assert isinstance(item, MapNode)  # the schema has checked the shape
        name = text_of(item.get("name")) or ""
        if name in seen:
            again = f"rule {name!r} is also on line {seen[name]}: give each rule its own name"
            problems.append(Problem(display, item.line, item.col, "error", "duplicate-rule", again))
        seen[name] = item.line
        scope = item.get("scope")
        rules.append(
            Rule(
                name=name,
                condition=text_of(item.get("condition")) or "",
                severity=cast("Severity", text_of(item.get("severity"))),
                message=text_of(item.get("message")) or "",
                scope=Scope(**{k: _names(scope, k) for k in ("semesters", "metrics", "fields", "files")}),
                file=display,
                line=item.line,
                col=item.col,
            )
        )
    return rules


def _names(scope: Node | None, key: str) -> tuple[str, ...]:
    node = scope.get(key) if isinstance(scope, MapNode) else None
    if not isinstance(node, SeqNode):
        return ()
    return tuple(n.text for n in node.items if isinstance(n, Scalar) and n.text)


_INPUT = re.compile(r"<input>:(\d+):(\d+): ")


def _where(message: str) -> str:
    """CEL's `<input>:1:7: ...` said in words (the condition's own line and column)."""
    return _INPUT.sub(lambda m: f"at line {m.group(1)}, column {m.group(2)} of the condition: ", message)
