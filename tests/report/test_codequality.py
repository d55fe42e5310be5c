"""GitLab's Code Quality report (`--format gitlab`): every report is valid against the format GitLab
documents (the schema below, written from docs.gitlab.com/ci/testing/code_quality/, "Code Quality report
format"), fingerprints are unique in a report and stay put when a value moves to another line, and values
are redacted like everywhere else."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.problems import Problem
from syncer.report.codequality import plan_issues, problem_issues, render
from syncer.report.problems import render_problems
from tests.example import copy_example
from tests.report.test_plan_render import sample_plan

#: GitLab's documented report: a JSON array of objects with these required properties; `severity` one of
#: info, minor, major, critical, blocker; `location.lines.begin` the first line (an integer).
GITLAB_CODE_QUALITY_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def _report(text: str) -> list[dict[str, Any]]:
    doc = json.loads(text)
    jsonschema.validate(doc, GITLAB_CODE_QUALITY_SCHEMA)
    fingerprints = [issue["fingerprint"] for issue in doc]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab shows only the first issue of a fingerprint"
    assert isinstance(doc, list)
    return doc


def test_the_schema_rejects_what_gitlab_would() -> None:
    good = {
        "description": "d",
        "check_name": "c",
        "fingerprint": "f",
        "severity": "minor",
        "location": {"path": "a.yaml", "lines": {"begin": 1}},
    }
    jsonschema.validate([good], GITLAB_CODE_QUALITY_SCHEMA)
    for bad in ({**good, "severity": "error"}, {**good, "location": {"path": "a.yaml", "lines": {"begin": 0}}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([bad], GITLAB_CODE_QUALITY_SCHEMA)


def test_problems_become_issues_at_their_file_and_line() -> None:
    problems = [
        Problem("metrics/a.yaml", 3, 5, "error", "unknown-person", "no such person {value}", value="zoe"),
        Problem("metrics/a.yaml", 9, 1, "warning", "admin-field", "field note is admin-only"),
    ]
    (err, warn) = _report(render_problems(problems, "gitlab", redact=False))
    assert err["severity"] == "critical" and warn["severity"] == "minor"
    assert err["check_name"] == "syncer/unknown-person"
    assert err["location"] == {"path": "metrics/a.yaml", "lines": {"begin": 3}}
    assert err["description"] == "no such person 'zoe'"


def test_values_are_redacted_and_the_fingerprint_does_not_depend_on_it() -> None:
    problem = Problem("metrics/a.yaml", 3, 5, "error", "unknown-person", "no such person {value}", value="zoe")
    shown = _report(render_problems([problem], "gitlab", redact=False))
    hidden = _report(render_problems([problem], "gitlab", redact=True))
    assert "zoe" not in json.dumps(hidden) and "(redacted)" in hidden[0]["description"]
    assert shown[0]["fingerprint"] == hidden[0]["fingerprint"]


def test_a_problem_moved_to_another_line_keeps_its_fingerprint() -> None:
    before = Problem("metrics/a.yaml", 8, 3, "error", "duplicate-key", "duplicate key 'x': also at line 7")
    after = Problem("metrics/a.yaml", 18, 3, "error", "duplicate-key", "duplicate key 'x': also at line 17")
    assert (
        _report(render(problem_issues([before], redact=True)))[0]["fingerprint"]
        == (_report(render(problem_issues([after], redact=True)))[0]["fingerprint"])
    )


def test_fingerprints_differ_by_rule_path_and_key_and_repeat_never() -> None:
    base = Problem("metrics/a.yaml", 3, 1, "error", "unknown-person", "no such person alice")
    others = [
        Problem("metrics/b.yaml", 3, 1, "error", "unknown-person", "no such person alice"),  # path
        Problem("metrics/a.yaml", 3, 1, "error", "unknown-metric", "no such person alice"),  # rule
        Problem("metrics/a.yaml", 3, 1, "error", "unknown-person", "no such person bob"),  # key
        Problem("metrics/a.yaml", 5, 1, "error", "unknown-person", "no such person alice"),  # the same again
    ]
    _report(render(problem_issues([base, *others], redact=False)))  # all five fingerprints distinct


def test_a_plan_reports_its_threshold_on_the_settings_and_its_held_back_rows_where_written() -> None:
    plan = sample_plan()
    issues = _report(render(plan_issues(plan)))
    threshold = [i for i in issues if i["check_name"] == "syncer/safety-threshold"]
    held = [i for i in issues if i["check_name"] == "syncer/rejected-row"]
    assert threshold and threshold[0]["severity"] == "critical"
    assert threshold[0]["location"]["path"] == f"{plan.root}/syncer.yaml"
    assert len(held) == len(plan.quarantined)
    forced = _report(render(plan_issues(sample_plan(force=True))))
    assert [i["severity"] for i in forced if i["check_name"] == "syncer/safety-threshold"] == ["info"]


def test_validate_writes_only_the_report_on_stdout(tmp_path: Any) -> None:
    root = copy_example(tmp_path / "metrics")
    bad = root / "teams" / "zz-bad.yaml"
    bad.write_text("semester: 2026-H2\nreviewees:\n  nobody_known: {revenue: {weight: 10%}}\n")
    result = CliRunner().invoke(cli, ["validate", "--root", str(root), "--format", "gitlab"])
    assert result.exit_code == 1
    issues = _report(result.stdout)
    assert any(i["location"]["path"].endswith("teams/zz-bad.yaml") for i in issues)
    assert "INVALID" in result.stderr


def test_a_valid_root_is_an_empty_report(tmp_path: Any) -> None:
    result = CliRunner().invoke(
        cli, ["validate", "--root", str(copy_example(tmp_path / "metrics")), "--format", "gitlab"]
    )
    assert result.exit_code == 0 and _report(result.stdout) == []


def test_plan_writes_the_report_on_stdout_and_refuses_a_drift_section(tmp_path: Any) -> None:
    root = copy_example(tmp_path / "metrics")
    runner = CliRunner()
    result = runner.invoke(cli, ["plan", "--root", str(root), "--format", "gitlab"])
    assert result.exit_code == 0 and _report(result.stdout) == []  # no state yet: nothing blocks the apply
    refused = runner.invoke(cli, ["plan", "--root", str(root), "--format", "gitlab", "--refresh"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "--format gitlab has no drift section: with --refresh or --refresh-all use one of text" in refused.output


def test_an_invalid_root_gives_plan_the_problems_report(tmp_path: Any) -> None:
    root = copy_example(tmp_path / "metrics")
    (root / "teams" / "zz-bad.yaml").write_text(
        "semester: 2026-H2\nreviewees:\n  nobody_known: {revenue: {weight: 1}}\n"
    )
    result = CliRunner().invoke(cli, ["plan", "--root", str(root), "--format", "gitlab"])
    assert result.exit_code == 1
    assert [i["check_name"] for i in _report(result.stdout)] == ["syncer/unknown-person"]


def test_a_plan_reports_each_rule_finding_at_its_value_a_deny_critical() -> None:
    from dataclasses import replace

    from syncer.rules.model import Finding

    secret = "could not be evaluated on this value{detail}; fix the rule or the value"
    findings = (
        Finding("no-lowering", Problem("m/teams/a.yaml", 7, 15, "error", "rule", "rule 'no-lowering': keep it")),
        Finding(
            "over-3x",
            Problem("m/teams/a.yaml", 9, 15, "warning", "rule", "rule 'over-3x': " + secret, detail=' ("1234")'),
        ),
    )
    plan = replace(sample_plan(), findings=findings, rules=("no-lowering", "over-3x"))
    issues = [i for i in _report(render(plan_issues(plan))) if i["check_name"] == "syncer/rule"]
    assert [(i["severity"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("critical", "m/teams/a.yaml", 7),
        ("minor", "m/teams/a.yaml", 9),
    ]
    assert issues[0]["description"] == "rule 'no-lowering': keep it"
    assert "1234" not in issues[1]["description"]  # the report has no --redact-values: values never shown
