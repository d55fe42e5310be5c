"""Sending a plan's changed rows to Feishu, paced and journaled, and recording them in the state: the loop
over the plan's requests, which honours a stop request and --max-duration between them and decides what a
failure stops (its semester, or the run).

The steps are elsewhere: settling the journal a killed run left (syncer.apply.settle), one journaled
request with its isolation (syncer.apply.request), quarantining rejected rows (syncer.apply.quarantine).
Everything outside (client, store, clock, pacer) is passed in (syncer.apply.context.Collaborators).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from syncer.apply.batching import plan_requests
from syncer.apply.context import REQUEST_ALLOWANCE, ApplyOptions, Collaborators, Listeners, RunContext
from syncer.apply.outcome import (
    ApplyReport,
    DurationReached,
    Progress,
    SemesterStopped,
    SharedStopped,
    Stopped,
)
from syncer.apply.quarantine import note_quarantined
from syncer.apply.request import send_request
from syncer.apply.settle import settle
from syncer.errors import SyncerError
from syncer.model import RowKey
from syncer.plan.model import Plan
from syncer.plan.safety import check_safety
from syncer.plan.sent import desired_fields
from syncer.state.model import State
from syncer.text import plural


class Applier:
    """One apply run. The caller holds the store's lock for the whole run."""

    def __init__(self, options: ApplyOptions, world: Collaborators, listeners: Listeners) -> None:
        self.run = RunContext(options, world, listeners, start=world.timer())

    @property
    def report(self) -> ApplyReport:
        return self.run.report

    def settle(self, state: State) -> None:
        """Settle every open journal entry left by a killed run: same body, same token."""
        settle(self.run, state)

    def note_quarantined(self, plan: Plan) -> None:
        """List the rows held back because Feishu rejected them before and they have not changed."""
        note_quarantined(self.run, plan)

    def apply(self, plan: Plan, state: State | None, *, skip: frozenset[RowKey] = frozenset()) -> ApplyReport:
        """Send the plan's changed rows, except `skip` (rows quarantined by the pre-flight)."""
        run = self.run
        options, report = run.options, run.report
        check_safety(plan, force=options.force)
        forgets = plan.forgotten()
        if forgets:
            report.values_forgotten = run.world.store.forget(forgets, reason="apply")
            run.progress(
                Progress(
                    "forget",
                    "",
                    0,
                    0,
                    0,
                    0.0,
                    f"stopped managing {plural(report.values_forgotten, 'value')} removed from the "
                    "YAML (they stay in Feishu as they are)",
                )
            )
        run.changes = Counter(c.key.row for c in plan.changes if c.action != "forget")
        held = {q.row for q in plan.quarantined} | skip
        note_quarantined(run, plan)
        wanted = [r for rows in plan.rows_by_semester().values() for r in rows if r not in held]
        run.by_row = desired_fields(options.desired.values, wanted)
        requests = plan_requests(
            run.by_row,
            state,
            catalog=options.desired.catalog,
            percentage_format=options.settings.target.percentage_format,
        )
        run.rows_total = sum(len(r.rows) for r in requests)
        stopped: set[str] = set()
        for i, request in enumerate(requests):
            semester = request.semester_id
            if semester in stopped:
                continue
            try:
                if run.stop_asked():
                    raise Stopped()
                if run.would_overrun():
                    raise DurationReached()
                send_request(run, request, requests_left=len(requests) - i - 1)
            except SemesterStopped as exc:
                stopped.add(exc.semester)
                report.failures.append((exc.semester, exc.message))
            except SharedStopped as exc:
                stopped.add(semester)
                unsent = sum(len(r.rows) for r in requests[i + 1 :] if r.semester_id == semester)
                report.shared.append(dataclasses.replace(exc.stop, rows_unsent=unsent))
                run.rows_done += unsent
            except (DurationReached, Stopped) as exc:
                report.rows_left = max(0, run.rows_total - run.rows_done)
                if isinstance(exc, Stopped):
                    report.interrupted = run.stop_asked() or "SIGINT"
                    why = f"stopped by {report.interrupted}: {plural(report.rows_left, 'row')} left for the next run"
                elif report.requests:
                    report.stopped_early = True
                    why = f"--max-duration reached: {plural(report.rows_left, 'row')} left for the next run"
                else:  # not 3: CI runs again on 3, and the next run would stop here again, forever
                    report.aborted = (
                        f"--max-duration of {run.options.max_duration or 0:g} s ran out before the first request "
                        f"could be sent (one takes up to about {REQUEST_ALLOWANCE:g} s): raise --max-duration"
                    )
                    why = f"stopped: {report.aborted}"
                run.progress(run.event("stop", semester, len(requests) - i, why))
                break
            except SyncerError as exc:  # the network, retries spent, the state store: stop, keep the report
                report.aborted = str(exc)
                report.rows_left = max(0, run.rows_total - run.rows_done)
                run.progress(run.event("stop", semester, len(requests) - i, f"stopped: {exc}"))
                break
        else:
            if run.stop_asked() and report.interrupted is None:  # asked during the last request
                report.interrupted = run.stop_asked()
        first = run.first_request
        report.seconds = run.world.timer() - (first if first is not None else run.start)
        return report
