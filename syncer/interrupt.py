"""Signals that stop a command at once: SIGINT and SIGTERM as exceptions that every `finally` and context
manager sees (a lock is released, a temporary file removed), turned into one line and exit 130 or 143.

The command's entry point installs the handlers before it imports anything else, so that a signal that
arrives while syncer is still starting (importing, validating, planning) stops it as cleanly as one that
arrives later. `syncer apply` replaces them while it sends (syncer.cli.context.stop_on_signals: stop
between requests) and puts them back. Imports nothing of syncer: it runs first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

_Hook = Callable[["sys.UnraisableHookArgs"], None]


class Interrupted(KeyboardInterrupt):
    """SIGINT, stopping at once. A subclass, not KeyboardInterrupt itself: CPython (3.11) remembers a bare
    KeyboardInterrupt that escapes code run from a string (dataclasses and namedtuple build their methods so)
    and then ends the process killed by SIGINT, whatever exit code syncer chose after catching it."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, stopping at once. A KeyboardInterrupt, so that whatever cleans up after Ctrl-C cleans up after
    it too, and nothing that catches Exception swallows it."""


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for SIGINT (Ctrl-C), 143 for SIGTERM: 128 and the signal's number, as a shell reports them."""
    return 128 + signal.SIGTERM if isinstance(exc, Terminated) else 128 + signal.SIGINT


def stopped_line(exc: KeyboardInterrupt) -> str:
    """The one line a command stopped at once prints."""
    return "Terminated (SIGTERM)." if isinstance(exc, Terminated) else "Interrupted."


def stop_at_once(signum: int, _frame: FrameType | None) -> None:
    """A signal handler: SIGTERM raises Terminated, any other signal Interrupted."""
    if signum == signal.SIGTERM:
        raise Terminated
    raise Interrupted


def install() -> None:
    """SIGINT and SIGTERM stop at once (SIGTERM would otherwise kill the process with no cleanup and no word)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_at_once)
    sys.unraisablehook = _redelivered(sys.unraisablehook)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held back while the body runs, then delivered as the handlers in place would have had
    them: for a step that must not be cut in two, such as pushing a lock and remembering that it is ours (a stop
    between the two would leave a lock nobody releases). A body that waits on the network delays the stop by as
    much; a second signal is delivered at once, and the caller cleans up what the step left. Outside the main
    thread (which alone has signal handlers) the body simply runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[signal.Signals] = []
    previous: dict[signal.Signals, Any] = {}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def hold(signum: int, _frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        if caught and sig in previous:  # a second stop: at once (the caller gives back what the step took)
            caught.clear()
            restore()
            _deliver(sig, previous[sig])
            return
        caught.append(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        restore()
        if caught:
            _deliver(caught[0], previous[caught[0]])


def _deliver(signum: int, handler: Any) -> None:
    """A signal held back, to the handler that was in place: called here (it raises, or records a stop), or
    sent again, for the default action (or for nothing, when it is ignored)."""
    if callable(handler):
        handler(signum, None)
    else:
        os.kill(os.getpid(), signum)


def _redelivered(previous: _Hook) -> _Hook:
    """An unraisable hook that delivers a swallowed stop again. A handler runs between any two bytecodes, also
    in a callback whose exceptions Python ignores (a weak reference's, such as the import system's module
    locks): the stop would be printed as "Exception ignored" and lost. The signal is sent again a moment
    later instead, from a thread, so that it arrives once the callback is over."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, KeyboardInterrupt):
            sig = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            threading.Timer(0.01, os.kill, (os.getpid(), sig)).start()
            return
        previous(unraisable)

    return hook


def finish(exc: KeyboardInterrupt) -> int:
    """After a stop: further signals are ignored (a second Ctrl-C while the line is written must not show a
    traceback), the line is written to stderr, and the exit code returned."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    try:
        sys.stderr.write(stopped_line(exc) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed, or a broken pipe: the exit code still says it
        pass
    return exit_code(exc)
