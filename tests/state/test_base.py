"""syncer.state.base: what every backend shares, where it is more than the conformance suite shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncer.model import RowKey
from syncer.state.base import batch_rows
from syncer.state.model import BatchRecord

EARLIER, SEM, OTHER = "7000000000000000000", "7000000000000000001", "7000000000000000002"


def _batch(*semesters: str) -> BatchRecord:
    rows = {RowKey(s, f"ou_{i}", "7100000000000000001"): {"4": str(i)} for i, s in enumerate(semesters)}
    return BatchRecord(SEM, "tok", "rec", "c" * 40, "syncer", datetime(2026, 1, 1, tzinfo=UTC), rows)


def test_a_batchs_rows_come_sorted_with_their_fields() -> None:
    same = "".join(["7000000000000000", "001"])  # equal to the batch's semester, not the same object
    assert batch_rows(_batch(same, SEM)) == [
        (RowKey(SEM, "ou_0", "7100000000000000001"), {"4": "0"}),
        (RowKey(SEM, "ou_1", "7100000000000000001"), {"4": "1"}),
    ]


def test_a_row_of_another_semester_is_refused() -> None:
    for other in (OTHER, EARLIER):
        with pytest.raises(ValueError, match="is not of the batch's semester"):
            batch_rows(_batch(SEM, other))
