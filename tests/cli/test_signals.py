"""Signals that stop a command at once (syncer.interrupt), and apply's handlers while it plans
(syncer.cli.context.stop_on_signals): in process, the signal sent to this very process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from syncer.apply.outcome import StopRequest
from syncer.cli.context import stop_on_signals
from syncer.cli.progress import Printer
from syncer.interrupt import Terminated, exit_code, finish, install, stopped_line


@pytest.fixture(autouse=True)
def _restore_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


@pytest.mark.parametrize(
    ("sig", "raised", "code"), [(signal.SIGINT, KeyboardInterrupt, 130), (signal.SIGTERM, Terminated, 143)]
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
