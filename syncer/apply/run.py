"""One apply run, end to end, under the state's lock: settle the journal, plan, check (safety, the saved
plan, the ancestry of the commit), confirm, pre-flight, push (syncer.apply.applier.Applier), compact."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from syncer.apply.answer import Unconfirmed
from syncer.apply.applier import Applier
from syncer.apply.context import ApplyOptions, Collaborators, Listeners, now_utc
from syncer.apply.outcome import ApplyReport, ProgressFn, RejectedRow, StepHook, Stopped, StopRequest
from syncer.apply.preflight import preflight_reviewees
from syncer.errors import RefusedError, StateWriteError
from syncer.feishu.codes import describe
from syncer.feishu.pacing import Pacer, SharedQuota
from syncer.feishu.write import WriteClient
from syncer.gitinfo import GitInfo
from syncer.load.settings import Settings
from syncer.model import DesiredState, Identity, RowKey
from syncer.plan.diff import make_plan
from syncer.plan.model import PLAN_FORMAT, LiveView, Plan, PlanOptions, Targeting
from syncer.plan.safety import check_safety
from syncer.plan.targeting import flags, from_document
from syncer.rules.load import RuleSet
from syncer.state import load_checked
from syncer.state.model import State, parse_time
from syncer.state.protocols import SharedPacing, WritableStore
from syncer.urls import host_of


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the user asked of this apply (the flags of `syncer apply`)."""

    max_duration: float | None = None  # --max-duration: stop before a request that would end later
    retry_rejected: bool = False  # --retry-rejected: send rows Feishu rejected before
    force: bool = False  # --force: past safety thresholds and the ancestry check
    preflight: bool = False  # --preflight: check the reviewees before sending
    saved_plan: Mapping[str, object] | None = None  # --plan FILE: apply only if this is still the plan
    targeting: Targeting | None = None  # --semester, --path (or a saved plan's): apply only that part
    rules: RuleSet = field(default_factory=RuleSet)  # not a flag: the root's rules, a deny refuses the plan


@dataclass(frozen=True, slots=True)
class Clocks:
    """The clocks of a run, injectable: `clock` stamps records, `timer` (epoch seconds) and `sleep` pace."""

    clock: Callable[[], datetime] = now_utc
    timer: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def pacer_for(
    settings: Settings,
    state: State | None,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    shared: SharedQuota | None = None,
) -> Pacer:
    """Requests evenly spaced at 60/import_per_minute s, continuing from the last request in the state; with
    `shared` (a store that keeps one quota per app), spaced from every other apply of the app too."""
    last = None
    if state is not None and state.meta.last_import_request:
        last = parse_time(state.meta.last_import_request).timestamp()
    return Pacer.per_minute(
        settings.target.import_per_minute, last_request_at=last, clock=clock, sleep=sleep, shared=shared
    )


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


_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}\Z")


def read_saved_plan(text: str, *, display: str) -> Mapping[str, object]:
    """A plan file (`syncer plan --out`) as `apply --plan` needs it: the parts compared with the fresh plan
    checked for shape, so a wrong or damaged file is one clear error rather than a surprise later."""
    what = f"{display}: not a plan file written by `syncer plan --out`"
    try:
        doc = json.loads(text)
    except RecursionError:
        raise RefusedError(f"{what} (JSON nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError names line and column
        raise RefusedError(f"{what} (not JSON: {exc})") from None
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
        raise RefusedError(f"{what} (JSON {kind}, not an object)")
    if doc.get("plan_format") != PLAN_FORMAT:
        raise RefusedError(f"{what} (plan_format {doc.get('plan_format')!r}; this syncer writes {PLAN_FORMAT})")
    if not isinstance(doc.get("checksum"), str) or not _CHECKSUM.match(doc["checksum"]):
        raise RefusedError(f"{what} (no checksum of the form sha256:<64 hex digits>)")
    state = doc.get("state")
    if not isinstance(state, dict) or not isinstance(state.get("lineage"), (str, type(None))):
        raise RefusedError(f"{what} (no state object with a lineage)")
    if not isinstance(state.get("serial"), (int, type(None))) or isinstance(state.get("serial"), bool):
        raise RefusedError(f"{what} (the state's serial is not a number)")
    targeting = doc.get("targeting")
    if targeting is not None and not (
        isinstance(targeting, dict)
        and all(
            isinstance(targeting.get(part), list) and all(isinstance(x, str) and x for x in targeting[part])
            for part in ("semesters", "paths")
        )
    ):
        raise RefusedError(f"{what} (its targeting is not an object with lists of semesters and paths)")
    return doc


def applied_targeting(
    saved: Mapping[str, object] | None, asked: Targeting | None, *, semester_names: Mapping[str, str] | None = None
) -> Targeting | None:
    """What an apply targets: the flags (--semester, --path), or with `--plan FILE` the saved plan's own
    targeting. A saved plan applies only as it was planned: flags that target otherwise are refused."""
    if saved is None:
        return asked
    planned = from_document(saved.get("targeting"))
    if asked is not None and asked != planned:
        made = (
            f"with {flags(planned, semester_names)}"
            if planned is not None
            else "without --semester/--path (of everything)"
        )
        raise RefusedError(
            f"the saved plan was made {made}, and applies only as it was made: drop --semester/--path "
            "(the plan's own targeting is used), or make a new plan with the targeting you want"
        )
    return planned


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
        refreshed = saved.get("refreshed") is not None
        planned = from_document(saved.get("targeting"))
        now = fresh.targeting.targeting if fresh.targeting is not None else None
        if refreshed and fresh.refreshed is None:
            reasons.append("it was made with --refresh/--refresh-all (it repairs drift): apply with the same flag")
        elif fresh.refreshed is not None and not refreshed:
            reasons.append("this apply reads Feishu (--refresh) but the saved plan did not: drop the flag")
        elif planned != now:
            reasons.append("it was made with another targeting (--semester, --path) than this apply's")
        else:
            reasons.append("the YAML or the target changed since (the checksum differs)")
    if reasons:
        raise RefusedError(
            "the saved plan is stale: " + "; ".join(reasons) + ". Run `syncer plan --out FILE` again and review it"
        )


#: Reads Feishu for a plan (`--refresh`): given the plan made without it and the state, the live values.
Refresher = Callable[[Plan, State | None], LiveView]


def run_apply(
    *,
    store: WritableStore,
    client: WriteClient,
    settings: Settings,
    desired: DesiredState,
    git: GitInfo,
    root: str,
    commit_is_ancestor: Callable[[str, str], bool | None],
    confirm: Callable[[Plan], bool],
    options: RunOptions = RunOptions(),
    refresh: Refresher | None = None,
    stop: StopRequest | None = None,
    progress: ProgressFn | None = None,
    step_hook: StepHook | None = None,
    clocks: Clocks = Clocks(),
) -> ApplyRun:
    """The whole apply under the state's lock: settle the journal, plan (reading Feishu first with
    `refresh`), check, confirm, push, record.

    `confirm` sees the plan and says whether to go on (the CLI asks on a terminal, or --auto-approve). `stop`
    is honoured between requests while requests are being sent (settling and pushing), not while the plan
    is made or confirmed. The credentials are checked (a tenant token fetched) before anything else, so
    that no state is ever bound to an app whose secret is wrong."""
    client.authenticate()
    target = Identity(host=host_of(client.base_url), app_id=client.app_id, user_id_type=settings.target.user_id_type)
    with store.locked(command="apply"):
        state, notes = load_checked(store, target=target)
        if store.taken_over is not None:
            dead = store.taken_over
            notes += (
                f"took over the lock of {dead.command or 'a writer'} (pid {dead.pid} on {dead.host}, since "
                f"{dead.time}): it is gone; what it left open in the journal is settled first",
            )
        shared = store.import_quota(target) if isinstance(store, SharedPacing) else None
        pacer = pacer_for(settings, state, clock=clocks.timer, sleep=clocks.sleep, shared=shared)
        applier = Applier(
            ApplyOptions(
                settings=settings,
                desired=desired,
                record_name=render_record_name(
                    settings.import_record_name, commit=git.commit, short=git.short, now=clocks.clock()
                ),
                commit=git.commit,
                max_duration=options.max_duration,
                force=options.force,
            ),
            Collaborators(store=store, client=client, pacer=pacer, clock=clocks.clock, timer=clocks.timer),
            Listeners(stop=stop, progress=progress, step_hook=step_hook),
        )
        try:
            if state is not None and state.journal:
                with _armed(stop):
                    applier.settle(state)
                state = store.load()
        except Stopped:
            applier.report.interrupted = stop.reason if stop is not None and stop.reason else "SIGINT"
            _compact(store, applier.report)
            return ApplyRun(_plan(desired, state, settings, git, target, store, root, notes, options), applier.report)
        except Unconfirmed as exc:  # an open entry may have landed: nothing is planned or sent until it is settled
            applier.report.aborted = str(exc)
            _compact(store, applier.report)
            state = store.load()
            return ApplyRun(_plan(desired, state, settings, git, target, store, root, notes, options), applier.report)
        check_ancestry(state, commit=git.commit, is_ancestor=commit_is_ancestor, force=options.force)
        plan = _plan(desired, state, settings, git, target, store, root, notes, options)
        if refresh is not None:
            plan = _plan(desired, state, settings, git, target, store, root, notes, options, live=refresh(plan, state))
        if options.saved_plan is not None:
            check_saved_plan(options.saved_plan, plan)
        check_safety(plan, force=options.force)
        if plan.empty:
            applier.note_quarantined(plan)
            _compact(store, applier.report)
            return ApplyRun(plan, applier.report)
        if not confirm(plan):
            raise RefusedError("apply cancelled: nothing was sent")
        if state is None:  # created only now, so that a plan saved before the first apply still matches
            state = store.create(target)
        skip: frozenset[RowKey] = frozenset()
        if options.preflight:
            moved = preflight_reviewees(plan, client=client, settings=settings)
            info = describe(1580306)
            for row, why in moved.items():  # held back for this run, not rejected: Feishu refused none of them
                remedy = why.remedy or info.remedy
                applier.report.held.append(
                    RejectedRow(row, 1580306, info.meaning, remedy, why.message, desired.rows.get(row), new=True)
                )
            skip = frozenset(moved)
        with _armed(stop):
            report = applier.apply(plan, state, skip=skip)
        _compact(store, report)
        return ApplyRun(plan, report)


def _compact(store: WritableStore, report: ApplyReport) -> None:
    """Compact the state at the end of a run. The operating system refusing it (a full disk) loses nothing, as
    every write of the run is in the state's log already, but it is a failure all the same: the run says so and
    exits 1 (unless it stopped on a failure of its own, which is the one to tell)."""
    try:
        store.compact()
    except StateWriteError as exc:
        if report.aborted is None:
            report.aborted = (
                f"{exc}. Everything this run applied is recorded in the state's log; only compacting it failed, "
                "and the next run compacts it"
            )


def _plan(
    desired: DesiredState,
    state: State | None,
    settings: Settings,
    git: GitInfo,
    target: Identity,
    store: WritableStore,
    root: str,
    notes: tuple[str, ...],
    options: RunOptions,
    *,
    live: LiveView | None = None,
) -> Plan:
    return make_plan(
        desired,
        state,
        PlanOptions(
            safety=settings.safety,
            git=git,
            target=target,
            state_location=store.location,
            root=root,
            notes=notes,
            retry_rejected=options.retry_rejected,
            force=options.force,
            live=live,
            percentage_format=settings.target.percentage_format,
            targeting=options.targeting,
            rules=options.rules,
        ),
    )


@contextlib.contextmanager
def _armed(stop: StopRequest | None) -> Iterator[None]:
    """A stop request counts while requests are sent (between them): elsewhere a signal stops at once."""
    if stop is None:
        yield
        return
    stop.armed = True
    try:
        yield
    finally:
        stop.armed = False
