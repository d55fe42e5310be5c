"""Rules as plain data: what each judges (its scope) and how findings are named."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from syncer.load.files import glob_matches
from syncer.problems import Problem

Severity = Literal["deny", "warn"]

#: The code of every rule finding (problems carry a stable code; the rule's name is in the message).
FINDING_CODE = "rule"


@dataclass(frozen=True, slots=True)
class Scope:
    """Aliases or globs per kind; an empty tuple matches everything of that kind."""

    semesters: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def names(self, kind: Literal["semesters", "metrics", "fields"], alias: str) -> bool:
        patterns: tuple[str, ...] = getattr(self, kind)
        return not patterns or any(glob_matches(alias, p) for p in patterns)

    def file(self, rel: str) -> bool:
        return not self.files or any(glob_matches(rel, p) for p in self.files)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    condition: str  # CEL source: true when a value breaks the rule
    severity: Severity
    message: str
    scope: Scope = field(default_factory=Scope)
    file: str = ""  # where the rule is written (rules.yaml or syncer.yaml)
    line: int = 0
    col: int = 0

    def canonical(self) -> list[object]:
        """What the rule decides, for the plan's checksum (where it is written is left out)."""
        s = self.scope
        return [self.name, self.condition, self.severity, self.message, s.semesters, s.metrics, s.fields, s.files]


def rules_digest(rules: tuple[Rule, ...]) -> str:
    """sha256 over the rules' canonical JSON: a plan's checksum covers the rules that judged it."""
    text = json.dumps([r.canonical() for r in rules], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Finding(NamedTuple):
    """A rule's finding on one value: the rule's name, and the problem at the value (a deny is an error)."""

    rule: str
    problem: Problem

    @property
    def denies(self) -> bool:
        return self.problem.severity == "error"
