"""Renderers of a plan: golden files for every format on a small plan that has every kind of line.

Regenerate the golden files after an intended change with:
    SYNCER_UPDATE_GOLDEN=1 python3 -m pytest tests/report
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from syncer.gitinfo import GitInfo
from syncer.load.settings import Safety
from syncer.model import (
    Catalog,
    DesiredState,
    DesiredValue,
    FieldDef,
    Identity,
    MetricDef,
    PersonDef,
    RowKey,
    SemesterDef,
    ValueKey,
)
from syncer.plan.diff import make_plan
from syncer.plan.model import Plan, PlanOptions, Targeting
from syncer.report.formats import FormatName as PlanFormat
from syncer.report.markdown import md
from syncer.report.plan import render_plan
from syncer.report.plan_markdown import render_markdown
from syncer.state.model import BatchInfo, Rejection, Row, State, StateMeta, row_digest

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "plan"
UPDATE = os.environ.get("SYNCER_UPDATE_GOLDEN") == "1"

SEM = "7293040702907514899"
REV, NPS = "7272580325522276372", "7272580325522276401"
ALICE, BOB, CAROL, GRACE = (
    "ou_3245842393d09e9428ad4655da6e30b3",
    "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "ou_f13e7d77076ad5946e756c1f5a2f285c",
    "ou_cfa146394857f3a805c1507aed93dd93",
)
DAVE = "ou_99999999999999999999999999999999"  # not in the catalog
OWNER = "7283776005142675476"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")


def _catalog() -> Catalog:
    rev_fields = {
        "weight": FieldDef("weight", "2", "percentage", role="weight"),
        "target": FieldDef("target", "4", "number"),
        "actual": FieldDef("actual", "5", "number"),
        "note": FieldDef("note", "7", "text"),
        "owner": FieldDef("owner", OWNER, "person"),
    }
    nps_fields = {
        "weight": FieldDef("weight", "2", "percentage", role="weight"),
        "target": FieldDef("target", "4", "number"),
        "actual": FieldDef("actual", "5", "number"),
    }
    return Catalog(
        semesters={"2026-H2": SemesterDef("2026-H2", SEM)},
        metrics={"revenue": MetricDef("revenue", REV, rev_fields), "nps": MetricDef("nps", NPS, nps_fields)},
        people={
            "alice": PersonDef("alice", ALICE),
            "bob": PersonDef("bob", BOB),
            "carol": PersonDef("carol", CAROL),
            "grace.lead": PersonDef("grace.lead", GRACE),
        },
    )


def sample_plan(*, force: bool = False, targeting: Targeting | None = None) -> Plan:
    """alice: creates and an update, a hostile note; bob: a forget and an update; carol: held back;
    DAVE (raw ID): a create. 12 managed values, 4 updates: over the 30% update threshold."""
    desired_values = {
        (SEM, ALICE, REV, "2"): ("60", 4),
        (SEM, ALICE, REV, "4"): ("1000000", 5),
        (SEM, ALICE, REV, "5"): ("1055000", 6),
        (SEM, ALICE, REV, "7"): ("Closed **two** deals | see <a href=x>link</a> @bob\nline two", 7),
        (SEM, ALICE, REV, OWNER): (GRACE, 8),
        (SEM, BOB, REV, "2"): ("60", 12),
        (SEM, BOB, REV, "4"): ("1200000", 13),
        (SEM, BOB, REV, "5"): ("1499000", 14),
        (SEM, BOB, NPS, "2"): ("40", 16),
        (SEM, BOB, NPS, "4"): ("45", 17),
        (SEM, CAROL, NPS, "2"): ("140", 4),
        (SEM, CAROL, NPS, "4"): ("50", 5),
        (SEM, DAVE, NPS, "2"): ("10", 3),
    }
    files = {
        ALICE: "teams/sales.yaml",
        BOB: "teams/sales.yaml",
        CAROL: "teams/support.yaml",
        DAVE: "teams/new.yaml",
    }
    values = {
        ValueKey(*key): DesiredValue(v, "text", files[key[1]], line, 15) for key, (v, line) in desired_values.items()
    }
    rows = {key.row: dv.source._replace(col=5, line=dv.line - 1) for key, dv in values.items()}
    cat = _catalog()
    desired = DesiredState(
        values=values,
        rows=rows,
        catalog=cat,
        closed_semesters=frozenset(),
        files=tuple(sorted(set(files.values()))),
    )
    managed: dict[tuple[str, str, str], Row] = {
        (SEM, ALICE, REV): ({"2": "50", "4": "1000000"}, 1),
        (SEM, BOB, REV): ({"2": "60", "4": "1100000", "5": "1400000", "7": "old note"}, 2),
        (SEM, BOB, NPS): ({"2": "30", "4": "45", "5": "44"}, {"2": 1, "4": 1, "5": 2}),
        (SEM, CAROL, REV): ({"2": "0", "4": "0"}, 1),
    }
    meta = StateMeta(
        format=1,
        lineage="5eed1e55c0ffee00",
        serial=42,
        created="2026-01-05T08:00:00.000Z",
        identity=IDENT,
        next_batch=3,
    )
    batches = {
        1: BatchInfo(
            1, SEM, "2026-04-01T10:00:00.000Z", "7300000000000000001", "b" * 40, "tok-1", "syncer bbbbbbb", 50
        ),
        2: BatchInfo(2, SEM, "2026-04-20T10:00:00.000Z", "7300000000000000002", "c" * 40, "tok-2", "syncer ccccccc", 3),
    }
    carol = RowKey(SEM, CAROL, NPS)
    rejections = {
        carol: Rejection(
            carol,
            1580304,
            "2026-04-20T10:00:06.000Z",
            row_digest({"2": "140", "4": "50"}),
            "sum of metric weights over 100%",
            "tok-3",
        )
    }
    state = State(meta=meta, rows=managed, batches=batches, rejections=rejections, journal={}, per_semester={SEM: 11})
    return make_plan(
        desired,
        state,
        PlanOptions(
            safety=Safety(max_update_ratio=0.3, max_forget_ratio=0.3, min_existing=10),
            git=GitInfo("d" * 40, "ddddddd", False),
            target=IDENT._replace(app_id=None),
            state_location=".syncer/state",
            root="metrics",
            notes=(
                "FEISHU_APP_ID is not set: host and user_id_type match the state; "
                "its app ID (cli_a1b2) was not compared",
            ),
            force=force,
            version="0.0.0+golden",  # the golden files do not change with each release
            targeting=targeting,
        ),
    )


def targeted_plan() -> Plan:
    """The sample targeted at teams/sales.yaml: alice's and bob's rows; carol (a row in no file any more,
    another in teams/support.yaml) and DAVE (teams/new.yaml) left out."""
    return sample_plan(targeting=Targeting.of(paths=["teams/sales.yaml"]))


CASES: dict[str, Callable[[Plan], str]] = {
    "text.txt": lambda p: render_plan(p, "text", redact=False),
    "text-color.txt": lambda p: render_plan(p, "text", redact=False, color=True),
    "text-redacted.txt": lambda p: render_plan(p, "text", redact=True),
    "markdown.md": lambda p: render_plan(p, "markdown", redact=False),
    "markdown-redacted.md": lambda p: render_plan(p, "markdown", redact=True),
    "plan.json": lambda p: render_plan(p, "json", redact=False),
    "plan-redacted.json": lambda p: render_plan(p, "json", redact=True),
    "github.txt": lambda p: str(render_plan(p, "github", redact=False)),
}
TARGETED = ("text.txt", "markdown.md", "plan.json", "github.txt")


@pytest.mark.parametrize("name", sorted(CASES) + [f"targeted-{n}" for n in TARGETED])
def test_golden(name: str) -> None:
    targeted = name.startswith("targeted-")
    out = CASES[name.removeprefix("targeted-")](targeted_plan() if targeted else sample_plan())
    path = GOLDEN / name
    if UPDATE:
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8"), f"{name} differs: SYNCER_UPDATE_GOLDEN=1 if intended"


def test_the_sample_has_every_kind_of_line() -> None:
    p = sample_plan()
    assert {c.action for c in p.changes} == {"create", "update", "forget"}
    assert p.quarantined and p.breaches and p.refused and p.batches


def test_redacted_output_holds_no_value() -> None:
    p = sample_plan()
    secrets = ["1055000", "Closed", "old note", "1499000", GRACE, "1400000"]
    formats: tuple[PlanFormat, ...] = ("text", "markdown", "json", "github")
    for fmt in formats:
        out = str(render_plan(p, fmt, redact=True))
        for s in secrets:
            assert s not in out, (fmt, s)
        assert ALICE in out or fmt == "github"  # reviewees are shown


def test_forced_plan_shows_the_breach_without_refusing() -> None:
    out = render_plan(sample_plan(force=True), "text", redact=False)
    assert "Safety thresholds passed (--force given)" in out and "To proceed" not in out


def test_markdown_escapes_what_comes_from_the_yaml() -> None:
    assert md("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert md("a|b") == "a\\|b" and md("x\ny") == "x<br>y" and md("@team") == "&#64;team"
    assert md("**bold** [l](u) `c` _i_ ~s~ #h") == "\\*\\*bold\\*\\* \\[l\\]\\(u\\) \\`c\\` \\_i\\_ \\~s\\~ \\#h"
    out = render_plan(sample_plan(), "markdown", redact=False)
    assert "<a href" not in out and "@bob" not in out and "**two**" not in out


def _big_plan(n: int) -> Plan:
    cat = _catalog()
    people = [f"ou_{i:032x}" for i in range(n)]
    values = {
        ValueKey(SEM, pid, m, f): DesiredValue(
            f"value {i} of a long enough text to take room", "text", "teams/big.yaml", i + 1, 9
        )
        for i, pid in enumerate(people)
        for m in (REV, NPS)
        for f in ("2", "4", "5")
    }
    desired = DesiredState(
        values=values,
        rows={k.row: v.source for k, v in values.items()},
        catalog=cat,
        closed_semesters=frozenset(),
        files=("teams/big.yaml",),
    )
    return make_plan(
        desired,
        None,
        PlanOptions(
            safety=Safety(), git=GitInfo("d" * 40, "ddddddd", False), target=IDENT, state_location=".syncer/state"
        ),
    )


def test_markdown_is_cut_to_fit_a_comment_with_exact_counts() -> None:
    p = _big_plan(2000)
    out = render_markdown(p, redact=False)
    assert len(out) <= 60_000
    assert out.startswith("<!-- syncer:plan -->\n### syncer plan\n\n**Plan: 12000 values changed (12000 to create")
    m = re.search(r"Cut to fit a 60,000-character comment: (\d+) more reviewees \((\d+) value changes\)", out)
    assert m is not None
    shown = out.count("\n| + create |")
    assert int(m.group(2)) + shown == 12000 and int(m.group(1)) + out.count("\n#### ") == 2000
    assert out.rstrip().endswith("</details>")
    small = render_markdown(_big_plan(3), redact=False)
    assert "Cut to fit" not in small and small.count("\n| + create |") == 18


def test_markdown_for_a_tiny_budget_still_starts_with_the_summary() -> None:
    out = render_markdown(_big_plan(50), redact=False, max_chars=3000)
    assert len(out) <= 3000 and "**Plan: 300 values changed" in out


def test_json_output_is_the_plan_document() -> None:
    doc = json.loads(render_plan(sample_plan(), "json", redact=False))
    assert doc["counts"]["values_changed"] == sum(len(row["values"]) for row in doc["changes"])
    assert doc["quarantined"][0]["date"] == "2026-04-20"


@pytest.mark.parametrize("redact", [False, True])
def test_the_streamed_json_is_the_document_written_compact(redact: bool) -> None:
    from syncer.report.plan_json import plan_chunks, plan_document

    for plan in (sample_plan(), _big_plan(3000)):
        text = "".join(plan_chunks(plan, redact=redact))
        assert text == json.dumps(plan_document(plan, redact=redact), ensure_ascii=False, separators=(",", ":")) + "\n"


def test_quotes_in_markdown_are_shown_as_quotes_not_broken_entities() -> None:
    assert md('it\'s "x" <b>') == 'it\'s "x" &lt;b&gt;'
