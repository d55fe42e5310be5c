"""What an export writes, before any file format: one table per semester, its columns and its rows of
text (None: no value), and what each column holds (for a workbook's drop-downs and checks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: What a column's cells hold: a metric alias, a person, a number, a percentage, or anything (text).
ColumnKind = Literal["metric", "person", "number", "percentage", "text", "key"]


@dataclass(frozen=True, slots=True)
class OutTable:
    semester: str  # the semester as the sheet names it (its alias, else its ID)
    semester_id: str
    columns: tuple[str, ...]
    kinds: tuple[ColumnKind, ...]
    rows: tuple[tuple[str | None, ...], ...]
    sources: tuple[str, ...]  # per row: where it is written (file:line:col), for messages
    closed: bool = False  # a closed semester: nothing of it may change (syncer.sheet.protect)
    admin: tuple[frozenset[str], ...] = ()  # per row: the fields admins enter in Feishu, which may not change


@dataclass(frozen=True, slots=True)
class Lists:
    """The choices of the drop-downs: metric aliases and people aliases, in catalog order."""

    metrics: tuple[str, ...]
    people: tuple[str, ...]
