"""The pull request that issue 29 is done by, end to end through the CLI on the example root: lowering a
target after the semester's start fails its plan, with the rule's name and the value's line in the PR
comment; changing the rule in the same change lets the plan pass, and the apply of the merge."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from syncer.cli import cli
from tests.cli.test_plan import SCHEMA, apply_all
from tests.emulated import served_example
from tests.example import copy_example

RULE = "target-not-lowered-after-start"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The example root with its values applied (the state knows alice's revenue target, 1000000)."""
    root = copy_example(tmp_path / "metrics")
    apply_all(root, root / ".syncer" / "state")
    return root


def lower_target(root: Path) -> int:
    """Lower alice's revenue target in sales.yaml; the line it is on."""
    path = root / "teams" / "sales.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if text == "      target: 1000000\n")
    lines[line] = "      target: 900000\n"
    path.write_text("".join(lines), encoding="utf-8")
    return line + 1


def test_a_lowered_target_fails_the_plan_at_its_line_and_passes_once_the_rule_is_changed(root: Path) -> None:
    line = lower_target(root)
    r = run("plan", "--root", str(root), "--format", "markdown")
    assert r.exit_code == 1, r.output
    assert f"`{root}/teams/sales.yaml:{line}:15` **{RULE}**" in r.output  # the value's file:line:col, the rule
    assert "⛔ deny" in r.output and "apply will refuse this plan" in r.output
    assert "this plan breaks a rule" in r.output and "--force does not override a rule" in r.output

    rules = root / "rules.yaml"  # the same pull request relaxes the rule (reviewed like any change)
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: deny", "severity: warn"), encoding="utf-8")
    r = run("plan", "--root", str(root), "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert f"⚠️ warn `{root}/teams/sales.yaml:{line}:15` **{RULE}**" in r.output


def test_raising_a_target_passes(root: Path) -> None:
    path = root / "teams" / "sales.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("target: 1000000\n", "target: 1100000\n", 1), encoding="utf-8")
    r = run("plan", "--root", str(root), "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert "Rules: 3 rules checked, no findings." in r.output


HOSTILE = "<img src=x onerror=alert(1)> @everyone **x** | [l](http://e.vil) `tick`\u202e ::error::pwned %0A"


def hostile_rule(root: Path) -> None:
    text = (
        "rules:\n  - name: every-target\n    scope: {fields: [target]}\n    condition: 'true'\n"
        f'    severity: warn\n    message: "{HOSTILE}"\n'
    )
    (root / "rules.yaml").write_text(text, encoding="utf-8")


def test_a_findings_text_is_escaped_in_the_comment(root: Path) -> None:
    hostile_rule(root)
    lower_target(root)
    r = run("plan", "--root", str(root), "--format", "markdown")
    assert r.exit_code == 0, r.output
    finding = next(line for line in r.output.splitlines() if "**every-target**" in line)
    assert "<img" not in finding and "&lt;img" in finding
    assert "@everyone" not in finding and "**x**" not in finding and "[l](" not in finding
    assert "\u202e" not in r.output


def test_a_findings_text_cannot_inject_a_workflow_command(root: Path) -> None:
    hostile_rule(root)
    lower_target(root)
    r = run("plan", "--root", str(root), "--format", "github")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if line.startswith("::")]
    assert lines and all(line.startswith("::warning file=") for line in lines)
    assert "title=syncer rule%3A every-target::" in lines[0]  # the text after it is data: `::` there is inert
    assert "%250A" in lines[0]  # the message's own `%` is escaped, so it cannot end the command


def test_the_plans_checksum_changes_with_its_rules(root: Path) -> None:
    def checksum() -> str:
        r = run("plan", "--root", str(root), "--format", "json")
        assert r.exit_code == 0, r.output
        return str(json.loads(r.output)["checksum"])

    before = checksum()
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("almost always a typo", "a typo"), encoding="utf-8")
    assert checksum() != before


def test_the_json_plan_carries_the_rules_and_their_findings(root: Path) -> None:
    line = lower_target(root)
    r = run("plan", "--root", str(root), "--format", "json", "--redact-values")
    assert r.exit_code == 1
    doc = json.loads(r.output[: r.output.rindex("}") + 1])
    jsonschema.validate(doc, SCHEMA)
    assert doc["safety"]["refused"] is True
    rules = doc["rules"]
    assert rules["checked"][0] == RULE and rules["denied"] is True
    assert [(f["rule"], f["severity"], f["line"], f["col"]) for f in rules["findings"]] == [(RULE, "error", line, 15)]


def test_a_plan_without_rules_has_no_rules_key(root: Path) -> None:
    (root / "rules.yaml").unlink()
    r = run("plan", "--root", str(root), "--format", "json")
    assert r.exit_code == 0, r.output
    assert "rules" not in json.loads(r.output)


def test_apply_refuses_a_denied_change_with_force_and_applies_it_once_the_rule_is_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the emulator: the merge's apply sends nothing while the rule denies, --force or not."""
    with served_example(tmp_path, monkeypatch) as s:
        root, emu = s.root, s.emu
        assert run("apply", "--auto-approve").exit_code == 0
        sent = len(emu.requests("metric_details.import"))
        lower_target(root)
        r = run("apply", "--auto-approve", "--force")
        assert r.exit_code == 1 and "the plan breaks a rule" in r.output and RULE in r.output
        assert len(emu.requests("metric_details.import")) == sent
        rules = root / "rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8").replace("severity: deny", "severity: warn"), "utf-8")
        r = run("apply", "--auto-approve")
        assert r.exit_code == 0, r.output
        assert len(emu.requests("metric_details.import")) == sent + 1


def test_the_text_plan_lists_the_findings_after_the_summary(root: Path) -> None:
    line = lower_target(root)
    r = run("plan", "--root", str(root), "--format", "text", "--redact-values")
    assert r.exit_code == 1
    assert "Rules: 1 finding; apply will refuse this plan (change the values, or the rule in this change):" in r.output
    assert f"  {root}/teams/sales.yaml:{line}:15: error: rule '{RULE}': a target may not be lowered" in r.output
