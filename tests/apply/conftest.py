"""The fixtures the apply tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.emulator import Emulator, ManualClock
from tests.apply.test_run import World
from tests.example import copy_example


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The example root, applied through the emulator on a clock the test moves."""
    root = tmp_path / "metrics"
    copy_example(root)
    clock = ManualClock()
    return World(root, clock, Emulator(clock=clock, sleep=clock.sleep))
