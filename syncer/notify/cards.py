"""Every word of a notification card, and the card itself (Feishu's interactive card JSON). This is the one
module a message catalogue replaces: the rest of syncer.notify carries numbers, codes and names only.

Text from files and from Feishu goes in `plain_text` elements only (never `lark_md`), so a name or a message
can't format, mention or link; links are buttons whose URLs syncer.notify.links checked. A card longer than
`limit` bytes (UTF-8 JSON) loses rows from its end, with a note that says how many; the counts stay exact."""

from __future__ import annotations

import json
from typing import Any

from syncer.notify.event import Event, Row
from syncer.notify.links import Links
from syncer.text import plural

TITLES = {
    "applied": "syncer apply: applied",
    "rejected": "syncer apply: applied, Feishu rejected some rows",
    "stopped": "syncer apply: stopped at --max-duration",
    "interrupted": "syncer apply: interrupted",
    "failed": "syncer apply: FAILED",
    "drift": "syncer plan --refresh: Feishu differs from the YAML",
}
COLOURS = {
    "applied": "green",
    "rejected": "orange",
    "stopped": "yellow",
    "interrupted": "yellow",
    "failed": "red",
    "drift": "orange",
}
FIGURE_LABELS = {
    "rows_applied": ("row applied", "rows applied"),
    "values_sent": ("value sent", "values sent"),
    "rows_rejected": ("row rejected", "rows rejected"),
    "rows_pending": ("row pending", "rows pending"),
    "values_changed": ("value changed in Feishu", "values changed in Feishu"),
    "values_cleared": ("value cleared in Feishu", "values cleared in Feishu"),
    "values_unmanaged": ("value in Feishu syncer does not manage", "values in Feishu syncer does not manage"),
}
DRIFT_REMEDY = {
    "changed": "changed in Feishu: apply with --refresh to write the YAML's value back, or edit the YAML",
    "cleared": "cleared in Feishu: apply with --refresh to write the YAML's value back",
    "unmanaged": "set in Feishu, not in the YAML: add it to the YAML to manage it",
}


def headline(event: Event) -> str:
    """What happened, in one line."""
    applied = (
        f"Applied {plural(event.changes_applied, 'value change')} in {plural(event.rows_applied, 'row')} "
        f"with {plural(event.requests, 'import request')}."
        if event.requests
        else "Nothing was sent."
    )
    rejected = sum(n for s in event.semesters for k, n in s.figures if k == "rows_rejected")
    if event.outcome == "applied":
        return applied
    if event.outcome == "rejected":
        return f"{applied} Feishu rejected {plural(rejected, 'row')}: someone needs to fix them (below)."
    if event.outcome == "stopped":
        left = plural(event.rows_left, "row")
        return f"{applied} Stopped before --max-duration with {left} left: the next run continues."
    if event.outcome == "interrupted":
        return f"{applied} Interrupted by {event.reason} with {plural(event.rows_left, 'row')} left: run apply again."
    if event.outcome == "failed":
        return f"The apply failed: {event.reason}. What was applied before is recorded; see the run's log."
    found = sum(n for s in event.semesters for _, n in s.figures)
    return f"Feishu no longer holds what syncer applied: {plural(found, 'value')} changed there since."


def _row_line(row: Row) -> str:
    where = f"{row.where}: " if row.where else ""
    code = f"{row.code} " if row.code is not None else ""
    remedy = DRIFT_REMEDY.get(row.remedy, row.remedy)
    detail = f" ({row.detail})" if row.detail is not None else ""
    return f"{where}{row.label}: {code}{remedy}{detail}"


def _text(content: str) -> dict[str, Any]:
    return {"tag": "div", "text": {"tag": "plain_text", "content": content}}


def _note(content: str) -> dict[str, Any]:
    return {"tag": "note", "elements": [{"tag": "plain_text", "content": content}]}


def _semester_line(name: str, figures: tuple[tuple[str, int], ...]) -> str:
    parts = [f"{n} {FIGURE_LABELS[k][0 if n == 1 else 1]}" for k, n in figures]
    return f"{name}: {', '.join(parts) if parts else 'nothing sent'}"


def build(event: Event, links: Links, *, values_allowed: bool, shown: int | None = None) -> dict[str, Any]:
    """The card, with the first `shown` rows (all when None)."""
    rows = event.rows if shown is None else event.rows[:shown]
    elements: list[dict[str, Any]] = [_text(headline(event))]
    elements += [_text(_semester_line(s.semester, s.figures)) for s in event.semesters]
    if rows:
        what = "Rows Feishu rejected" if event.outcome != "drift" else "Values that differ"
        elements += [{"tag": "hr"}, _text(f"{what} (file:line, row, what to do):")]
        elements += [_text(_row_line(r)) for r in rows]
    if len(rows) < len(event.rows):
        left = len(event.rows) - len(rows)
        elements.append(
            _note(f"{plural(left, 'more row')} not shown (the card's size limit): the run's log lists all.")
        )
    privacy = "" if values_allowed else " · values hidden (personal data)"
    elements.append(_note(f"commit {event.commit}{privacy}"))
    buttons = [
        {"tag": "button", "text": {"tag": "plain_text", "content": label}, "type": "default", "url": url}
        for label, url in (("Open the run", links.run), ("Open the pull request", links.change))
        if url
    ]
    if buttons:
        elements.append({"tag": "action", "actions": buttons})
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": COLOURS[event.outcome],
            "title": {"tag": "plain_text", "content": TITLES[event.outcome]},
        },
        "elements": elements,
    }


def size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def card(event: Event, links: Links, *, values_allowed: bool, limit: int) -> dict[str, Any]:
    """The card within `limit` bytes: as many rows as fit (found by halving, then one by one)."""
    full = build(event, links, values_allowed=values_allowed)
    if size(full) <= limit:
        return full
    lo, hi = 0, len(event.rows) - 1  # lo rows always fit (the card without rows is small)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(build(event, links, values_allowed=values_allowed, shown=mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return build(event, links, values_allowed=values_allowed, shown=lo)
