"""`syncer report --html` and `syncer plan --format html` on the command line: what they refuse, in one
line each; the pages themselves are tested in tests/html/."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from tests.example import copy_example

pytest.importorskip("jinja2")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example(tmp_path / "metrics")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_the_report_writes_a_page_and_says_where(root: Path) -> None:
    code, out = run("report", "--html", "--out", "state.html")
    assert code == 0 and out == "wrote state.html: the state report of metrics\n"
    assert Path("state.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_the_report_asks_for_its_format_and_its_file(root: Path) -> None:
    code, out = run("report", "--out", "state.html")
    assert code == 1 and "syncer report writes an HTML page: add --html (with --out FILE)" in out
    code, out = run("report", "--html")
    assert code == 1 and "Missing option '--out'" in out
    assert not Path("state.html").exists()


def test_an_html_plan_goes_to_a_file_never_the_terminal(root: Path) -> None:
    code, out = run("plan", "--format", "html")
    assert code == 1 and "--format html writes a page to a file: add --out FILE" in out
    code, out = run("plan", "--format", "html", "--out", "plan.html", "--print")
    assert code == 1 and "without --print" in out
    code, out = run("plan", "--format", "html", "--out", "plan.html")
    assert code == 0 and out.startswith("wrote plan.html: Plan: 215 values changed"), out
    assert "<!doctype html>" not in out


def test_without_the_extra_both_say_what_to_install(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("syncer.html.find_spec", lambda name: None)
    for args in (("report", "--html", "--out", "s.html"), ("plan", "--format", "html", "--out", "p.html")):
        code, out = run(*args)
        assert code == 1 and "pip install 'feishu-syncer[html]'" in out and "Traceback" not in out
        assert len(out.strip().splitlines()) == 1


def test_an_invalid_root_gives_the_problems_and_no_page(root: Path) -> None:
    (root / "teams" / "sales.yaml").write_text("semester: 2026-H2\nreviewees:\n  nobody.here: {}\n")
    code, out = run("report", "--html", "--out", "state.html")
    assert code == 1 and "INVALID" in out and not Path("state.html").exists()
    code, out = run("plan", "--format", "html", "--out", "plan.html")
    assert code == 1 and "INVALID" in out and not Path("plan.html").exists()


def test_a_page_that_cannot_be_written_is_one_line_saying_what_to_do(root: Path) -> None:
    for args in (
        ("report", "--html", "--out", "no/such/dir/s.html"),
        ("plan", "--format", "html", "--out", "no/p.html"),
    ):
        code, out = run(*args)
        assert code == 1 and "Traceback" not in out, out
        (line,) = out.strip().splitlines()
        assert line.startswith("error: could not write --out no/") and line.endswith("again")
