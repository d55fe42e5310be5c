"""Feishu notifications through the real CLI against the emulator on loopback: each outcome of an apply, and drift
found by `plan --refresh`, posts its card through both transports (the custom bot webhook, signed, and the app
bot); a chat that fails or refuses is one warning and never changes the exit code; no URL or secret is printed.

The cards are golden files (tests/golden/notify/); regenerate with SYNCER_UPDATE_GOLDEN=1 python3 -m pytest
tests/cli/test_notify.py tests/notify."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator
from tests.emulated import import_by_hand, served_example
from tests.example import copy_example
from tests.paths import REPO

GOLDEN = REPO / "tests" / "golden" / "notify"
UPDATE = os.environ.get("SYNCER_UPDATE_GOLDEN") == "1"
HOOK, SECRET = "hook-3f9a", "s3cret-signing-key"
CHAT = "oc_hrgroup"
NOTIFY = f"""
notify:
  webhook_env: SYNCER_TEST_HOOK
  secret_env: SYNCER_TEST_HOOK_SECRET
  chat_id: {CHAT}
"""


class World:
    def __init__(self, root: Path, emu: Emulator, url: str, language: str) -> None:
        self.root, self.emu, self.url, self.language = root, emu, url, language

    def cards(self) -> list[Any]:
        return [m.card for m in self.emu.chat_messages()]

    def vias(self) -> list[tuple[str, str]]:
        return [(m.via, m.to) for m in self.emu.chat_messages()]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str) -> Iterator[World]:
    root = copy_example(tmp_path / "metrics")
    settings = root / "syncer.yaml"
    text = settings.read_text() + NOTIFY
    if language == "en":
        monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        text += "language: en\n"
    else:
        monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    settings.write_text(text)
    emu = Emulator(import_per_minute=1000)
    emu.add_hook(HOOK, SECRET)
    emu.add_chat(CHAT)
    with served_example(tmp_path, monkeypatch, root=root, emulator=emu) as s:
        monkeypatch.setenv("SYNCER_TEST_HOOK", f"{s.url}/open-apis/bot/v2/hook/{HOOK}")
        monkeypatch.setenv("SYNCER_TEST_HOOK_SECRET", SECRET)
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
        monkeypatch.setenv("GITHUB_REPOSITORY", "hr/metrics")
        monkeypatch.setenv("GITHUB_RUN_ID", "4242")
        monkeypatch.setenv("GITHUB_REF", "refs/pull/17/merge")
        yield World(root, emu, s.url, language)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def assert_golden(name: str, card: Any) -> None:
    """The card as tests/golden/notify/NAME.json has it (NAME.zh_CN.json: in Chinese)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(card, ensure_ascii=False, indent=2) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs: SYNCER_UPDATE_GOLDEN=1 if intended"


def assert_both_posted(world: World, name: str) -> None:
    """One card through each transport, the same card, as the golden file of its language has it."""
    assert world.vias() == [("webhook", HOOK), ("app", CHAT)]
    first, second = world.cards()
    assert first == second
    assert_golden(name if world.language == "en" else f"{name}.{world.language}", first)


@pytest.fixture
def language(request: pytest.FixtureRequest) -> str:
    """The readers' language of the world: English unless a test asks for both. The card tests run in both:
    English set in syncer.yaml over a Chinese locale (the setting wins), and Chinese from the locale alone
    (`language:` defaults to auto)."""
    return str(getattr(request, "param", "en"))


def assert_quiet(out: str) -> None:
    """Nothing of the webhook's URL, its token or secret, or the app secret reaches the output."""
    for secret in (HOOK, SECRET, "emulator_secret", "/bot/v2/hook"):
        assert secret not in out


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_applied(world: World) -> None:
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    assert out.count("Feishu notification posted") == 2
    assert_both_posted(world, "applied")
    assert_quiet(out)
    world.emu.chat.messages.clear()
    code, out = run("apply", "--auto-approve")
    assert code == 0 and "No changes" in out
    assert world.cards() == []  # nothing to do is no news


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_rejected_rows_are_listed_with_file_line_and_remedy(world: World) -> None:
    support = world.root / "teams" / "support.yaml"
    support.write_text(
        support.read_text().replace("  tang.rui:\n    csat:\n", "  tang.rui:\n    csat:\n      calibration: mine\n", 1)
    )
    code, out = run("apply", "--auto-approve")
    assert code == 4, out
    assert_both_posted(world, "rejected")
    assert "mine" not in json.dumps(world.cards())


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_stopped_by_max_duration(world: World) -> None:
    settings = world.root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("import_per_minute: 1000", "import_per_minute: 10"))
    code, out = run("apply", "--auto-approve", "--max-duration", "7")  # one request sent, the next 6 s later
    assert code == 3, out
    assert_both_posted(world, "stopped")


def test_interrupted_by_a_signal_posts_through_both_transports(world: World) -> None:
    """`syncer apply` as a process, stopped by SIGTERM while it waits for its second request: the card says it
    was interrupted, what it applied and how many rows are left, through the webhook and the app bot alike
    (the card's words against a golden file: tests/notify/test_cards.py)."""
    settings = world.root / "syncer.yaml"
    settings.write_text(settings.read_text().replace("import_per_minute: 1000", "import_per_minute: 20"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncer", "apply", "--root", str(world.root), "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "rows 50/60 done" in line:
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, (out, err)
    assert world.vias() == [("webhook", HOOK), ("app", CHAT)]
    first, second = world.cards()
    assert first == second
    assert first["header"]["title"]["content"] == "syncer apply: interrupted"
    assert first["header"]["template"] == "yellow"
    words = json.dumps(first["elements"], ensure_ascii=False)
    assert "Interrupted by SIGTERM with 10 rows left: run apply again." in words
    assert_quiet(out + err)


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_failed_when_feishu_refuses_every_request(world: World) -> None:
    world.emu.faults.inject("refuse", endpoint="metric_details.import", times=20, code=1580102)
    code, out = run("apply", "--auto-approve")
    assert code == 1, out
    assert_both_posted(world, "failed")


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_failed_before_a_report_posts_too(world: World) -> None:
    code, out = run("apply")  # no terminal to confirm on, and no --auto-approve
    assert code == 1 and "--auto-approve" in out
    assert_both_posted(world, "refused")


@pytest.mark.parametrize("language", ["en", "zh_CN"], indirect=True)
def test_drift_found_by_plan_refresh(world: World) -> None:
    assert run("apply", "--auto-approve")[0] == 0
    world.emu.chat.messages.clear()
    assert run("plan", "--refresh-all")[0] == 0
    assert world.cards() == []  # no drift: no card
    import_by_hand(world.url)
    code, out = run("plan", "--refresh-all")
    assert code == 0, out
    assert_both_posted(world, "drift")
    assert "1500000" not in json.dumps(world.cards())  # values hidden unless SYNCER_REDACT=0


def test_values_only_when_explicitly_allowed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("apply", "--auto-approve")[0] == 0
    import_by_hand(world.url)
    world.emu.chat.messages.clear()
    monkeypatch.setenv("SYNCER_REDACT", "0")
    assert run("plan", "--refresh-all")[0] == 0
    shown = json.dumps(world.cards())
    assert "1499000 -> 1500000" in shown and "values hidden" not in shown
    world.emu.chat.messages.clear()
    assert run("plan", "--refresh-all", "--redact-values")[0] == 0
    assert "1500000" not in json.dumps(world.cards()) and world.cards()


def test_a_failing_chat_is_one_warning_and_the_exit_code_stays(world: World) -> None:
    world.emu.faults.inject("error", endpoint="bot.webhook", times=2)  # the attempt and its one retry
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    warnings = [line for line in out.splitlines() if line.startswith("warning: Feishu notification")]
    assert warnings == [
        "warning: Feishu notification (custom bot webhook) not posted: HTTP 500; syncer's outcome is unchanged"
    ]
    assert world.vias() == [("app", CHAT)]
    assert_quiet(out)


def test_one_retry_posts_once_even_when_the_first_answer_was_lost(world: World) -> None:
    world.emu.faults.inject("error", endpoint="bot.webhook", times=1)
    world.emu.faults.inject("lost_response", endpoint="im.message.create", times=1)
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    assert "warning" not in out
    assert world.vias() == [("webhook", HOOK), ("app", CHAT)]  # the lost one was posted once: same uuid
    assert len(world.emu.requests("im.message.create")) == 2


def test_a_wrong_secret_is_refused_by_the_emulator_and_warned(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_TEST_HOOK_SECRET", "not-the-secret")
    code, out = run("apply", "--auto-approve")
    assert code == 0, out
    assert "not posted: Feishu answered HTTP 200, code 19021 (sign match fail" in out
    assert world.vias() == [("app", CHAT)]
    assert_quiet(out)
    assert "not-the-secret" not in out


def test_an_unset_variable_is_said_by_name(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNCER_TEST_HOOK")
    code, out = run("apply", "--auto-approve")
    assert code == 0
    assert "the variable SYNCER_TEST_HOOK (notify.webhook_env) is not set" in out
