"""One apply run, end to end, under the state's lock: settle the journal, plan, check (safety, the saved
plan, the ancestry of the commit), confirm, pre-flight, push (syncer.apply.Applier), compact."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from syncer.apply import (
    PREFLIGHT_MESSAGE,
    READABLE_ID_TYPES,
    Applier,
    ApplyOptions,
    ApplyReport,
    ProgressFn,
    RejectedRow,
    StepHook,
    _now,
)
from syncer.errors import RefusedError
from syncer.feishu import WriteClient, describe
from syncer.gitinfo import GitInfo
from syncer.model import DesiredState, RowKey
from syncer.pacing import Pacer
from syncer.plan import Plan, check_safety, desired_rows, rows_to_send
from syncer.settings import Settings
from syncer.state.base import Identity, Rejection, State, StateStore, format_time, parse_time, row_digest


def pacer_for(
    settings: Settings,
    state: State | None,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Pacer:
    """Requests evenly spaced at 60/import_per_minute s, continuing from the last request in the state."""
    last = None
    if state is not None and state.meta.last_import_request:
        last = parse_time(state.meta.last_import_request).timestamp()
    return Pacer.per_minute(settings.target.import_per_minute, last_request_at=last, clock=clock, sleep=sleep)


def render_record_name(template: str, *, commit: str, short: str, now: datetime) -> str:
    """`import_record_name` with {short_sha}, {commit} ("nogit" outside git) and {date} (UTC) filled."""
    out = template.replace("{short_sha}", short).replace("{commit}", commit)
    return out.replace("{date}", now.astimezone(UTC).strftime("%Y-%m-%d"))


def check_ancestry(
    state: State | None, *, commit: str, is_ancestor: Callable[[str, str], bool | None], force: bool
) -> None:
    """Refuse to apply a commit older than (or diverged from) the one last applied: an old CI job re-run
    would revert newer values. Outside git there is nothing to check."""
    if force or state is None or state.meta.last_apply is None or commit == "nogit":
        return
    last = state.meta.last_apply.commit
    if not last or last == "nogit" or last == commit:
        return
    answer = is_ancestor(last, commit)
    if answer is False:
        raise RefusedError(
            f"the state was last applied from commit {last[:12]}, which is not an ancestor of {commit[:12]}: "
            "applying this older (or diverged) commit would revert newer values. Apply the branch's tip, "
            "or pass --force if this is intended"
        )
    if answer is None:
        raise RefusedError(
            f"cannot tell whether the last applied commit {last[:12]} is an ancestor of {commit[:12]} "
            "(shallow clone? fetch more history, e.g. fetch-depth: 0), or pass --force"
        )


@dataclass(frozen=True, slots=True)
class ApplyRun:
    plan: Plan
    report: ApplyReport


def run_apply(
    *,
    store: StateStore,
    client: WriteClient,
    settings: Settings,
    desired: DesiredState,
    git: GitInfo,
    root: str,
    commit_is_ancestor: Callable[[str, str], bool | None],
    confirm: Callable[[Plan], bool],
    saved_plan: Mapping[str, object] | None = None,
    max_duration: float | None = None,
    retry_rejected: bool = False,
    force: bool = False,
    preflight: bool = False,
    progress: ProgressFn | None = None,
    step_hook: StepHook | None = None,
    clock: Callable[[], datetime] = _now,
    pacer_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyRun:
    """The whole apply under the state's lock: settle the journal, plan, check, confirm, push, record.

    `confirm` sees the plan and says whether to go on (the CLI asks on a terminal, or --auto-approve)."""
    from syncer.state.base import Identity, host_of

    target = Identity(host=host_of(client.base_url), app_id=client.app_id, user_id_type=settings.target.user_id_type)
    store.lock(command="apply")
    try:
        return _run_locked(
            store=store,
            client=client,
            settings=settings,
            desired=desired,
            git=git,
            root=root,
            commit_is_ancestor=commit_is_ancestor,
            confirm=confirm,
            saved_plan=saved_plan,
            max_duration=max_duration,
            retry_rejected=retry_rejected,
            force=force,
            preflight=preflight,
            progress=progress,
            step_hook=step_hook,
            clock=clock,
            pacer_clock=pacer_clock,
            sleep=sleep,
            target=target,
        )
    finally:
        store.unlock()


def _run_locked(
    *,
    store: StateStore,
    client: WriteClient,
    settings: Settings,
    desired: DesiredState,
    git: GitInfo,
    root: str,
    commit_is_ancestor: Callable[[str, str], bool | None],
    confirm: Callable[[Plan], bool],
    saved_plan: Mapping[str, object] | None,
    max_duration: float | None,
    retry_rejected: bool,
    force: bool,
    preflight: bool,
    progress: ProgressFn | None,
    step_hook: StepHook | None,
    clock: Callable[[], datetime],
    pacer_clock: Callable[[], float],
    sleep: Callable[[float], None],
    target: Identity,
) -> ApplyRun:
    from syncer.plan import make_plan
    from syncer.state import load_checked

    state, notes = load_checked(store, target=target)
    pacer = pacer_for(settings, state, clock=pacer_clock, sleep=sleep)
    name = render_record_name(settings.import_record_name, commit=git.commit, short=git.short, now=clock())
    options = ApplyOptions(
        import_record_name=name,
        commit=git.commit,
        max_duration=max_duration,
        retry_rejected=retry_rejected,
        force=force,
    )
    applier = Applier(
        store=store,
        client=client,
        settings=settings,
        desired=desired,
        options=options,
        pacer=pacer,
        clock=clock,
        timer=pacer_clock,
        progress=progress,
        step_hook=step_hook,
    )
    if state is not None and state.journal:
        applier.settle(state)
        state = store.load()
    check_ancestry(state, commit=git.commit, is_ancestor=commit_is_ancestor, force=force)
    plan = make_plan(
        desired,
        state,
        safety=settings.safety,
        git=git,
        target=target,
        state_location=store.location,
        root=root,
        notes=notes,
        retry_rejected=retry_rejected,
        force=force,
    )
    if saved_plan is not None:
        check_saved_plan(saved_plan, plan)
    check_safety(plan, force=force)
    if plan.empty:
        applier.note_quarantined(plan)
        store.compact()
        return ApplyRun(plan, applier.report)
    if not confirm(plan):
        raise RefusedError("apply cancelled: nothing was sent")
    if state is None:  # created only now, so that a plan saved before the first apply still matches
        state = store.create(target)
    if preflight and settings.target.user_id_type in READABLE_ID_TYPES:
        moved = preflight_reviewees(plan, client=client, store=store, settings=settings, desired=desired, clock=clock)
        for row in moved:
            info = describe(1580306)
            applier.report.rejected.append(
                RejectedRow(row, 1580306, info.meaning, info.remedy, PREFLIGHT_MESSAGE, desired.rows.get(row), new=True)
            )
        skip = frozenset(moved)
    else:
        skip = frozenset()
    report = applier.apply(plan, state, skip=skip)
    store.compact()
    return ApplyRun(plan, report)


def check_saved_plan(saved: Mapping[str, object], fresh: Plan) -> None:
    """`apply --plan FILE`: the saved plan must be the plan this apply would make now."""
    state = saved.get("state") if isinstance(saved.get("state"), dict) else {}
    assert isinstance(state, dict)
    reasons = []
    if state.get("lineage") != fresh.state.lineage:
        reasons.append(
            "it was made before this state existed"
            if state.get("lineage") is None
            else "it was made against another state (lineage differs)"
        )
    elif state.get("serial") != fresh.state.serial:
        reasons.append(f"the state changed since (serial {state.get('serial')} then, {fresh.state.serial} now)")
    if saved.get("checksum") != fresh.checksum and not reasons:
        reasons.append("the YAML or the target changed since (the checksum differs)")
    if reasons:
        raise RefusedError(
            "the saved plan is stale: " + "; ".join(reasons) + ". Run `syncer plan --out FILE` again and review it"
        )


def preflight_reviewees(
    plan: Plan,
    *,
    client: WriteClient,
    store: StateStore,
    settings: Settings,
    desired: DesiredState,
    clock: Callable[[], datetime] = _now,
) -> list[RowKey]:
    """Before spending import quota: ask reviewees/query which of the plan's reviewees each semester holds,
    and quarantine (code 1580306) the rows of those it does not."""
    moved: list[RowKey] = []
    per_semester = rows_to_send(plan)
    at = format_time(clock())
    for semester, rows in per_semester.items():
        reviewees = sorted({r.reviewee for r in rows})
        found: set[str] = set()
        uid = settings.target.user_id_type
        for start in range(0, len(reviewees), 50):
            chunk = reviewees[start : start + 50]
            for rv in client.query_reviewees(semester_id=semester, user_ids=chunk, user_id_type=uid):
                got = rv.user.get(uid)
                if got:
                    found.add(got)
        missing = [r for r in rows if r.reviewee not in found]
        if missing:
            values = desired_rows(desired.values, missing)
            store.record_rejected(
                [Rejection(r, 1580306, at, row_digest(values.get(r, {})), PREFLIGHT_MESSAGE) for r in missing]
            )
            moved += missing
    return moved
