"""Redaction is complete: with SYNCER_REDACT=1 no value reaches any output or any file syncer writes for
people to read (the plan file, the apply report, the step summary), whatever the command and format:
field values, person values (an alias given by email only and not resolved yet, a typo whose closest alias
would tell who was meant) and the catalog's email addresses; nor do Feishu's own words when they repeat the
request they answer (its `msg`, the gateway's field violations, its error details)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from tests.emulated import served_example
from tests.example import copy_example

NOTE = "SECRET-NOTE-7731"
ECHOED_NOTE = 'Sev-2 "sécurité" on the 计费 path'  # quotes and non-ASCII: echoed with JSON escapes
ACTUAL = "918273645"
EMAILS = ["bob@example.com", "grace.lead@example.com"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def assert_redacted(text: str, *extra: str) -> None:
    for secret in [NOTE, ACTUAL, *EMAILS, *extra]:
        assert secret not in text, f"{secret!r} shown with redaction on:\n{text}"


@pytest.fixture
def emu() -> Emulator:
    return Emulator(import_per_minute=1000)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emu: Emulator) -> Iterator[tuple[Path, Path]]:
    root = copy_example(tmp_path / "metrics")
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("actual: 1055000", f"actual: {ACTUAL}", 1))
    eng = root / "teams" / "engineering.yaml"
    eng.write_text(eng.read_text().replace("Sev-2 on the billing path in October;", NOTE, 1))
    summary = tmp_path / "step-summary.md"
    with served_example(tmp_path, monkeypatch, root=root, emulator=emu):
        monkeypatch.setenv("SYNCER_REDACT", "1")
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
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


def assert_none_sent(text: str, sent: set[str]) -> None:
    """No value of `sent` in `text`: a number where it stands as a number (`1000000` inside a log ID
    `20260101000000EMULATOR...` is not one), any other value anywhere."""
    for v in sent:
        shown = re.search(rf"(?<![0-9A-Za-z_.]){re.escape(v)}(?![0-9A-Za-z_])", text) if v.isdigit() else v in text
        assert not shown, f"{v!r} shown with redaction on:\n{text}"


def sent_values(emu: Emulator) -> set[str]:
    """Every field value and person the import requests carried (what the emulator received)."""
    out: set[str] = set()
    for entry in emu.requests("metric_details.import"):
        for item in json.loads(entry.body)["imported_metrics"]:
            for f in item["fields"]:
                out.update(v for v in (f["field_value"], f.get("field_value_person")) if v)
    return out


def echoing_apply(served: tuple[Path, Path], emu: Emulator, tmp_path: Path, code: int) -> tuple[int, str, set[str]]:
    """An apply whose every import Feishu refuses with `code`, repeating the request in its answer; the
    values it sent that are distinctive enough to look for in the outputs (short numbers like `2` stand
    in any count), ACTUAL and the echoed note among them."""
    root, _ = served
    eng = root / "teams" / "engineering.yaml"
    eng.write_text(eng.read_text().replace("Sev-2 on the billing path in October;", ECHOED_NOTE))
    emu.faults.configure(echo_body=True)
    emu.faults.inject("refuse", code=code, times=1000)
    code_, out = run("apply", "--auto-approve", "--report", str(tmp_path / "report.json"))
    sent = sent_values(emu)
    assert ACTUAL in sent and any("sécurité" in v for v in sent)
    assert any(e.fault == "refuse" for e in emu.requests("metric_details.import"))
    return code_, out, {v for v in sent if len(v) >= 4}


@pytest.mark.parametrize("code", [1234567, 99992402, 1580301], ids=["unknown-code", "gateway", "row-code"])
def test_feishus_words_never_show_a_value_of_the_request_they_answer(
    served: tuple[Path, Path], emu: Emulator, tmp_path: Path, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown code (its msg shown), the gateway's field violations (shown whatever the code) and a row
    code (isolated and held back): no value reaches stdout, stderr, the report, the step summary, the
    state's listing of held-back rows, the logs; and the state keeps none of Feishu's words."""
    root, summary = served
    caplog.set_level(logging.DEBUG)
    exit_code, out, sent = echoing_apply(served, emu, tmp_path, code)
    assert exit_code != 0, out
    assert "Feishu" in out and "(redacted)" in out, out  # Feishu's refusal is shown, masked
    logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("syncer.feishu", "syncer.apply")))
    for text in (out, (tmp_path / "report.json").read_text(), summary.read_text(), logs):
        assert_redacted(text, "sécurité", "s\\u00e9curit\\u00e9", "918273645.0")
        assert_none_sent(text, sent)
    plans = [["plan", "--format", fmt] for fmt in ("text", "json", "markdown", "github")]
    for args in (["state", "show"], ["state", "show", "--format", "json"], *plans):
        shown = run(*args)[1]
        assert_redacted(shown, "sécurité", "918273645.0")
        assert_none_sent(shown, sent)
    for f in (root / ".syncer").rglob("*"):
        assert not f.is_file() or "fault injection" not in f.read_text(errors="replace"), f


def test_without_redaction_feishus_words_are_shown_as_sent(
    served: tuple[Path, Path], emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCER_REDACT")
    exit_code, out, _ = echoing_apply(served, emu, tmp_path, 1234567)
    assert exit_code == 1, out
    assert f'"field_value":"{ACTUAL}"' in out and "sécurité" in out and "(redacted)" not in out, out


def test_a_refusal_of_people_resolve_repeating_the_addresses_asked_shows_none(
    served: tuple[Path, Path], emu: Emulator
) -> None:
    emu.faults.configure(echo_body=True)
    emu.faults.inject("refuse", endpoint="users.batch_get_id", code=1234567, times=10)
    code, out = run("people", "resolve")
    assert code == 1 and "1234567" in out and "(redacted)" in out, out
    assert all(e in emu.requests("users.batch_get_id")[0].body for e in EMAILS)
    assert_redacted(out)


def test_doctor_redacting_shows_none_of_the_addresses_a_refusal_repeats(
    served: tuple[Path, Path], emu: Emulator
) -> None:
    """doctor reads users/batch_get_id with the addresses of the catalog: a refusal that repeats them is masked
    under redaction like any other read's."""
    emu.faults.configure(echo_body=True)
    emu.faults.inject("refuse", endpoint="users.batch_get_id", code=1234567, times=10)
    code, out = run("doctor", "--redact-values")
    assert code == 1 and "1234567" in out and "(redacted)" in out, out
    assert any(e in emu.requests("users.batch_get_id")[0].body for e in EMAILS)  # what the refusal repeats
    assert_redacted(out)


def test_an_echoed_refusal_after_a_lost_answer_leaves_the_entry_open_and_shows_no_value(
    served: tuple[Path, Path], emu: Emulator, tmp_path: Path
) -> None:
    """The first import lands and its answer is lost; the retry under the same token is refused with a code
    that says nothing of the token, repeating the request: the journal entry stays open, and the message
    that says so quotes Feishu masked."""
    _, summary = served
    emu.faults.configure(echo_body=True)
    emu.faults.inject("lost_response")
    emu.faults.add_commit_hook(lambda _record: emu.faults.inject("refuse", code=1234567))
    code, out = run("apply", "--auto-approve", "--report", str(tmp_path / "report.json"))
    assert code == 1 and "may have landed" in out and "1234567" in out and "(redacted)" in out, out
    sent = {v for v in sent_values(emu) if len(v) >= 4}
    for text in (out, (tmp_path / "report.json").read_text(), summary.read_text(), run("state", "show")[1]):
        assert_redacted(text)
        assert_none_sent(text, sent)
