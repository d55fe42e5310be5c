"""`syncer fmt`'s core (syncer.edit.fmt): which files, the catalog's and the data files' rules, refusals; and
the properties on data files written against the example catalog: values and keys never change, a second
pass changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.edit.fmt import (
    CATALOG_ORDER,
    DATA_ORDER,
    DIMENSION_ORDER,
    FIELD_ORDER,
    METRIC_ORDER,
    PERSON_ORDER,
    SEMESTER_ORDER,
    TEMPLATE_ORDER,
    CatalogOrder,
    catalog_rules,
    data_rules,
    format_root,
    format_text,
    write_formatted,
)
from syncer.errors import LoadError, SyncerError
from syncer.load.validate import validate_root
from syncer.load.yamlnodes import to_plain
from syncer.load.yamlparse import parse
from syncer.scaffold import init_root
from tests.example import EXAMPLE, copy_example
from tests.paths import SCHEMAS

EXAMPLE_ORDER = CatalogOrder.of(parse((EXAMPLE / "catalog.yaml").read_bytes(), "catalog.yaml"))


def data(text: str) -> str:
    return format_text(text, "d.yaml", data_rules(EXAMPLE_ORDER))


def catalog(text: str) -> str:
    return format_text(text, "catalog.yaml", catalog_rules())


def _props(schema: dict[str, object], *path: str) -> tuple[str, ...]:
    node: object = schema
    for part in path:
        assert isinstance(node, dict)
        node = node[part]
    assert isinstance(node, dict)
    return tuple(node["properties"])


def _object_of(node: dict[str, Any]) -> tuple[str, ...]:
    """The properties of the object form of a schema entry that is `anyOf: [a scalar form, the object]`."""
    forms = node.get("anyOf")
    if isinstance(forms, list):
        node = next(f for f in forms if isinstance(f, dict) and f.get("type") == "object")
    return tuple(node["properties"])


def test_the_key_orders_are_the_schemas() -> None:
    cat = json.loads((SCHEMAS / "catalog.schema.json").read_text())
    props = cat["properties"]
    assert _props(cat) == CATALOG_ORDER
    assert _object_of(props["semesters"]["additionalProperties"]) == SEMESTER_ORDER
    metric = props["metrics"]["additionalProperties"]
    assert _props(metric) == METRIC_ORDER
    assert _props(metric["properties"]["fields"], "additionalProperties") == FIELD_ORDER
    assert _object_of(props["people"]["additionalProperties"]) == PERSON_ORDER
    template = props["templates"]["additionalProperties"]
    assert _props(template) == TEMPLATE_ORDER
    assert _props(template["properties"]["dimensions"], "additionalProperties") == DIMENSION_ORDER
    assert _props(json.loads((SCHEMAS / "data.schema.json").read_text())) == DATA_ORDER


def test_the_example_and_a_new_root_are_formatted(tmp_path: Path) -> None:
    init_root(tmp_path / "new")
    for root in (EXAMPLE, tmp_path / "new"):
        result = format_root(root, root_display="r")
        assert not result.problems
        assert len(result.files) >= 2
        assert [f.display for f in result.changed] == []


def test_fields_follow_the_catalog_and_the_rest_keeps_its_order() -> None:
    text = (
        "reviewees:\n  bob:\n    nps:\n      actual: 1\n      extra: 2\n"
        "      weight: 40%\n    revenue:\n      target: 3\nsemester: 2026-H2\n"
    )
    assert data(text) == (
        "semester: 2026-H2\nreviewees:\n  bob:\n    nps:\n      weight: 40%\n      actual: 1\n      extra: 2\n"
        "    revenue:\n      target: 3\n"
    )


@pytest.mark.parametrize("value", ["no", "on", "1e3", "0123", "12:30", "1_000", "+5", "2026-01-01", ".5", "~x"])
def test_values_other_readers_would_misread_are_quoted(value: str) -> None:
    out = data(f"semester: 2026-H2\nreviewees:\n  bob:\n    nps:\n      note: {value}\n")
    expected = value if value == "~x" else f'"{value}"'
    assert out.endswith(f"note: {expected}\n")


def test_plain_numbers_and_words_stay_plain() -> None:
    text = (
        "semester: 2026-H2\nreviewees:\n  bob:\n    nps:\n      weight: 40%\n"
        "      target: 1200000\n      actual: -4.50\n      note: Two deals slipped\n"
    )
    assert data(text) == text


def test_raw_ids_are_quoted_in_data_files_and_the_catalog() -> None:
    text = "semester: 7293040702907514899\nreviewees:\n  1234:\n    revenue:\n      owner: 5678\n"
    assert data(text) == 'semester: "7293040702907514899"\nreviewees:\n  "1234":\n    revenue:\n      owner: "5678"\n'
    cat = (
        "people:\n  a: 42\n  b: {email: b@x.io, id: 43}\nmetrics:\n  m:\n    fields:\n"
        "      w: {type: number, id: 2}\n    id: 7\nsemesters:\n  s: 1\n"
    )
    assert catalog(cat) == (
        'semesters:\n  s: "1"\nmetrics:\n  m:\n    id: "7"\n    fields:\n      w: {id: "2", type: number}\n'
        'people:\n  a: "42"\n  b: {id: "43", email: b@x.io}\n'
    )


def test_catalog_booleans_and_numbers_stay_as_typed() -> None:
    text = (
        'semesters:\n  h1: {id: "1", closed: true}\nmetrics:\n  m:\n    id: "7"\n'
        '    fields:\n      n: {id: "4", type: text, max_length: 500, required: true}\n'
    )
    assert catalog(text) == text


def test_the_fields_of_a_metric_are_aligned() -> None:
    text = (
        'metrics:\n  m:\n    id: "7"\n    fields:\n'
        '      weight: {id: "2", type: percentage}\n'
        '      calibration: {id: "9", type: text}\n'
    )
    assert catalog(text).endswith(
        '      weight:      {id: "2", type: percentage}\n      calibration: {id: "9", type: text}\n'
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [("a: &x 1\nb: *x\n", "d.yaml:1:4"), ("%YAML 1.1\n---\na: 1\n", "d.yaml:1:1"), ("a: [1\n", "d.yaml:2:1")],
)
def test_files_fmt_cannot_rewrite_are_refused_with_their_location(text: str, where: str) -> None:
    with pytest.raises(LoadError) as caught:
        data(text)
    assert caught.value.source is not None
    assert str(caught.value.source) == where


def test_a_root_with_a_broken_file_writes_nothing(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "metrics")
    catalog_file = root / "catalog.yaml"
    catalog_file.write_text(catalog_file.read_text().replace('      weight:      {id: "2"', '      weight: {id: "2"'))
    bad = root / "teams" / "broken.yaml"
    bad.write_text("semester: 2026-H2\nreviewees: {\n")
    before = catalog_file.read_text()
    result = format_root(root, root_display="metrics")
    assert [p.location for p in result.problems] == ["metrics/teams/broken.yaml:3:1"]
    assert [f.display for f in result.changed] == ["metrics/catalog.yaml"]
    with pytest.raises(SyncerError, match="nothing was written"):
        write_formatted(result)
    assert catalog_file.read_text() == before


def test_named_paths_limit_the_run_and_others_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_example(tmp_path / "metrics")
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("      weight: 60%", "      weight:    60%", 1))
    (tmp_path / "other.yaml").write_text("a:    1\n")
    monkeypatch.chdir(tmp_path)
    paths = [Path("metrics/teams/sales.yaml"), Path("other.yaml"), Path("metrics/syncer.yaml")]
    result = format_root(Path("metrics"), root_display="metrics", paths=paths)
    assert result.skipped == ("other.yaml", "metrics/syncer.yaml")
    assert [f.display for f in result.files] == ["metrics/teams/sales.yaml"]
    write_formatted(result)
    assert "      weight: 60%\n" in sales.read_text()
    assert (tmp_path / "other.yaml").read_text() == "a:    1\n"
    assert validate_root(root).ok


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "metrics")
    sales = root / "teams" / "sales.yaml"
    sales.write_bytes(b"\xef\xbb\xbf" + sales.read_bytes())
    result = format_root(root, root_display="metrics")
    assert [f.display for f in result.changed] == ["metrics/teams/sales.yaml"]
    write_formatted(result)
    assert not sales.read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_symlinked_data_file_is_refused(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "metrics")
    (root / "teams" / "link.yaml").symlink_to(root / "teams" / "sales.yaml")
    result = format_root(root, root_display="metrics")
    assert [(p.location, p.code) for p in result.problems] == [("metrics/teams/link.yaml:1:1", "symlink")]


# -- properties: data files in many styles, against the example's catalog --

_METRICS = {alias: fields for alias, fields in EXAMPLE_ORDER.fields}
_VALUES = ["40%", "40", "1200000", "-1.5", "no", "on", "0123", "12:30", "1e3", "yes", "x: y", "a #b", "", "null"]
_VALUES += ["2026-01-01", "bob", "ou_3245842393d09e9428ad4655da6e30b3", "7283776005142675476", "'quoted'", "张三"]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def _data_file(draw: st.DrawFn) -> str:
    step = draw(st.sampled_from([2, 4]))
    lines = ["# yaml-language-server: $schema=../../schemas/data.schema.json"]
    semester = _quote("2026-H2") if draw(st.booleans()) else "2026-H2"
    reviewees_block = ["reviewees:"]
    for person in draw(
        st.lists(st.sampled_from(["alice", "bob", "1234", "on", "张三"]), min_size=1, max_size=3, unique=True)
    ):
        reviewees_block.append(" " * step + (_quote(person) if person in ("1234", "on") else person) + ":")
        for metric in draw(st.lists(st.sampled_from(sorted(_METRICS)), min_size=1, max_size=2, unique=True)):
            fields = draw(st.permutations(_METRICS[metric]))[: draw(st.integers(1, len(_METRICS[metric])))]
            if draw(st.integers(0, 3)) == 0:
                body = ", ".join(f"{f}: {_quote(draw(st.sampled_from(_VALUES)))}" for f in fields)
                reviewees_block.append(" " * 2 * step + f"{metric}: {{{body}}}")
                continue
            reviewees_block.append(" " * 2 * step + f"{metric}:" + draw(st.sampled_from(["", "   # note"])))
            for f in fields:
                value = draw(st.sampled_from(_VALUES))
                quoted = draw(st.booleans()) or value in ("", "null", "x: y", "a #b", "'quoted'", "12:30")
                shown = _quote(value) if quoted else value
                comment = draw(st.sampled_from(["", "  # why", "           # far"]))
                if draw(st.integers(0, 5)) == 0:
                    reviewees_block.append(" " * 3 * step + "# about " + f)
                reviewees_block.append(" " * 3 * step + f"{f}:  {shown}{comment}")
    top = [f"semester: {semester}", *reviewees_block]
    if draw(st.booleans()):
        top = [*reviewees_block, f"semester: {semester}"]
    return "\n".join(lines + top) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data_file())
def test_fmt_never_changes_a_value_and_is_idempotent(text: str) -> None:
    once = data(text)
    assert to_plain(parse(once, "d.yaml")) == to_plain(parse(text, "d.yaml"))
    assert data(once) == once
