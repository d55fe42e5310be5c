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


@pytest.mark.parametrize(
    ("setting", "lang", "lang_attr", "h1"),
    [
        ("language: zh-CN\n", "C.UTF-8", "zh-CN", ("<h1>变更计划</h1>", "<h1>状态报告</h1>")),
        ("", "zh_CN.UTF-8", "zh-CN", ("<h1>变更计划</h1>", "<h1>状态报告</h1>")),  # auto: the locale alone
        ("language: en\n", "zh_CN.UTF-8", "en", ("<h1>Plan</h1>", "<h1>State report</h1>")),  # the setting wins
        ("", "C.UTF-8", "en", ("<h1>Plan</h1>", "<h1>State report</h1>")),
    ],
)
def test_both_pages_are_in_the_readers_language_and_the_command_line_stays_english(
    root: Path, monkeypatch: pytest.MonkeyPatch, setting: str, lang: str, lang_attr: str, h1: tuple[str, str]
) -> None:
    (root / "syncer.yaml").write_text((root / "syncer.yaml").read_text() + setting)
    monkeypatch.setenv("LANG", lang)
    code, out = run("plan", "--format", "html", "--out", "plan.html")
    assert code == 0 and out.startswith("wrote plan.html: Plan: 215 values changed"), out
    code, out = run("report", "--html", "--out", "state.html")
    assert code == 0 and out == "wrote state.html: the state report of metrics\n"
    for name, heading in zip(("plan.html", "state.html"), h1, strict=True):
        page = Path(name).read_text(encoding="utf-8")
        assert f'<html lang="{lang_attr}">' in page and heading in page, name
