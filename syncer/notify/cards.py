"""Every word of a notification card, and the card itself (Feishu's interactive card JSON). This is the one
module a message catalogue replaces: the rest of syncer.notify carries numbers, codes and names only.

Text from files and from Feishu goes in `plain_text` elements only (never `lark_md`), so a name or a message
can't format, mention or link; links are buttons whose URLs syncer.notify.links checked. A card longer than
`limit` bytes (UTF-8 JSON) loses rows from its end, with a note that says how many; the counts stay exact."""

from __future__ import annotations

import gettext
import json
from collections.abc import Callable
from typing import Any

from syncer.notify.event import Event, Row
from syncer.notify.links import Links

Translations = gettext.NullTranslations
#: Each outcome's title, in the reader's language (syncer.i18n: every message is a literal where it is used).
TITLES: dict[str, Callable[[Translations], str]] = {
    "applied": lambda t: t.gettext("syncer apply: applied"),
    "rejected": lambda t: t.gettext("syncer apply: applied, Feishu rejected some rows"),
    "stopped": lambda t: t.gettext("syncer apply: stopped at --max-duration"),
    "interrupted": lambda t: t.gettext("syncer apply: interrupted"),
    "failed": lambda t: t.gettext("syncer apply: FAILED"),
    "drift": lambda t: t.gettext("syncer plan --refresh: Feishu differs from the YAML"),
}
COLOURS = {
    "applied": "green",
    "rejected": "orange",
    "stopped": "yellow",
    "interrupted": "yellow",
    "failed": "red",
    "drift": "orange",
}
#: A per-semester figure with its count ("{count}" in each message).
FIGURE_LABELS: dict[str, Callable[[Translations, int], str]] = {
    "rows_applied": lambda t, n: t.ngettext("{count} row applied", "{count} rows applied", n),
    "values_sent": lambda t, n: t.ngettext("{count} value sent", "{count} values sent", n),
    "rows_rejected": lambda t, n: t.ngettext("{count} row rejected", "{count} rows rejected", n),
    "rows_pending": lambda t, n: t.ngettext("{count} row pending", "{count} rows pending", n),
    "values_changed": lambda t, n: t.ngettext("{count} value changed in Feishu", "{count} values changed in Feishu", n),
    "values_cleared": lambda t, n: t.ngettext("{count} value cleared in Feishu", "{count} values cleared in Feishu", n),
    "values_unmanaged": lambda t, n: t.ngettext(
        "{count} value in Feishu syncer does not manage", "{count} values in Feishu syncer does not manage", n
    ),
}
DRIFT_REMEDY: dict[str, Callable[[Translations], str]] = {
    "changed": lambda t: t.gettext(
        "changed in Feishu: apply with --refresh to write the YAML's value back, or edit the YAML"
    ),
    "cleared": lambda t: t.gettext("cleared in Feishu: apply with --refresh to write the YAML's value back"),
    "unmanaged": lambda t: t.gettext("set in Feishu, not in the YAML: add it to the YAML to manage it"),
}


def _rows(t: Translations, n: int) -> str:
    return t.ngettext("{count} row", "{count} rows", n).format(count=n)


def headline(event: Event, t: Translations) -> str:
    """What happened, in one line."""
    n = event.changes_applied
    applied = (
        t.gettext("Applied {changes} in {rows} with {requests}.").format(
            changes=t.ngettext("{count} value change", "{count} value changes", n).format(count=n),
            rows=_rows(t, event.rows_applied),
            requests=t.ngettext("{count} import request", "{count} import requests", event.requests).format(
                count=event.requests
            ),
        )
        if event.requests
        else t.gettext("Nothing was sent.")
    )
    rejected = sum(n for s in event.semesters for k, n in s.figures if k == "rows_rejected")
    if event.outcome == "applied":
        return applied
    if event.outcome == "rejected":
        return t.gettext("{applied} Feishu rejected {rows}: someone needs to fix them (below).").format(
            applied=applied, rows=_rows(t, rejected)
        )
    if event.outcome == "stopped":
        return t.gettext("{applied} Stopped before --max-duration with {rows} left: the next run continues.").format(
            applied=applied, rows=_rows(t, event.rows_left)
        )
    if event.outcome == "interrupted":
        return t.gettext("{applied} Interrupted by {reason} with {rows} left: run apply again.").format(
            applied=applied, reason=event.reason, rows=_rows(t, event.rows_left)
        )
    if event.outcome == "failed":
        return t.gettext("The apply failed: {reason}. What was applied before is recorded; see the run's log.").format(
            reason=event.reason
        )
    found = sum(n for s in event.semesters for _, n in s.figures)
    return t.ngettext(
        "Feishu no longer holds what syncer applied: {count} value changed there since.",
        "Feishu no longer holds what syncer applied: {count} values changed there since.",
        found,
    ).format(count=found)


def _row_line(row: Row, t: Translations) -> str:
    where = f"{row.where}: " if row.where else ""
    code = f"{row.code} " if row.code is not None else ""
    remedy = DRIFT_REMEDY[row.remedy](t) if row.remedy in DRIFT_REMEDY else row.remedy
    detail = f" ({row.detail})" if row.detail is not None else ""
    return f"{where}{row.label}: {code}{remedy}{detail}"


def _text(content: str) -> dict[str, Any]:
    return {"tag": "div", "text": {"tag": "plain_text", "content": content}}


def _note(content: str) -> dict[str, Any]:
    return {"tag": "note", "elements": [{"tag": "plain_text", "content": content}]}


def _semester_line(name: str, figures: tuple[tuple[str, int], ...], t: Translations) -> str:
    parts = [FIGURE_LABELS[k](t, n).format(count=n) for k, n in figures]
    said = t.pgettext("list separator", ", ").join(parts) if parts else t.gettext("nothing sent")
    return t.gettext("{semester}: {figures}").format(semester=name, figures=said)


def build(
    event: Event, links: Links, *, values_allowed: bool, t: Translations, shown: int | None = None
) -> dict[str, Any]:
    """The card in the language of `t` (syncer.i18n.translations), with the first `shown` rows (all when None)."""
    rows = event.rows if shown is None else event.rows[:shown]
    elements: list[dict[str, Any]] = [_text(headline(event, t))]
    elements += [_text(_semester_line(s.semester, s.figures, t)) for s in event.semesters]
    if rows:
        what = (
            t.gettext("Rows Feishu rejected (file:line, row, what to do):")
            if event.outcome != "drift"
            else t.gettext("Values that differ (file:line, row, what to do):")
        )
        elements += [{"tag": "hr"}, _text(what)]
        elements += [_text(_row_line(r, t)) for r in rows]
    if len(rows) < len(event.rows):
        left = len(event.rows) - len(rows)
        elements.append(
            _note(
                t.ngettext(
                    "{count} more row not shown (the card's size limit): the run's log lists all.",
                    "{count} more rows not shown (the card's size limit): the run's log lists all.",
                    left,
                ).format(count=left)
            )
        )
    commit = (
        t.gettext("commit {commit}") if values_allowed else t.gettext("commit {commit} · values hidden (personal data)")
    )
    elements.append(_note(commit.format(commit=event.commit)))
    buttons = [
        {"tag": "button", "text": {"tag": "plain_text", "content": label}, "type": "default", "url": url}
        for label, url in ((t.gettext("Open the run"), links.run), (t.gettext("Open the pull request"), links.change))
        if url
    ]
    if buttons:
        elements.append({"tag": "action", "actions": buttons})
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": COLOURS[event.outcome],
            "title": {"tag": "plain_text", "content": TITLES[event.outcome](t)},
        },
        "elements": elements,
    }


def size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def card(event: Event, links: Links, *, values_allowed: bool, limit: int, t: Translations) -> dict[str, Any]:
    """The card in the language of `t` within `limit` bytes: as many rows as fit (found by halving, then one by
    one)."""
    full = build(event, links, values_allowed=values_allowed, t=t)
    if size(full) <= limit:
        return full
    lo, hi = 0, len(event.rows) - 1  # lo rows always fit (the card without rows is small)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(build(event, links, values_allowed=values_allowed, t=t, shown=mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return build(event, links, values_allowed=values_allowed, t=t, shown=lo)
