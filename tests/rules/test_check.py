"""`syncer validate` with rules (syncer.rules.check.with_rules): the desired values judged (no old value), a
deny an error (exit 1), a warning a warning (exit 0), a rule that does not compile an error at its line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from syncer.cli import cli
from syncer.load.validate import validate_root
from syncer.rules.check import with_rules
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


def scoped(tmp_path: Path, scope: str) -> Path:
    root = copy_example(tmp_path / "m")
    (root / "rules.yaml").write_text(
        f"rules:\n  - name: no-lowering\n    scope: {scope}\n    condition: 'new < 0.0'\n    severity: deny\n"
        "    message: never negative\n",
        encoding="utf-8",
    )
    return root


def test_a_scope_alias_the_catalog_does_not_have_is_an_error_at_the_rule(tmp_path: Path) -> None:
    r = validate(scoped(tmp_path, "{metrics: [revnue], fields: [target]}"))  # a typo: the rule would judge nothing
    assert r.exit_code == 1
    assert (
        f"{tmp_path}/m/rules.yaml:2:5: error: rule 'no-lowering': its scope's metrics 'revnue' matches no metric "
        "alias of the catalog" in r.output
    )


def test_a_field_named_by_its_id_in_a_scope_is_an_error(tmp_path: Path) -> None:  # scopes take aliases
    r = validate(scoped(tmp_path, "{fields: ['4']}"))
    assert r.exit_code == 1
    assert "its scope's fields '4' matches no field alias of the catalog" in r.output


def test_a_semester_glob_matching_no_semester_is_an_error(tmp_path: Path) -> None:
    r = validate(scoped(tmp_path, "{semesters: ['2025-*']}"))
    assert r.exit_code == 1
    assert "its scope's semesters '2025-*' matches no semester alias of the catalog" in r.output


def test_a_scope_whose_metrics_have_none_of_its_fields_is_an_error(tmp_path: Path) -> None:
    r = validate(scoped(tmp_path, "{metrics: [nps], fields: [owner]}"))  # nps has no owner: nothing judged
    assert r.exit_code == 1
    assert "rule 'no-lowering': no metric in its scope has a field in its scope: it would judge no value" in r.output


def test_a_scope_matching_the_catalog_passes(tmp_path: Path) -> None:
    r = validate(scoped(tmp_path, "{semesters: ['2026-*'], metrics: [nps, 'rev*'], fields: [target]}"))
    assert r.exit_code == 0, r.output


def test_rules_with_a_scope_error_are_not_handed_on(tmp_path: Path) -> None:
    root = scoped(tmp_path, "{metrics: [revnue]}")
    result, rules = with_rules(validate_root(root), root_display=str(root), judge_values=False)
    assert not rules and not result.ok


def test_an_empty_scope_list_is_an_error_not_every_value(tmp_path: Path) -> None:  # `files: []` read as "none"
    r = validate(scoped(tmp_path, "{metrics: [nps], files: []}"))
    assert r.exit_code == 1
    assert f"{tmp_path}/m/rules.yaml:3:29: error: rules.0.scope.files: fails the schema's 'minItems' rule" in r.output
