"""GitLab's Code Quality report (docs/gitlab.md, "Code Quality report"): a JSON array of issues, each with
a description, a check name, a fingerprint, a severity and a location (path, first line), which GitLab shows
on the merge request when a job uploads it as `artifacts:reports:codequality`.

The fingerprint is what GitLab compares between the merge request's report and the target branch's: it
hashes the check, the path and what the issue is about (the message before any value is put in, a row's
key, a semester's threshold), never the line, so that moving a value does not make it a new issue. Two
issues alike in all three get an occurrence number so that each fingerprint is unique in a report."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from syncer.plan.model import Plan
from syncer.plan.safety import how_to_proceed
from syncer.problems import Problem
from syncer.text import safe

#: Where a message cites a line ("also at line 7", "sales.yaml:7:3"): left out of what an issue is about.
_LINE_CITED = re.compile(r"\b(lines?|col(umn)?s?) \d+|:\d+(:\d+)?\b")

#: GitLab's severities, least to most severe.
Severity = Literal["info", "minor", "major", "critical", "blocker"]
#: A problem that makes the YAML invalid blocks the plan (and so the apply); a warning does not.
PROBLEM_SEVERITY: dict[str, Severity] = {"error": "critical", "warning": "minor"}


class Issue(NamedTuple):
    check_name: str
    description: str
    severity: Severity
    path: str
    line: int
    about: str  # what the issue is about, for the fingerprint: never a line, never a value


def fingerprint(check_name: str, path: str, about: str, occurrence: int = 0) -> str:
    """A stable hex digest of the check, the path and what the issue is about (and its occurrence)."""
    text = "\0".join((check_name, path, about, str(occurrence)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def render(issues: Iterable[Issue]) -> str:
    """The report: a JSON array, ASCII only (every other character escaped), ending with a newline."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for issue in issues:
        key = (issue.check_name, issue.path, issue.about)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(
            {
                "description": issue.description,
                "check_name": issue.check_name,
                "fingerprint": fingerprint(*key, occurrence),
                "severity": issue.severity,
                "location": {"path": issue.path, "lines": {"begin": max(1, issue.line)}},
            }
        )
    return json.dumps(out, indent=2) + "\n"


def problem_issues(problems: Sequence[Problem], *, redact: bool) -> list[Issue]:
    """Validation problems as issues: the check is the problem's code, the message is what to do."""
    return [
        Issue(
            check_name=f"syncer/{p.code}",
            description=p.text(redact=redact),
            severity=PROBLEM_SEVERITY[p.severity],
            path=safe(p.file) or ".",
            line=p.line,
            about=_LINE_CITED.sub("", p.message),  # before the value goes in: the same redacted or not
        )
        for p in problems
    ]


def plan_issues(plan: Plan) -> list[Issue]:
    """What blocks or holds back an apply of this plan: a safety threshold passed (on syncer.yaml, where it is
    raised), each company rule's finding (at its value; a deny is critical) and each rejected row held back
    (where its values are written). Values are never shown."""
    issues = []
    settings = safe(f"{plan.root}/syncer.yaml")
    if plan.breaches:
        issues.append(
            Issue(
                check_name="syncer/safety-threshold",
                description=how_to_proceed(plan),
                severity="info" if plan.forced else "critical",
                path=settings,
                line=1,
                about=",".join(f"{b.semester}:{b.kind}" for b in plan.breaches),
            )
        )
    for f in plan.findings:  # a deny refuses the apply; CEL's words (which may quote a value) left out
        p = f.problem
        issues.append(
            Issue(
                check_name="syncer/rule",
                description=p.text(redact=True),
                severity=PROBLEM_SEVERITY[p.severity],
                path=safe(p.file) or ".",
                line=p.line,
                about=f"{f.rule}\0{_LINE_CITED.sub('', p.message)}",
            )
        )
    for q in plan.quarantined:
        src = q.source
        issues.append(
            Issue(
                check_name="syncer/rejected-row",
                description=(
                    f"{plan.names.person(q.row.reviewee)} / {plan.names.metric(q.row.metric)}: rejected on "
                    f"{safe(q.date)} with {q.code}; not sent until its values change (or apply --retry-rejected)"
                ),
                severity="minor",
                path=safe(src.file) if src else settings,
                line=src.line if src else 1,
                about="/".join(q.row),
            )
        )
    return issues
