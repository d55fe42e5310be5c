"""Redaction is complete: with SYNCER_REDACT=1 no value reaches any output or any file syncer writes for
people to read (the plan file, the apply report, the step summary), whatever the command and format:
field values, person values (an alias given by email only and not resolved yet, a typo whose closest alias
would tell who was meant) and the catalog's email addresses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorServer
from tests.example import copy_example

NOTE = "SECRET-NOTE-7731"
ACTUAL = "918273645"
EMAILS = ["bob@example.com", "grace.lead@example.com"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def assert_redacted(text: str, *extra: str) -> None:
    for secret in [NOTE, ACTUAL, *EMAILS, *extra]:
        assert secret not in text, f"{secret!r} shown with redaction on:\n{text}"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    root = copy_example(tmp_path / "metrics")
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("import_per_minute: 10", "import_per_minute: 1000"))
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("actual: 1055000", f"actual: {ACTUAL}", 1))
    eng = root / "teams" / "engineering.yaml"
    eng.write_text(eng.read_text().replace("Sev-2 on the billing path in October;", NOTE, 1))
    summary = tmp_path / "step-summary.md"
    with EmulatorServer(Emulator(import_per_minute=1000)) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        monkeypatch.setenv("SYNCER_REDACT", "1")
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        monkeypatch.chdir(tmp_path)
        yield root, summary


def test_problems_quoting_person_values_are_redacted(served: tuple[Path, Path]) -> None:
    root, _ = served
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text() + "  zoe.pending: {email: zoe.secret@example.com}\n")
    sales = root / "teams" / "sales.yaml"
    text = sales.read_text()
    sales.write_text(
        text.replace("owner: grace.lead", "owner: zoe.pending", 1).replace("owner: grace.lead", "owner: grace.laed", 1)
    )
    for fmt in ("text", "json", "github"):
        code, out = run("validate", "--format", fmt)
        assert code == 1 and "unresolved-person" in out and "unknown-person" in out, out
        assert_redacted(out, "zoe.pending", "grace.laed", "grace.lead")
    code, out = run("plan", "--format", "markdown")
    assert code == 1
    assert_redacted(out, "zoe.pending", "grace.laed", "grace.lead")


def test_every_output_and_written_file_of_plan_apply_show_and_drift_is_redacted(
    served: tuple[Path, Path], tmp_path: Path
) -> None:
    root, summary = served
    for fmt in ("text", "json", "markdown", "github"):
        code, out = run("plan", "--format", fmt, "--out", str(tmp_path / "plan.json"))
        assert code == 0, out
        assert_redacted(out)
        assert_redacted((tmp_path / "plan.json").read_text())
    code, out = run("apply", "--auto-approve", "--report", str(tmp_path / "report.json"))
    assert code == 0, out
    assert_redacted(out)
    assert_redacted((tmp_path / "report.json").read_text())
    assert_redacted(summary.read_text())
    for args in (["state", "show"], ["state", "show", "--format", "json"]):
        code, out = run(*args)
        assert code == 0
        assert_redacted(out)
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace(f"actual: {ACTUAL}", "actual: 1", 1))  # a change: old value shown
    for fmt in ("text", "json", "markdown", "github"):
        code, out = run("plan", "--refresh-all", "--format", fmt)
        assert code == 0, out
        assert_redacted(out)


def test_people_resolve_lists_no_address_when_redacted(served: tuple[Path, Path]) -> None:
    code, out = run("people", "resolve")
    assert code == 0, out
    assert "bob" in out and "(redacted)" in out
    assert_redacted(out)
