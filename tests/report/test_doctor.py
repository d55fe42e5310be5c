"""The doctor report as text and JSON: a line per check, a line per problem with what to do, the reviewees a
finding names hidden with --redact-values (their count kept), and whatever Feishu or a file said escaped."""

from __future__ import annotations

import json

from syncer.doctor.model import Check, DoctorReport, Finding
from syncer.report.doctor import render_doctor

SCOPE = Finding("the app may not call reviewees/query (99991672)", "add the permission performance:semester_user:read")
HIDDEN = Finding("2 of the 30 reviewees are not visible", "widen the app's data scope", people=("alice", "bob"))
WARN = Finding("field x is admin-owned", "mark it input_setting: admin", severity="warning")


def report(*checks: Check) -> DoctorReport:
    return DoctorReport("https://open.feishu.cn", "cli_a", "open_id", checks, requests=6, budget=7)


def test_text_gives_each_check_a_line_and_each_problem_a_line_with_its_remedy() -> None:
    text = render_doctor(
        report(Check("credentials", "a token"), Check("scope", "refused", (SCOPE,)), Check("pct", "?", checked=False)),
        "text",
        redact=False,
    )
    assert text.splitlines() == [
        "syncer doctor: https://open.feishu.cn, app cli_a, user_id_type open_id",
        "  ok         credentials  a token",
        "  PROBLEM    scope        refused",
        "    error: the app may not call reviewees/query (99991672): add the permission performance:semester_user:read",
        "  unchecked  pct          ?",
        "1 problem, 0 warnings: an apply could not run. 6 requests (at most 7 for this root).",
    ]


def test_warnings_alone_let_an_apply_run() -> None:
    text = render_doctor(report(Check("catalog", "compared", (WARN,))), "text", redact=False)
    assert text.splitlines()[-1] == "No problems (1 warning): an apply could run. 6 requests (at most 7 for this root)."
    assert "  warning    catalog" in text


def test_the_reviewees_named_are_redacted_and_their_count_kept() -> None:
    r = report(Check("data scope", "28 of 30", (HIDDEN,)))
    assert "alice, bob" in render_doctor(r, "text", redact=False)
    redacted = render_doctor(r, "text", redact=True)
    assert "alice" not in redacted and "(redacted)" in redacted and "2 of the 30" in redacted
    doc = json.loads(render_doctor(r, "json", redact=True))
    assert doc["checks"][0]["findings"][0]["people"] == ["(redacted)"]
    assert doc["checks"][0]["findings"][0]["count"] == 2


def test_json_is_the_same_report_as_data() -> None:
    doc = json.loads(render_doctor(report(Check("scope", "refused", (SCOPE,))), "json", redact=False))
    assert doc["ok"] is False and doc["requests"] == 6 and doc["request_budget"] == 7
    assert doc["checks"] == [
        {
            "name": "scope",
            "status": "problem",
            "summary": "refused",
            "findings": [
                {"severity": "error", "message": SCOPE.message, "remedy": SCOPE.remedy, "count": 0, "people": []}
            ],
        }
    ]


def test_hostile_text_is_escaped() -> None:
    hostile = Finding("metric \x1b[31mX\n::error::forged", "fix", people=("bob\u202e",))
    text = render_doctor(report(Check("catalog", "x", (hostile,))), "text", redact=False)
    assert "\x1b" not in text and "\u202e" not in text and "\n::error" not in text
    assert "\\x1b[31mX\\n::error::forged" in text
