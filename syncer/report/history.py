"""The renderer of `syncer state history`: a History in, text or JSON out. Values are left out when
redacting; aliases of the catalog are shown next to the IDs."""

from __future__ import annotations

import json
from typing import Any, assert_never

from syncer.model import Catalog
from syncer.problems import REDACTED
from syncer.report.formats import StateFormat
from syncer.state.history import Change, History
from syncer.state.listing import ListNames
from syncer.text import inert_lines, plural


class Names:
    """The catalog's aliases of the IDs a history names."""

    def __init__(self, catalog: Catalog | None) -> None:
        names = ListNames.of(catalog)  # one ID namespace: semesters, then people, then metrics
        self.ids: dict[str, str] = {**names.semesters, **names.people, **names.metrics}
        self.fields: dict[tuple[str, str], str] = names.fields

    def of(self, some_id: str) -> str | None:
        return self.ids.get(some_id)

    def field(self, metric: str, field_id: str) -> str | None:
        return self.fields.get((metric, field_id))


def render_history(history: History, *, catalog: Catalog | None, fmt: StateFormat, redact: bool) -> str:
    names = Names(catalog)
    if fmt == "json":
        return json.dumps(history_document(history, names, redact=redact), ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        return render_text(history, names, redact=redact)
    assert_never(fmt)


def _change(c: Change, names: Names, *, redact: bool) -> dict[str, Any]:
    b = c.batch
    return {
        "semester": c.semester,
        "semester_name": names.of(c.semester),
        "reviewee": c.reviewee,
        "reviewee_name": names.of(c.reviewee),
        "metric": c.metric,
        "metric_name": names.of(c.metric),
        "field": c.field,
        "field_name": names.field(c.metric, c.field),
        "op": c.op,
        "value": None if redact or c.value is None else c.value,
        "at": c.at,
        "reason": c.reason or None,
        "batch": b.id if b else None,
        "commit": b.commit if b else None,
        "import_record_id": b.import_record_id if b else None,
        "import_record_name": b.import_record_name if b else None,
        "client_token": b.client_token if b else None,
    }


def history_document(history: History, names: Names, *, redact: bool) -> dict[str, Any]:
    return {
        "complete": history.complete,
        "kept": history.kept,
        "redacted": redact,
        "changes": [_change(c, names, redact=redact) for c in history.changes],
    }


def _named(some_id: str, alias: str | None) -> str:
    return f"{alias} ({some_id})" if alias else some_id


def render_text(history: History, names: Names, *, redact: bool) -> str:
    lines: list[str] = []
    if not history.changes:
        lines.append("No change of a managed value matches.")
    last_key: tuple[str, str, str, str] | None = None
    for c in history.changes:
        key = (c.semester, c.reviewee, c.metric, c.field)
        if key != last_key:
            field = names.field(c.metric, c.field)
            lines.append(
                f"{_named(c.semester, names.of(c.semester))} {_named(c.reviewee, names.of(c.reviewee))} "
                f"{_named(c.metric, names.of(c.metric))} {_named(c.field, field)}:"
            )
            last_key = key
        b = c.batch
        if c.op == "forget":
            why = f" ({c.reason})" if c.reason else ""
            lines.append(f"  {c.at}  no longer managed{why}")
            continue
        value = REDACTED if redact else json.dumps(c.value, ensure_ascii=False)
        if b is None:
            lines.append(f"  {c.at or '(time unknown)'}  set to {value} (its batch is no longer in the state)")
            continue
        record = b.import_record_id or "unknown"
        lines.append(
            f"  {c.at}  set to {value} by batch {b.id}: commit {b.commit[:12]}, import record {record} "
            f"({json.dumps(b.import_record_name, ensure_ascii=False)})"
        )
    n = len(history.changes)
    lines.append("")
    lines.append(f"{plural(n, 'change')}; {history.kept}.")
    return inert_lines(lines)
