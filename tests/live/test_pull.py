"""`syncer catalog pull`: Feishu's semesters and metric library merged into catalog.yaml as text, against the
emulator (in process, ManualClock). Comments and aliases survive, a second pull changes nothing, and an
empty catalog becomes a valid one."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator import Emulator, EmulatorTransport, ManualClock
from syncer.feishu.auth import Credentials
from syncer.feishu.records import Semester
from syncer.live.merge import merge_catalog, new_alias
from syncer.live.pull import fetch_catalog, merge_into_root, write_catalog
from syncer.live.pulled import PulledCatalog, PulledField, PulledMetric
from syncer.live.reader import LiveReader
from syncer.load.catalog import catalog_from_text
from syncer.load.settings import Settings, load_settings
from syncer.scaffold import init_root
from syncer.text import slug
from tests.example import copy_example

CREDS = Credentials("cli_emulator", "emulator_secret")


@pytest.fixture(scope="module")
def pulled() -> PulledCatalog:
    clock = ManualClock()
    emu = Emulator(clock=clock, sleep=clock.sleep)
    with LiveReader(
        base_url="http://127.0.0.1", credentials=CREDS, transport=EmulatorTransport(emu), clock=clock, sleep=clock.sleep
    ) as reader:
        return fetch_catalog(reader, user_id_type="open_id")


def _errors(text: str) -> list[Any]:
    return [p for p in catalog_from_text(text, "catalog.yaml", Settings())[1] if p.severity == "error"]


NOW_MS = 1_796_083_200_000  # 2026-12-01T00:00Z: 2026-H1 has ended, 2026-H2 has not


def _pull(root: Path, pulled: PulledCatalog, *, now_ms: int = NOW_MS) -> Any:
    settings, _ = load_settings(root, "m")
    return merge_into_root(root, "m", settings, pulled, now_ms=now_ms)


def test_fetch_reads_semesters_library_and_field_types_paced(pulled: PulledCatalog) -> None:
    assert [s.id for s in pulled.semesters] == ["7293040702907514899", "7250000000000000001"]
    revenue = next(m for m in pulled.metrics if m.metric_id == "7272580325522276372")
    assert [(f.field_id, f.type, f.input_setting) for f in revenue.fields][:2] == [
        ("2", "percentage", "data_source_inputter"),
        ("3", "text", "data_source_inputter"),
    ]  # "pencentage" on the wire
    csat = next(m for m in pulled.metrics if m.metric_id == "7272580325522276404")
    assert ("7283776005142675480", "admin") in [(f.field_id, f.input_setting) for f in csat.fields]
    assert "7100000000000000001" not in {m.metric_id for m in pulled.metrics}  # old-version metrics: not listed


def test_requests_wait_their_turn_and_report_progress() -> None:
    clock = ManualClock()
    emu = Emulator(clock=clock, sleep=clock.sleep)
    events: list[Any] = []
    with LiveReader(
        base_url="http://127.0.0.1",
        credentials=CREDS,
        transport=EmulatorTransport(emu),
        clock=clock,
        sleep=clock.sleep,
        progress=events.append,
    ) as reader:
        reader.expect("/open-apis/performance/v1/semesters", 3)
        for _ in range(3):
            reader.client.list_semesters()
    reads = emu.requests("semesters.list")
    assert [e.status for e in reads] == [200, 200, 200]
    assert [round(b.time - a.time, 3) for a, b in itertools.pairwise(reads)] == [6.0, 6.0]  # 10 a minute
    assert [(e.done, e.requests_left) for e in events] == [(1, 2), (2, 1), (3, 0)]
    assert events[0].eta_seconds == pytest.approx(12.0)


def test_the_example_root_is_up_to_date_and_untouched(tmp_path: Path, pulled: PulledCatalog) -> None:
    root = tmp_path / "m"
    copy_example(root)
    before = (root / "catalog.yaml").read_text()
    result = _pull(root, pulled)
    assert not result.changed and result.diff() == "" and result.additions == ()
    assert result.new_text == before
    # the example holds Feishu's model: a field has one type in every metric, so nothing to say about types
    assert not any("type" in n for n in result.notes), result.notes


def test_pull_into_a_scaffold_keeps_comments_and_aliases_and_is_idempotent(
    tmp_path: Path, pulled: PulledCatalog
) -> None:
    root = tmp_path / "m"
    init_root(root)
    before = (root / "catalog.yaml").read_text()
    result = _pull(root, pulled)
    assert result.changed and result.new_problems == ()
    lines = result.new_text.splitlines()
    old_lines = before.splitlines()
    it = iter(lines)
    assert all(any(line == new for new in it) for line in old_lines)  # every old line kept, in order
    assert (
        '+  2026-H1: {id: "7250000000000000001", closed: true}   # 2026 H1 / 2026 上半年: ended 2026-06-30 in '
        "Feishu, so closed" in result.diff()
    )
    # the field revenue lacked goes into revenue's fields, before the new metrics
    assert lines.index(
        '      unit: {id: "3", type: text, input_setting: data_source_inputter}   # Unit / 单位'
    ) < lines.index("  nps:   # NPS")
    assert "role: weight" in lines[lines.index("  nps:   # NPS") + 3]
    assert 'calibration: {id: "7283776005142675480", type: text, input_setting: admin}' in result.new_text
    assert 'target:      {id: "4", type: number' in result.new_text  # the alias revenue gives field 4
    assert _errors(result.new_text) == []
    assert (root / "catalog.yaml").read_text() == before  # a dry run writes nothing
    write_catalog(result)
    assert (root / "catalog.yaml").read_text() == result.new_text
    again = _pull(root, pulled)
    assert not again.changed and again.additions == ()


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "# only a comment\n",
        "semesters: {}\nmetrics: {}   # none yet\n",
        "semesters:\nmetrics: ~\n",
        "people:\n  bob: {email: bob@example.com}\n",
    ],
)
def test_an_empty_catalog_becomes_a_valid_one(tmp_path: Path, pulled: PulledCatalog, text: str | None) -> None:
    root = tmp_path / "m"
    root.mkdir()
    if text is not None:
        (root / "catalog.yaml").write_text(text)
    result = _pull(root, pulled)
    assert result.new_problems == () and _errors(result.new_text) == [], result.new_text
    assert "# only a comment" in result.new_text or "only a comment" not in (text or "")
    assert "# none yet" in result.new_text or "none yet" not in (text or "")
    catalog, _ = catalog_from_text(result.new_text, "catalog.yaml", Settings())
    assert set(catalog.metrics) == {"revenue", "nps", "on_time_delivery", "incidents", "csat"}
    assert set(catalog.semesters) == {"2026-H2", "2026-H1"}
    assert catalog.metrics["csat"].fields["calibration"].input_setting == "admin"
    write_catalog(result)
    assert not _pull(root, pulled).changed
    if text and "people" in text:
        assert result.new_text.index("semesters:") < result.new_text.index("people:")


def _metric(mid: str, *fields: tuple[str, dict[str, str], str]) -> PulledMetric:
    return PulledMetric(mid, "Sales 销售", True, tuple(PulledField(f, n, t, "reviewee") for f, n, t in fields))


def test_crlf_flow_style_and_aliases() -> None:
    text = 'semesters:\r\n  h2: "1"\r\nmetrics:\r\n  m: {id: "10", fields: {w: {id: "2", type: percentage}}}\r\n'
    pulled = PulledCatalog(
        (Semester("1", {}), Semester("2", {"zh_cn": "上半年"})), (_metric("10", ("9", {"en_us": "Weight"}, "number")),)
    )
    result = merge_catalog(text, pulled)
    assert result.text == text.replace('"1"\r\n', '"1"\r\n  semester-2: "2"   # 上半年\r\n')
    assert "\n" not in result.text.replace("\r\n", "")
    assert any("flow style" in n and "weight" in n for n in result.notes)  # not edited: said so
    assert [a.kind for a in result.additions] == ["semester"]


def test_new_aliases_are_readable_unique_and_never_look_like_ids() -> None:
    taken = {"weight"}
    assert new_alias(["Weight"], taken=taken, fallback="field_2", sep="_") == "weight_2"
    assert new_alias(["完成情况"], taken=taken, fallback="field_7", sep="_") == "field_7"
    assert new_alias(["2026"], taken=set(), fallback="semester-1", sep="-") == "semester-1-2026"
    assert slug("On-time délivery (Q3)", sep="_") == "on_time_delivery_q3"
    assert slug("2026 H2", sep="-", keep_case=True) == "2026-H2"


def test_fields_of_unknown_type_are_left_out_with_a_note() -> None:
    pulled = PulledCatalog(
        (Semester("1", {"en_us": "H2"}),),
        (
            _metric("10", ("2", {"en_us": "Weight"}, "percentage"), ("8", {"en_us": "Score"}, "")),
            _metric("11", ("8", {}, "formula")),
        ),
    )
    result = merge_catalog(None, pulled)
    assert "score" not in result.text and "metric 'Sales 销售' (11) left out" in "\n".join(result.notes)
    assert _errors(result.text) == []
    assert "  sales:   # Sales 销售\n" in result.text
