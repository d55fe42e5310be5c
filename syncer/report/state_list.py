"""Renderers of `syncer state list`: managed values in, text or JSON out, in pieces (a state of a million
values is never one string).

- `text`: one line per value: semester, reviewee, metric.field (catalog aliases where it has them, else
  IDs), the value as last applied (JSON-quoted, or `(redacted)`), then the batch that applied it: its
  time, commit and import record.
- `json`: `{"location", "redacted", "values": [...], "count"}`, each value with its IDs, their aliases
  (null where the catalog has none), the value (null when redacted) and its batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, assert_never

from syncer.problems import REDACTED
from syncer.report.formats import StateFormat
from syncer.state.listing import ListNames, ManagedValue
from syncer.text import plural, safe


def render_list(
    values: Iterable[ManagedValue], names: ListNames, fmt: StateFormat, *, location: str, redact: bool
) -> Iterator[str]:
    if fmt == "json":
        return _json(values, names, location=location, redact=redact)
    if fmt == "text":
        return _text(values, names, redact=redact)
    assert_never(fmt)


def _text(values: Iterable[ManagedValue], names: ListNames, *, redact: bool) -> Iterator[str]:
    count = 0
    rows: set[tuple[str, str, str]] = set()
    lines: list[str] = []
    for v in values:
        k = v.key
        count += 1
        rows.add((k[0], k[1], k[2]))
        field = names.fields.get((k.metric, k.field), k.field)
        shown = REDACTED if redact else json.dumps(v.value, ensure_ascii=False)
        if not redact and (k.metric, k.field) in names.person_fields and v.value in names.people:
            shown += f" ({names.people[v.value]})"
        b = v.applied_by
        applied = (
            f"batch {v.batch} on {b.time} at commit {b.commit[:12]}, import record {b.import_record_id}"
            if b is not None
            else f"batch {v.batch}"
        )
        lines.append(
            safe(
                f"{names.semesters.get(k.semester, k.semester)}  {names.people.get(k.reviewee, k.reviewee)}  "
                f"{names.metrics.get(k.metric, k.metric)}.{field} = {shown}  ({applied})"
            )
        )
        if len(lines) >= 1000:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"
    yield (
        f"{plural(count, 'managed value')} in {plural(len(rows), 'row')}.\n" if count else "No managed value matches.\n"
    )


def value_document(v: ManagedValue, names: ListNames, *, redact: bool) -> dict[str, Any]:
    k = v.key
    b = v.applied_by
    return {
        "semester": k.semester,
        "reviewee": k.reviewee,
        "metric": k.metric,
        "field": k.field,
        "names": {
            "semester": names.semesters.get(k.semester),
            "reviewee": names.people.get(k.reviewee),
            "metric": names.metrics.get(k.metric),
            "field": names.fields.get((k.metric, k.field)),
        },
        "value": None if redact else v.value,
        "batch": v.batch,
        "applied_at": b.time if b is not None else None,
        "commit": b.commit if b is not None else None,
        "import_record_id": b.import_record_id if b is not None else None,
    }


def _json(values: Iterable[ManagedValue], names: ListNames, *, location: str, redact: bool) -> Iterator[str]:
    head = json.dumps({"location": location, "redacted": redact}, ensure_ascii=False)
    yield head[:-1] + ', "values": ['
    count = 0
    pieces: list[str] = []
    for v in values:
        pieces.append(
            ("\n  " if count == 0 else ",\n  ")
            + json.dumps(value_document(v, names, redact=redact), ensure_ascii=False)
        )
        count += 1
        if len(pieces) >= 1000:
            yield "".join(pieces)
            pieces.clear()
    yield "".join(pieces)
    yield f'{chr(10) if count else ""}], "count": {count}}}\n'
