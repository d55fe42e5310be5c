"""`syncer validate` with rules (syncer.rules.check.with_rules): the desired values judged (no old value), a
deny an error (exit 1), a warning a warning (exit 0), a rule that does not compile an error at its line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from syncer.cli import cli
from tests.example import copy_example


def validate(root: Path) -> Result:
    return CliRunner().invoke(cli, ["validate", "--root", str(root), "--format", "text"], catch_exceptions=False)


def with_rule(tmp_path: Path, condition: str, severity: str) -> Path:
    root = copy_example(tmp_path / "m")
    (root / "rules.yaml").write_text(
        "rules:\n  - name: big-nps-target\n    scope: {metrics: [nps], fields: [target]}\n"
        f"    condition: '{condition}'\n    severity: {severity}\n    message: an NPS target over 50 is not credible\n",
        encoding="utf-8",
    )
    return root


def test_a_deny_on_a_desired_value_makes_validate_fail_at_the_value(tmp_path: Path) -> None:
    root = with_rule(tmp_path, "new > 50.0", "deny")
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("target: 45\n", "target: 55\n", 1), encoding="utf-8")
    r = validate(root)
    assert r.exit_code == 1
    assert (
        f"{root}/teams/sales.yaml:14:15: error: rule 'big-nps-target': an NPS target over 50 is not credible [rule]"
        in r.output
    )
    assert "INVALID" in r.output


def test_a_warn_keeps_validate_passing(tmp_path: Path) -> None:
    root = with_rule(tmp_path, "new > 40.0", "warn")
    r = validate(root)
    assert r.exit_code == 0, r.output
    assert "warning: rule 'big-nps-target'" in r.output


def test_old_is_null_in_validate(tmp_path: Path) -> None:
    r = validate(with_rule(tmp_path, "old != null", "deny"))
    assert r.exit_code == 0, r.output


def test_a_rule_that_does_not_compile_fails_validate_at_its_line(tmp_path: Path) -> None:
    r = validate(with_rule(tmp_path, "new > ", "warn"))
    assert r.exit_code == 1
    assert (
        f"{tmp_path}/m/rules.yaml:4:16: error: rule 'big-nps-target': the condition does not compile: at line 1"
        in r.output
    )
