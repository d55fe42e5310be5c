"""`syncer emulator`: a subprocess prints its URL first, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import httpx
from click.testing import CliRunner

from syncer.cli import cli

from .helpers import ALICE, H2, IMPORT, REVENUE, TARGET, field, item


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FEISHU_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_prints_its_url_first_serves_and_stops_on_sigterm() -> None:
    proc = start("--import-per-minute", "1")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first), first
        with httpx.Client(base_url=first, trust_env=False, timeout=5) as c:
            token = c.post(
                "/open-apis/auth/v3/tenant_access_token/internal",
                json={"app_id": "cli_emulator", "app_secret": "emulator_secret"},
            ).json()["tenant_access_token"]
            body = {"semester_id": H2, "imported_metrics": [item(ALICE, REVENUE, field(TARGET, "1"))]}
            h = {"Authorization": f"Bearer {token}"}
            assert c.post(IMPORT, params={"client_token": "a"}, json=body, headers=h).json()["code"] == 0
            assert c.post(IMPORT, params={"client_token": "b"}, json=body, headers=h).status_code == 429  # the flag
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_ctrl_c_stops_it_with_exit_0() -> None:
    proc = start()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_help_text_on_the_command_and_every_option() -> None:
    result = CliRunner().invoke(cli, ["emulator", "--help"])
    assert result.exit_code == 0
    assert "Run a local Feishu emulator" in result.output
    emulator = cli.get_command(click.Context(cli), "emulator")
    assert emulator is not None
    for param in emulator.params:
        if param.name != "help":
            assert param.help, param.name


def test_a_bad_tenant_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "tenant.yaml"
    bad.write_text("version: 1\nsemesters: [{id: 7293040702907514899}]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["emulator", "--tenant", str(bad)])
    assert result.exit_code == 1
    assert "does not match emulator-tenant.schema.json" in result.output
    assert "quote it" in result.output
