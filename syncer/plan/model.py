"""A plan as plain data: the changes (per value), the rows held back, the counts with their units, the
state it was made against. Everything a renderer or an apply needs, and nothing they compute again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

from syncer import __version__
from syncer.gitinfo import GitInfo
from syncer.load.settings import Safety
from syncer.model import Identity, RowKey, Source, ValueKey
from syncer.rules.load import RuleSet
from syncer.rules.model import Finding
from syncer.state.model import BatchInfo, LastApply
from syncer.text import safe

PLAN_FORMAT = 2  # 2: changes grouped by row (compact, streamed); 1 had an object per value


Action = Literal["create", "update", "repair", "forget"]


FORGET_MEANING = "forget: the value stays in Feishu (the API cannot delete it) and syncer stops managing it"


class LiveView(NamedTuple):
    """What a refresh read from Feishu (metric_details/query), in canonical form: the rows of the reviewees
    it checked. A plan made with one repairs the values Feishu holds differently from the state."""

    scope: Literal["plan", "all"]
    rows: Mapping[RowKey, Mapping[str, str]]  # field id -> live value, for the rows Feishu holds
    checked: Mapping[str, frozenset[str]]  # semester -> reviewees read
    complete: bool  # every reviewee in scope was read (within the request budget)

    def was_checked(self, semester: str, reviewee: str) -> bool:
        return reviewee in self.checked.get(semester, frozenset())

    @property
    def reviewees_checked(self) -> int:
        return sum(len(v) for v in self.checked.values())


class Change(NamedTuple):
    action: Action
    key: ValueKey
    old: str | None  # the value last applied (update, forget); Feishu's value (repair; None: cleared there)
    new: str | None  # the value the YAML holds (create, update, repair)
    source: Source | None  # where the new value is written (create, update, repair)
    batch: int | None  # the batch that applied the value last applied (update, repair, forget)


class Quarantined(NamedTuple):
    """A row Feishu rejected whose values have not changed since: listed, not sent, not counted."""

    row: RowKey
    code: int
    at: str
    message: str
    values: int  # the value changes held back
    source: Source | None

    @property
    def date(self) -> str:
        return self.at[:10]


class SemesterSummary(NamedTuple):
    semester: str
    values_managed: int  # by the state, before this plan
    values_desired: int
    values_to_create: int
    values_to_update: int
    values_to_forget: int
    values_to_repair: int
    rows_to_send: int
    requests_min: int
    rows_quarantined: int
    update_ratio: float  # updates and repairs, of the values managed
    forget_ratio: float
    guarded: bool  # the state manages at least `min_existing` values here: ratios are enforced


class SafetyBreach(NamedTuple):
    semester: str
    kind: Literal["update", "forget"]
    values: int
    values_managed: int
    ratio: float
    limit: float


class Counts(NamedTuple):
    values_to_create: int
    values_to_update: int
    values_to_forget: int
    values_to_repair: int
    values_changed: int
    rows_to_send: int
    requests_min: int
    rows_quarantined: int
    values_quarantined: int
    values_managed: int
    values_desired: int


class StateRef(NamedTuple):
    """The state a plan was made against."""

    location: str
    exists: bool
    lineage: str | None
    serial: int
    identity: Identity | None
    last_apply: LastApply | None


@dataclass(frozen=True, slots=True)
class Names:
    """Display names (catalog aliases) of the IDs a plan mentions. Never part of the checksum."""

    semesters: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (metric id, field id)
    percent: frozenset[tuple[str, str]] = frozenset()  # (metric id, field id) of the percentage fields

    # The accessors give text for output: aliases and IDs come from files (a saved plan, the catalog), so
    # they are made inert here, once for every renderer.

    def semester(self, sid: str) -> str:
        return safe(self.semesters.get(sid, sid))

    def person(self, pid: str) -> str:
        return safe(self.people.get(pid, pid))

    def alias(self, pid: str) -> str | None:
        """A person's alias for output, or None when the catalog gives the ID no alias."""
        alias = self.people.get(pid)
        return None if alias is None else safe(alias)

    def semester_alias(self, sid: str) -> str | None:
        alias = self.semesters.get(sid)
        return None if alias is None else safe(alias)

    def metric(self, mid: str) -> str:
        return safe(self.metrics.get(mid, mid))

    def field(self, mid: str, fid: str) -> str:
        return safe(self.fields.get((mid, fid), fid))

    def unit(self, mid: str, fid: str) -> str:
        """What follows a value of the field when a plan shows it: `%` for a percentage (whose canonical
        value is the bare number: `40` is shown as 40%), else nothing."""
        return "%" if (mid, fid) in self.percent else ""


@dataclass(frozen=True, slots=True)
class Targeting:
    """What a targeted plan covers (`--semester`, `--path`): semester IDs, and globs of data files relative
    to the root. Either part empty means no restriction by it; both empty is no targeting at all."""

    semesters: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()  # sorted, without duplicates

    def __bool__(self) -> bool:
        return bool(self.semesters or self.paths)

    @classmethod
    def of(cls, semesters: Iterable[str] = (), paths: Iterable[str] = ()) -> Targeting:
        return cls(frozenset(semesters), tuple(sorted(set(paths))))

    def key(self) -> dict[str, list[str]]:
        """What the targeting is, as the checksum and the plan document hold it."""
        return {"semesters": sorted(self.semesters), "paths": list(self.paths)}


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What a plan is made with besides the YAML and the state: the run it describes (the safety settings,
    git, the target, where the state lives, the root as shown) and what was asked of it (the flags)."""

    safety: Safety
    git: GitInfo
    target: Identity
    state_location: str
    root: str = ""
    notes: tuple[str, ...] = ()  # said before the plan's own notes
    retry_rejected: bool = False  # --retry-rejected: rejected rows are not held back
    force: bool = False  # --force: recorded in the plan (apply then goes past the thresholds)
    live: LiveView | None = None  # what --refresh read: the values Feishu holds otherwise become repairs
    percentage_format: str = "40%"  # how a rejected row's sent form is digested
    version: str = __version__
    targeting: Targeting | None = None  # --semester, --path: only that part is compared
    rules: RuleSet = field(default_factory=RuleSet)  # the root's rules (syncer.rules), judged on the changes
    today: date | None = None  # the date the rules see (None: today's)


class TargetingSummary(NamedTuple):
    """A targeted plan's targeting and what it left out. What it left out is not compared with the state,
    not forgotten, and not judged by the safety thresholds: the state keeps it as it is."""

    targeting: Targeting
    semesters_left_out: int  # open semesters with values (in the YAML or the state) none of which is in the target
    files_left_out: int  # data files holding values outside the target
    values_left_out: int  # values of the YAML outside the target (open semesters)
    values_managed_left_out: int  # values the state manages outside the target: untouched
    forgets_left_out: int  # of those, values gone from the YAML: a plan that targets them forgets them


class Refresh(NamedTuple):
    """How much of Feishu a plan compared with (its LiveView without the values)."""

    scope: Literal["plan", "all"]
    reviewees_checked: int
    complete: bool


@dataclass(frozen=True, slots=True)
class Plan:
    format: int
    syncer_version: str
    root: str
    git: GitInfo
    state: StateRef
    target: Identity
    safety: Safety
    changes: tuple[Change, ...]
    quarantined: tuple[Quarantined, ...]
    semesters: tuple[SemesterSummary, ...]
    breaches: tuple[SafetyBreach, ...]
    counts: Counts
    batches: Mapping[int, BatchInfo]  # the batches that changes refer to
    names: Names
    notes: tuple[str, ...]
    forced: bool
    checksum: str
    refreshed: Refresh | None = None  # what was read from Feishu for this plan (None: Feishu was not read)
    targeting: TargetingSummary | None = None  # None: the plan covers every open semester and data file
    findings: tuple[Finding, ...] = ()  # the rules' findings on the changes (sorted by place)
    rules: tuple[str, ...] = ()  # the names of the rules that judged the plan

    @property
    def denied(self) -> bool:
        """A `deny` rule found a change: apply refuses the plan, --force or not (change the rule instead)."""
        return any(f.denies for f in self.findings)

    @property
    def empty(self) -> bool:
        """Nothing to change (forgets count as changes; held-back rejected rows do not)."""
        return not self.changes

    @property
    def refused(self) -> bool:
        """The plan passes a safety threshold and --force was not given, or a deny rule found a change:
        apply would refuse it."""
        return (bool(self.breaches) and not self.forced) or self.denied

    def rows_by_semester(self) -> dict[str, tuple[RowKey, ...]]:
        """The rows apply must send, per semester, sorted (forgets send nothing)."""
        out: dict[str, set[RowKey]] = {}
        for c in self.changes:
            if c.action != "forget":
                out.setdefault(c.key.semester, set()).add(c.key.row)
        return {sem: tuple(sorted(rows)) for sem, rows in sorted(out.items())}

    def forgotten(self) -> tuple[ValueKey, ...]:
        return tuple(c.key for c in self.changes if c.action == "forget")
