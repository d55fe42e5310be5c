"""Signals that stop a command at once (syncer.interrupt), and apply's handlers while it plans
(syncer.cli.context.stop_on_signals): in process, the signal sent to this very process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.apply.outcome import StopRequest
from syncer.cli.context import stop_on_signals
from syncer.cli.progress import Printer
from syncer.interrupt import Interrupted, Terminated, exit_code, finish, install, stopped_line
from tests.paths import REPO


@pytest.fixture(autouse=True)
def _restore_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


@pytest.mark.parametrize(
    ("sig", "raised", "code"), [(signal.SIGINT, Interrupted, 130), (signal.SIGTERM, Terminated, 143)]
)
def test_while_apply_plans_a_signal_stops_at_once_as_an_exception(
    sig: signal.Signals, raised: type[KeyboardInterrupt], code: int
) -> None:
    # Not sending yet (the stop request is not armed): the signal stops at once, as an exception every
    # `finally` sees (the lock is released), never as a bare SystemExit that prints nothing.
    with pytest.raises(raised) as info, stop_on_signals(StopRequest(), Printer()):
        os.kill(os.getpid(), sig)
    assert type(info.value) is raised
    assert exit_code(info.value) == code


@pytest.mark.parametrize(
    ("sig", "code", "line"), [(signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Terminated (SIGTERM).")]
)
def test_the_entry_points_handlers_and_the_line_they_end_with(
    sig: signal.Signals, code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    install()
    with pytest.raises(KeyboardInterrupt) as info:
        os.kill(os.getpid(), sig)
    assert finish(info.value) == code
    assert capsys.readouterr().err == line + "\n"
    assert stopped_line(info.value) == line
    # after the stop, a second signal is ignored: no traceback while the line is written
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def _exits(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`script` run as a module (`python -m`, as `python -m syncer` runs) by a fresh interpreter after
    syncer.interrupt.install(), its KeyboardInterrupt turned into the exit code as the entry point does."""
    program = (
        "import os, signal, sys, time, weakref\n"
        "from syncer import interrupt\n"
        "interrupt.install()\n"
        "try:\n" + "".join(f"    {line}\n" for line in script.splitlines()) + ""
        "except KeyboardInterrupt as exc:\n"
        "    sys.exit(interrupt.finish(exc))\n"
    )
    (tmp_path / "probe.py").write_text(program)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    return subprocess.run([sys.executable, "-m", "probe"], capture_output=True, text=True, timeout=60, env=env)


def test_a_signal_inside_code_run_from_a_string_still_exits_130(tmp_path: Path) -> None:
    # dataclasses build methods with exec(string): a bare KeyboardInterrupt escaping such code makes CPython
    # end the process killed by SIGINT (-2) whatever exit code was chosen; a subclass of it does not.
    done = _exits(
        tmp_path=tmp_path, script='exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(100000): pass")'
    )
    assert (done.returncode, done.stderr) == (130, "Interrupted.\n")


def test_a_signal_swallowed_by_a_callback_is_delivered_again(tmp_path: Path) -> None:
    # A weak reference's callback ignores exceptions (the import system's module locks use them): the stop
    # raised in one is delivered again once the callback is over, instead of being lost.
    script = (
        "class Thing: pass\n"
        "def callback(_ref):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    for _ in range(100000): pass\n"
        "thing = Thing()\n"
        "ref = weakref.ref(thing, callback)\n"
        "del thing\n"
        "time.sleep(5)\n"
        "print('slept')\n"
    )
    done = _exits(script, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "Interrupted.\n")
