"""`syncer state show` renderers."""

from __future__ import annotations

import json

from syncer.model import Catalog, Identity, PersonDef, RowKey, SemesterDef
from syncer.report.state import render_state
from syncer.state.inspect import StateSummary, select_keys, summarize
from syncer.state.model import BatchInfo, LastApply, LockHolder, LockInfo, Rejection, State, StateMeta

SEM = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REV = "7272580325522276372"


def _state() -> State:
    meta = StateMeta(
        format=1,
        lineage="5eed",
        serial=9,
        created="2026-01-01T00:00:00.000Z",
        identity=Identity("open.feishu.cn", None, "open_id"),
        next_batch=2,
        last_apply=LastApply("2026-04-01T10:00:00.000Z", "b" * 40, 1),
    )
    return State(
        meta=meta,
        rows={(SEM, ALICE, REV): ({"2": "40", "4": "7"}, 1)},
        batches={1: BatchInfo(1, SEM, "2026-04-01T10:00:00.000Z", "rec-9", "b" * 40, "t", "n", 1)},
        rejections={
            RowKey(SEM, ALICE, REV): Rejection(RowKey(SEM, ALICE, REV), 1580311, "2026-04-02T00:00:00.000Z", "d")
        },
        journal={},
        per_semester={SEM: 2},
    )


def test_text_and_json() -> None:
    cat = Catalog(semesters={"2026-H2": SemesterDef("2026-H2", SEM)}, people={"alice": PersonDef("alice", ALICE)})
    summary = summarize(
        _state(),
        location="/s",
        catalog=cat,
        lock=LockHolder(LockInfo(12, "ci", "2026-05-01T00:00:00.000Z", "apply", "x"), "other host"),
    )
    text = render_state(summary, "text")
    assert text.splitlines()[:3] == [
        "State at /s",
        "  target:      open.feishu.cn, app (not recorded), user_id_type open_id",
        "  lineage:     5eed",
    ]
    assert "last apply:  2026-04-01T10:00:00.000Z at commit bbbbbbbbbbbb (batch 1, import record rec-9)" in text
    assert "2026-H2 (7293040702907514899): 2 values, 1 row, 1 reviewee" in text
    assert (
        "alice (ou_3245842393d09e9428ad4655da6e30b3) 7272580325522276372: rejected on 2026-04-02 with 1580311" in text
    )
    assert "locked by pid 12 on ci (other host)" in text
    doc = json.loads(render_state(summary, "json"))
    assert doc["lock"]["status"] == "other host" and doc["values"] == 2 and doc["rejected_rows"][0]["code"] == 1580311


def test_no_state() -> None:
    assert "No state at /x yet" in render_state(StateSummary(location="/x", exists=False), "text")
    assert json.loads(render_state(StateSummary(location="/x", exists=False), "json"))["exists"] is False


def test_select_keys() -> None:
    state = _state()
    cat = Catalog(semesters={"2026-H2": SemesterDef("2026-H2", SEM)}, people={"alice": PersonDef("alice", ALICE)})
    assert len(select_keys(state, reviewees=["alice"], catalog=cat)) == 2
    assert select_keys(state, semesters=["2026-H1"], catalog=cat) == []
    assert len(select_keys(state, metrics=[REV])) == 2
