"""What `syncer state list` lists: the managed values a selection picks, sorted by IDs, each with its batch."""

from __future__ import annotations

from syncer.model import Catalog, MetricDef, PersonDef, SemesterDef, ValueKey
from syncer.state.listing import Selection, managed_values
from syncer.state.model import BatchInfo, Row, State, StateMeta
from tests.plan.test_diff import IDENT, NPS, PEOPLE, REV, SEM, SEM2

B1 = BatchInfo(1, SEM, "2026-04-01T10:00:00.000Z", "rec-1", "b" * 40, "tok-1", "syncer bbbbbbb", 2)
B2 = BatchInfo(2, SEM, "2026-04-02T10:00:00.000Z", "rec-2", "c" * 40, "tok-2", "syncer ccccccc", 1)


def _state() -> State:
    rows: dict[tuple[str, str, str], Row] = {
        (SEM2, PEOPLE[0], REV): ({"4": "1"}, 1),
        (SEM, PEOPLE[1], NPS): ({"5": "3", "2": "40"}, {"5": 2, "2": 1}),  # fields from two batches
        (SEM, PEOPLE[0], REV): ({"2": "60"}, 1),
    }
    meta = StateMeta(format=1, lineage="l", serial=3, created="2026-01-01T00:00:00.000Z", identity=IDENT)
    return State(
        meta=meta, rows=rows, batches={1: B1, 2: B2}, rejections={}, journal={}, per_semester={SEM: 3, SEM2: 1}
    )


def _catalog() -> Catalog:
    return Catalog(
        semesters={"2026-H2": SemesterDef("2026-H2", SEM)},
        metrics={"revenue": MetricDef("revenue", REV, {})},
        people={"p0": PersonDef("p0", PEOPLE[0]), "byemail": PersonDef("byemail", None, "x@example.com")},
    )


def test_every_value_sorted_by_ids_with_the_batch_of_each_field() -> None:
    listed = list(managed_values(_state()))
    assert [v.key for v in listed] == sorted(v.key for v in listed)
    assert [(v.key.field, v.batch, v.applied_by) for v in listed if v.key.metric == NPS] == [("2", 1, B1), ("5", 2, B2)]
    assert len(listed) == 4


def test_selectors_take_aliases_or_ids_and_combine() -> None:
    cat = _catalog()
    by_alias = Selection.of(semesters=["2026-H2"], reviewees=["p0"], catalog=cat)
    by_id = Selection.of(semesters=[SEM], reviewees=[PEOPLE[0]], catalog=cat)
    assert by_alias == by_id
    assert [v.key for v in managed_values(_state(), by_alias)] == [ValueKey(SEM, PEOPLE[0], REV, "2")]
    assert [v.key.semester for v in managed_values(_state(), Selection.of(metrics=["revenue"], catalog=cat))] == [
        SEM,
        SEM2,
    ]
    assert list(managed_values(_state(), Selection.of(reviewees=["nobody"], catalog=cat))) == []
    assert len(list(managed_values(_state(), Selection()))) == 4  # no selector: every value
