"""The HTML reports in a real browser (headless Chromium): the plan and the state report of the example
root, applied to the emulator and then changed in the YAML and behind syncer's back in Feishu, render
without a console message (the plan page in Chinese too), show the plan's own counts, fetch nothing, and make
the README's screenshots.

SYNCER_UPDATE_SCREENSHOTS=1 copies the screenshots to docs/img/ (the README shows them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from tests.emulated import import_by_hand, served_example
from tests.example import REPO, copy_example
from tests.html.browser import open_page, screenshot

pytest.importorskip("jinja2")
pytest.importorskip("pygal")

COUNT = re.compile(r'data-count="(\w+)">(\d+)<')


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """The example root, with one person renamed to a Chinese alias, applied to an emulator; then a target
    and two actuals raised in the YAML, and one value changed in Feishu."""
    root = copy_example(tmp_path / "metrics")
    for path in [root / "catalog.yaml", *root.glob("*/*.yaml")]:
        path.write_text(path.read_text(encoding="utf-8").replace("chen.jing", "陈静"), encoding="utf-8")
    with served_example(tmp_path, monkeypatch, root=root) as s:
        code, out = run("apply", "--auto-approve")
        assert code == 0, out
        sales = root / "teams" / "sales.yaml"
        text = sales.read_text(encoding="utf-8")
        text = text.replace("target: 1000000", "target: 1150000", 1).replace("actual: 850000", "actual: 990000", 1)
        sales.write_text(text.replace("actual: 42\n", "actual: 47\n", 1), encoding="utf-8")
        import_by_hand(s.url)  # bob's revenue actual
        yield root, s.url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _counts(dom: str) -> dict[str, int]:
    return {k: int(v) for k, v in COUNT.findall(dom)}


def _keep(png: Path, name: str) -> None:
    if os.environ.get("SYNCER_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(png, REPO / "docs" / "img" / name)


def _plan_page(tmp_path: Path) -> tuple[Path, str, dict[str, int], str]:
    """The plan written as tmp_path/plan.html and opened: the page, what `plan` said, the plan's counts (from
    its JSON) and the page's DOM, which logged no console message and shows the plan's own counts."""
    page, plan_json = tmp_path / "plan.html", tmp_path / "plan.json"
    code, out = run("plan", "--format", "html", "--out", str(page))
    assert code == 0, out
    assert run("plan", "--format", "json", "--out", str(plan_json))[0] == 0
    counts: dict[str, int] = json.loads(plan_json.read_text(encoding="utf-8"))["counts"]
    opened = open_page(page, tmp_path / "profile")
    assert opened.console == []
    shown = _counts(opened.dom)
    assert shown == {k: counts[k] for k in shown} and len(shown) == 8
    return page, out, counts, opened.dom


def test_the_plan_page_renders_with_the_plans_counts(applied: tuple[Path, str], tmp_path: Path) -> None:
    page, out, counts, dom = _plan_page(tmp_path)
    assert out.startswith(f"wrote {page.as_posix()}: Plan: "), out
    assert counts["values_to_update"] == 3 and counts["values_changed"] == 3
    assert "陈静" in dom and "1150000" in dom
    png = tmp_path / "plan.png"
    assert screenshot(page, tmp_path / "profile", png, height=1500) == []
    _keep(png, "plan-report.png")


def test_the_plan_page_in_chinese_renders_with_the_same_counts(applied: tuple[Path, str], tmp_path: Path) -> None:
    root, _url = applied
    settings = root / "syncer.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "language: zh-CN\n", encoding="utf-8")
    page, _out, _plan_counts, dom = _plan_page(tmp_path)
    assert '<html lang="zh-CN">' in dom and "<h1>变更计划</h1>" in dom and "陈静" in dom
    png = tmp_path / "plan.zh_CN.png"
    assert screenshot(page, tmp_path / "profile", png, height=1500) == []
    _keep(png, "plan-report.zh_CN.png")


def test_the_state_report_shows_the_state_the_plan_and_the_drift(applied: tuple[Path, str], tmp_path: Path) -> None:
    page, plan_json = tmp_path / "state.html", tmp_path / "plan.json"
    code, out = run("report", "--html", "--out", str(page), "--refresh-all")
    assert code == 0, out
    assert run("plan", "--format", "json", "--out", str(plan_json))[0] == 0
    counts = json.loads(plan_json.read_text(encoding="utf-8"))["counts"]
    opened = open_page(page, tmp_path / "profile")
    assert opened.console == []
    shown = _counts(opened.dom)
    assert shown["values_managed"] == counts["values_managed"] == 215
    assert shown["values_desired"] == counts["values_desired"]
    assert shown["values_changed"] == counts["values_changed"] + 1  # + the repair of the value changed in Feishu
    assert shown["drift_changed"] == 1 and shown["rows_quarantined"] == counts["rows_quarantined"] == 0
    assert "cli_emulator" not in opened.dom and "emulator_secret" not in opened.dom
    png = tmp_path / "state.png"
    assert screenshot(page, tmp_path / "profile", png, height=1700) == []
    _keep(png, "state-report.png")


class _Canary(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_pages_policy_blocks_every_request(applied: tuple[Path, str], tmp_path: Path) -> None:
    """A request slipped into the page (an image, a style sheet, a script, a font) reaches nobody: the
    content security policy blocks it, and the console says so."""
    page = tmp_path / "plan.html"
    assert run("plan", "--format", "html", "--out", str(page))[0] == 0
    html = page.read_text(encoding="utf-8")
    assert not re.search(r'\b(?:src|href)="(?!data:|#)', html)  # nothing of the page's own points outside
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        slipped = (
            f'<img src="{base}/img"><link rel="stylesheet" href="{base}/css"><script src="{base}/js"></script>'
            f"<style>@font-face {{ font-family: x; src: url({base}/font); }} body {{ font-family: x; }}</style>"
        )
        (tmp_path / "slipped.html").write_text(html.replace("<body>", "<body>" + slipped, 1), encoding="utf-8")
        opened = open_page(tmp_path / "slipped.html", tmp_path / "profile")
    finally:
        server.shutdown()
        server.server_close()
    assert _Canary.hits == []
    assert any("Content Security Policy" in line for line in opened.console)


def test_without_chromium_the_browser_tests_skip_unless_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.html import browser

    monkeypatch.setattr("tests.html.browser.shutil.which", lambda name: None)
    monkeypatch.delenv("SYNCER_REQUIRE_CHROMIUM", raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser.chromium()
    monkeypatch.setenv("SYNCER_REQUIRE_CHROMIUM", "1")
    with pytest.raises(pytest.fail.Exception, match="SYNCER_REQUIRE_CHROMIUM=1 but there is no chromium"):
        browser.chromium()
