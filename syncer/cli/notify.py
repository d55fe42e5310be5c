"""The commands' side of notifications (syncer.notify): which event, whether values may be shown, and the log
lines. A chat's failure is one warning on stderr; the command's exit code never changes for it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from syncer.cli.context import readers_language
from syncer.cli.output import say

if TYPE_CHECKING:
    from syncer.apply.run import ApplyRun
    from syncer.cli.context import StateOpener
    from syncer.live.drift import Drift
    from syncer.load.settings import Settings
    from syncer.notify.event import Event
    from syncer.plan.model import Names

#: SYNCER_REDACT set to one of these, explicitly, is what lets values into a card (the PR comment's switch).
_SHOWN = frozenset({"0", "false", "no", "off"})


def values_allowed(*, redact: bool) -> bool:
    """A group chat is a wide audience: values only when SYNCER_REDACT is explicitly off and the run is not
    redacted (--redact-values)."""
    return not redact and os.environ.get("SYNCER_REDACT", "").strip().lower() in _SHOWN


def _deliver(event: Event, settings: Settings, base_url: str, *, redact: bool) -> None:
    from syncer.i18n import translations
    from syncer.notify.send import deliver

    deliver(
        event,
        settings.notify,
        values_allowed=values_allowed(redact=redact),
        env=os.environ,
        base_url=base_url,
        warn=lambda line: say(line, err=True),
        info=lambda line: say(line, err=True),
        t=translations(readers_language(settings)),
    )


def notify_apply(run: ApplyRun, settings: Settings, opener: StateOpener, base_url: str, *, redact: bool) -> None:
    report = run.report
    if not settings.notify.enabled or (
        run.plan.empty and not report.settled and not report.rejected and not report.exit_code
    ):
        return  # an apply with nothing to do is no news: no card
    from syncer.notify.event import apply_event

    event = apply_event(
        run.report, run.plan.names, commit=run.plan.git.short, values_allowed=values_allowed(redact=redact)
    )
    _deliver(event, settings, base_url, redact=redact)


@contextlib.contextmanager
def notify_failure(settings: Settings, opener: StateOpener, base_url: str, *, redact: bool) -> Iterator[None]:
    """A failure that ends the apply before it has a report (refused, the lock held) posts a card, then goes on."""
    from syncer.errors import SyncerError

    try:
        yield
    except SyncerError as exc:
        if settings.notify.enabled:
            from syncer.notify.event import failed_event

            try:
                commit = opener.git_info(settings).short
            except SyncerError:
                commit = "nogit"
            _deliver(failed_event(str(exc), commit=commit), settings, base_url, redact=redact)
        raise


def notify_drift(drift: Drift, names: Names, settings: Settings, commit: str, base_url: str, *, redact: bool) -> None:
    if not settings.notify.enabled or not drift.detected:
        return
    from syncer.notify.event import drift_event

    event = drift_event(drift, names, commit=commit, values_allowed=values_allowed(redact=redact))
    _deliver(event, settings, base_url, redact=redact)
