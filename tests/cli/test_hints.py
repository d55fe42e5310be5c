"""The "Next:" line after validate, plan and apply: what it says for each outcome, and that it appears in
text format only."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from click.testing import CliRunner

from syncer.apply.outcome import ApplyReport
from syncer.apply.run import ApplyRun
from syncer.cli import cli
from syncer.cli.hints import after_apply, after_plan, after_validate, command
from syncer.plan.model import Targeting
from syncer.problems import Problem
from syncer.rules.model import Finding
from tests.paths import GOLDEN
from tests.report.test_plan_render import sample_plan, targeted_plan

ROOT = GOLDEN / "plan" / "root"


def test_commands_carry_the_root_and_state_of_this_run() -> None:
    assert command("plan", root="metrics") == "syncer plan"
    assert command("plan", root="my metrics", state=Path("/tmp/s")) == "syncer plan --root 'my metrics' --state /tmp/s"


def test_after_validate() -> None:
    assert after_validate(ok=True, root="metrics") == "Next: `syncer plan` shows what an apply would change."
    assert "fix the problems above, then run `syncer validate --root x` again" in after_validate(ok=False, root="x")


def test_after_plan_for_each_outcome() -> None:
    refused = sample_plan()
    assert refused.refused
    assert "`syncer apply --force`, or raise the threshold" in after_plan(refused, root="metrics", state=None, out=None)
    forced = sample_plan(force=True)
    assert after_plan(forced, root="metrics", state=None, out=None).startswith("Next: `syncer apply` applies it")
    saved = after_plan(forced, root="metrics", state=None, out=Path("plan.json"))
    assert saved.startswith("Next: `syncer apply --plan plan.json` applies exactly this plan")
    empty = dataclasses.replace(forced, changes=())
    assert after_plan(empty, root="metrics", state=None, out=None) == (
        "Next: nothing to do: the state matches the YAML."
    )
    targeted = dataclasses.replace(targeted_plan(), forced=True)
    assert after_plan(targeted, root="metrics", state=None, out=None).startswith(
        "Next: `syncer apply --path teams/sales.yaml` applies it"
    )


def test_after_a_plan_a_rule_denies_the_way_on_is_the_rule_never_force() -> None:
    """--force overrides the thresholds, not a rule: a denied plan (with thresholds passed too, or forced)
    is told to change the values or the rule, and no --force is offered."""
    deny = Finding("no-lowering", Problem("teams/sales.yaml", 9, 15, "error", "rule-denied", "lowered"))
    warn = Finding("typo", Problem("teams/sales.yaml", 10, 15, "warning", "rule-warned", "odd"))
    for plan in (sample_plan(), sample_plan(force=True)):
        denied = dataclasses.replace(plan, findings=(deny, warn))
        said = after_plan(denied, root="metrics", state=None, out=None)
        assert said.startswith("Next: change the values the rules deny, or change the rule") and "--force" not in said
    warned = dataclasses.replace(sample_plan(force=True), findings=(warn,))
    assert after_plan(warned, root="metrics", state=None, out=None).startswith("Next: `syncer apply` applies it")


def test_after_apply_for_each_outcome() -> None:
    plan = sample_plan(force=True)

    def hint(**report: object) -> str | None:
        return after_apply(ApplyRun(plan, ApplyReport(**report)), root="metrics", state=None)  # type: ignore[arg-type]

    assert hint() == "Next: `syncer plan` should now show no changes."
    assert hint(stopped_early=True) == "Next: run `syncer apply` again to go on; the state is consistent."
    assert hint(interrupted="SIGTERM") == "Next: run `syncer apply` again to go on; the state is consistent."
    assert hint(aborted="network") is None  # the error says what to do
    assert after_apply(ApplyRun(dataclasses.replace(plan, changes=()), ApplyReport()), root="m", state=None) is None
    targeted = dataclasses.replace(targeted_plan(), forced=True)
    line = after_apply(ApplyRun(targeted, ApplyReport()), root="metrics", state=None)
    assert line is not None and "plans the 3 values this targeted apply left out" in line
    assert Targeting.of(paths=["teams/sales.yaml"]) == targeted.targeting.targeting  # type: ignore[union-attr]


def test_plan_prints_the_hint_in_text_format_only(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["plan", "--root", str(ROOT), "--state", str(tmp_path / "state")]
    text = runner.invoke(cli, args).output
    assert text.splitlines()[-1].startswith(f"Next: `syncer apply --root {ROOT} --state {tmp_path / 'state'}`")
    for fmt in ("json", "markdown", "github"):
        out = runner.invoke(cli, [*args, "--format", fmt]).output
        assert "Next:" not in out, fmt
    json.loads(runner.invoke(cli, [*args, "--format", "json"]).output)  # still one JSON document
    assert "Next:" not in runner.invoke(cli, ["validate", "--root", str(ROOT), "--format", "json"]).output
    assert "Next:" not in runner.invoke(cli, ["validate", "--root", str(ROOT), "--format", "github"]).output


def test_after_a_targeted_apply_stops_early_going_on_keeps_its_targeting() -> None:
    """An untargeted apply would send what the targeted one left out: the hint to go on carries its flags."""
    targeted = dataclasses.replace(targeted_plan(), forced=True)
    for report in (ApplyReport(stopped_early=True), ApplyReport(interrupted="SIGINT")):
        line = after_apply(ApplyRun(targeted, report), root="metrics", state=None)
        assert line == "Next: run `syncer apply --path teams/sales.yaml` again to go on; the state is consistent."
