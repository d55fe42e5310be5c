"""Headless Chromium (Debian's `chromium` package) for the HTML report tests: a page opened from a file,
its DOM after rendering, the console messages it logged, and a screenshot.

Without Chromium the browser tests are skipped, unless SYNCER_REQUIRE_CHROMIUM=1 (set by .ci/run, which
installs it): then its absence fails them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
#: How Chromium logs a page's console message (and a blocked request) on stderr.
CONSOLE = re.compile(r"^\[[^\]]*:CONSOLE[^\]]*\] (.*)$", re.MULTILINE)


class Opened(NamedTuple):
    dom: str
    console: list[str]


def chromium() -> str:
    """The browser's path; skips the test when there is none (fails it under SYNCER_REQUIRE_CHROMIUM=1)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("SYNCER_REQUIRE_CHROMIUM") == "1":
            pytest.fail("SYNCER_REQUIRE_CHROMIUM=1 but there is no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium; SYNCER_REQUIRE_CHROMIUM=1 makes this fail)")
    return found


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def open_page(page: Path, profile: Path) -> Opened:
    """The page's DOM once rendered, and every console message it logged."""
    p = _run(page, profile, "--dump-dom")
    assert p.returncode == 0, p.stderr[-2000:]
    return Opened(p.stdout, CONSOLE.findall(p.stderr))


def screenshot(page: Path, profile: Path, png: Path, *, width: int = 1200, height: int = 1800) -> list[str]:
    """A screenshot of the page's top `height` pixels into `png`; the console messages."""
    p = _run(page, profile, f"--window-size={width},{height}", f"--screenshot={png.resolve()}")
    assert p.returncode == 0 and png.is_file(), p.stderr[-2000:]
    return CONSOLE.findall(p.stderr)
