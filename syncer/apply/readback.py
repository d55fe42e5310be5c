"""Reading a batch's rows back (metric_details/query) to learn whether Feishu holds what a batch sent,
when its answer could not say: held, absent, or unknown (which is never recorded as applied)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

from syncer.errors import FeishuError, SyncerError
from syncer.feishu.client import QUERY_CHUNK
from syncer.feishu.errors import RevieweeRejected, RowRejected
from syncer.feishu.records import RevieweeMetrics
from syncer.feishu.values import Unrepresentable, canonical_remote
from syncer.feishu.write import WriteClient
from syncer.model import Catalog, RowKey, UserIdType
from syncer.text import plural


class Verdict(NamedTuple):
    """What reading a batch's rows back says: held (every value is there), absent (a value is not), or
    unknown (the rows could not all be read), with why."""

    kind: Literal["held", "absent", "unknown"]
    why: str = ""


def read_back(
    client: WriteClient, catalog: Catalog, semester: str, rows: Mapping[RowKey, Mapping[str, str]], uid: UserIdType
) -> Verdict:
    """Read the rows back (metric_details/query, 50 reviewees a request) and compare them with what the
    batch sent. A reviewee the read refuses by name is left out (its rows cannot be judged); a value that
    is not there settles it: absent."""
    reviewees = sorted({r.reviewee for r in rows})
    answers: list[RevieweeMetrics] = []
    unread: set[str] = set()
    for start in range(0, len(reviewees), QUERY_CHUNK):
        chunk = reviewees[start : start + QUERY_CHUNK]
        for _attempt in range(3):
            if not chunk:
                break
            try:
                answers += client.query_metric_details(semester_id=semester, reviewee_user_ids=chunk, user_id_type=uid)
                break
            except (RevieweeRejected, RowRejected) as exc:
                said = " ".join((exc.msg, *exc.violations))  # the refusal may name the reviewees
                named = {r for r in chunk if r in said}
                if not named:
                    return Verdict("unknown", f"the read was refused with {exc.code} ({exc.meaning})")
                unread |= named
                chunk = [r for r in chunk if r not in named]
            except (FeishuError, SyncerError) as exc:
                return Verdict("unknown", f"the read failed: {type(exc).__name__}")
        else:
            return Verdict("unknown", "the read kept being refused")
    held: dict[RowKey, dict[str, str | None]] = {}
    metrics = {m.id: m for m in catalog.metrics.values()}
    for rm in answers:
        rid = rm.reviewee.get(uid)
        if not rid:  # an answer that does not say whose values these are settles nothing
            return Verdict("unknown", f"the read answer names a reviewee without its {uid}")
        for metric in rm.metrics:
            mdef = metrics.get(metric.metric_id)
            row = RowKey(semester, rid, metric.metric_id)
            for f in metric.fields:
                fdef = mdef.field_by_id(f.field_id) if mdef is not None else None
                if fdef is None:
                    continue
                try:
                    held.setdefault(row, {})[f.field_id] = canonical_remote(fdef, f, uid)
                except Unrepresentable:
                    held.setdefault(row, {})[f.field_id] = None
    for row, values in rows.items():
        if row.reviewee in unread:
            continue
        live = held.get(row, {})
        if any(live.get(fid) != value for fid, value in values.items()):
            return Verdict("absent", "a value of the batch is not in Feishu")
    if unread:
        return Verdict("unknown", f"Feishu refused to read {plural(len(unread), 'reviewee')} of the batch")
    return Verdict("held")
