"""What both reports share: which team a data file is, values as shown (or masked), numbers read from
canonical values, and the cap on detail rows.

A team is a data file: the catalog groups no one into teams or departments, and the example root (and the
layout the README suggests) keeps one file a team (`teams/sales.yaml` is the team `teams/sales`). A row the
YAML no longer holds (a forget) has no file: its team is `NO_TEAM`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from syncer.plan.model import Names
from syncer.problems import REDACTED

#: Detail rows a page lists at most, all tables together (the aggregates above them are always whole).
MAX_DETAIL_ROWS = 2000
#: The team of a value no data file holds (forgotten, or managed but gone from the YAML).
NO_TEAM = "—"
#: Bars in a chart of teams or of team and metric (the rest are summed up in the note below the chart).
MAX_TEAMS = 30


def team_of(file: str | None, root: str) -> str:
    """The team of a data file shown as `root/...` (`metrics/teams/sales.yaml` -> `teams/sales`)."""
    if not file:
        return NO_TEAM
    prefix = root.rstrip("/") + "/"
    rel = file[len(prefix) :] if root and file.startswith(prefix) else file
    for suffix in (".yaml", ".yml"):
        if rel.endswith(suffix):
            return rel[: -len(suffix)]
    return rel


def number(value: str | None) -> Decimal | None:
    """A canonical number or percentage as a Decimal; None for anything else."""
    if value is None:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def shown(value: str | None, names: Names, *, redact: bool, unit: str = "") -> str:
    """A value as a table shows it: masked when redacting, a person with their alias, a percentage with `%`."""
    if value is None:
        return ""
    if redact:
        return REDACTED
    alias = names.alias(value)
    return f"{value}{unit} ({alias})" if alias else f"{value}{unit}"


class Capped(NamedTuple):
    """Detail rows within the page's budget, and how many were left out."""

    rows: list[dict[str, str]]
    cut: int


class Budget:
    """The detail rows a page may still list (MAX_DETAIL_ROWS in all)."""

    def __init__(self, total: int | None = None) -> None:
        self.left = MAX_DETAIL_ROWS if total is None else total

    def take(self, rows: list[dict[str, str]]) -> Capped:
        kept = rows[: max(self.left, 0)]
        self.left -= len(kept)
        return Capped(kept, len(rows) - len(kept))
