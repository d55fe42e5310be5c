"""Values edited in place: only the edited bytes change, quoting styles are kept, and what the file writes
in a way syncer does not edit (anchors, flow mappings that need new entries) is refused."""

from __future__ import annotations

import pytest

from syncer.edit.datafile import render_file
from syncer.edit.fmt import CatalogOrder, data_rules, format_text
from syncer.edit.values import DataFileEditor, NotEditable
from syncer.load.yamlnodes import MapNode, Scalar
from syncer.load.yamlparse import parse

TEXT = """\
# a comment that stays
semester: 2026-H2
reviewees:
  alice:   # trailing comment
    revenue:
      target: "1200000"   # quoted on purpose
      actual: 1310000
      note: |
        two lines
        of text
    nps: {weight: 40%, target: 45}
"""


def nodes(text: str) -> tuple[MapNode, Scalar, MapNode, Scalar, MapNode]:
    tree = parse(text, "t.yaml")
    assert isinstance(tree, MapNode)
    reviewees = tree.get("reviewees")
    assert isinstance(reviewees, MapNode)
    rkey, alice = reviewees.items[0]
    assert isinstance(alice, MapNode)
    mkey, revenue = alice.items[0]
    assert isinstance(revenue, MapNode)
    return reviewees, rkey, alice, mkey, revenue


def test_values_are_replaced_in_their_own_style_and_nothing_else_moves() -> None:
    _, _, alice, _, revenue = nodes(TEXT)
    ed = DataFileEditor(TEXT)
    for alias, new in (("target", "1300000"), ("actual", "1400000"), ("note", "one line")):
        node = revenue.get(alias)
        key = revenue.key(alias)
        assert isinstance(node, Scalar) and key is not None
        ed.set_value(node, key, new)
    nps = alice.get("nps")
    assert isinstance(nps, MapNode)
    w, wk = nps.get("weight"), nps.key("weight")
    assert isinstance(w, Scalar) and wk is not None
    ed.set_value(w, wk, "50%, really")  # a flow mapping: quoted where plain would break it
    out = ed.render()
    assert out == TEXT.replace('"1200000"', '"1300000"').replace("1310000", "1400000").replace(
        "note: |\n        two lines\n        of text\n", "note: one line\n"
    ).replace("weight: 40%", 'weight: "50%, really"')


def test_fields_metrics_and_reviewees_are_added_after_their_siblings() -> None:
    reviewees, rkey, alice, mkey, revenue = nodes(TEXT.replace("    nps: {weight: 40%, target: 45}\n", ""))
    text = TEXT.replace("    nps: {weight: 40%, target: 45}\n", "")
    ed = DataFileEditor(text)
    ed.add_field(mkey, revenue, "owner", "bob")
    ed.add_metric(rkey, alice, "nps", {"weight": "40%"})
    tree = parse(text, "t.yaml")
    assert isinstance(tree, MapNode)
    rk = tree.key("reviewees")
    assert rk is not None
    ed.add_reviewee(rk, reviewees, "007", [("nps", {"target": "0012"})])
    out = ed.render()
    assert out == text + '      owner: bob\n    nps:\n      weight: 40%\n  "007":\n    nps:\n      target: "0012"\n'


def test_anchored_values_and_flow_mappings_that_need_entries_are_refused() -> None:
    text = "semester: 2026-H2\nreviewees:\n  alice:\n    nps: &std {weight: 40%}\n  bob:\n    nps: *std\n"
    tree = parse(text, "t.yaml")
    assert isinstance(tree, MapNode)
    reviewees = tree.get("reviewees")
    assert isinstance(reviewees, MapNode)
    alice = reviewees.items[0][1]
    assert isinstance(alice, MapNode)
    mkey, nps = alice.items[0]
    assert isinstance(nps, MapNode)
    ed = DataFileEditor(text)
    with pytest.raises(NotEditable, match="anchor"):
        ed.add_field(mkey, nps, "target", "45")
    flow = "semester: 2026-H2\nreviewees:\n  alice:\n    nps: {weight: 40%}\n"
    _, _, _, fkey, fnps = nodes(flow)
    with pytest.raises(NotEditable, match="flow style"):
        DataFileEditor(flow).add_field(fkey, fnps, "target", "45")


@pytest.mark.parametrize("reviewee", ["12345", "007", "no", "alice", "2026-01-01", "a: b", "ou_1"])
def test_what_the_editor_adds_is_what_fmt_would_write(reviewee: str) -> None:
    """A reviewee key the editor adds is quoted exactly as `syncer fmt` quotes it (an ID of digits, a word
    other YAML readers misread), so that `fmt --check` passes after a sheet import."""
    text = "semester: 2026-H2\nreviewees:\n  zed:\n    nps:\n      target: 45\n"
    tree = parse(text, "t.yaml")
    assert isinstance(tree, MapNode)
    reviewees, rk = tree.get("reviewees"), tree.key("reviewees")
    assert isinstance(reviewees, MapNode) and rk is not None
    ed = DataFileEditor(text)
    ed.add_reviewee(rk, reviewees, reviewee, [("nps", {"target": "46"})])
    out = ed.render()
    assert out != text
    assert format_text(out, "t.yaml", data_rules(CatalogOrder())) == out


@pytest.mark.parametrize("owner", ["12345", "007", "ou_1", "no", "bob"])
def test_a_person_field_the_editor_writes_is_quoted_as_fmt_quotes_it(owner: str) -> None:
    """A raw user ID of digits in a field of people is quoted as `syncer fmt` quotes it, whether the
    editor sets the value, adds the field, adds a metric or adds a reviewee; other fields keep digits plain."""
    text = "semester: 2026-H2\nreviewees:\n  zed:\n    revenue:\n      owner: x\n    nps:\n      target: 45\n"
    tree = parse(text, "t.yaml")
    assert isinstance(tree, MapNode)
    reviewees, rk = tree.get("reviewees"), tree.key("reviewees")
    assert isinstance(reviewees, MapNode) and rk is not None
    zkey, zed = reviewees.items[0]
    assert isinstance(zed, MapNode)
    revenue, nps = zed.get("revenue"), zed.get("nps")
    nps_key = zed.key("nps")
    assert isinstance(revenue, MapNode) and isinstance(nps, MapNode) and nps_key is not None
    value, fkey = revenue.get("owner"), revenue.key("owner")
    assert isinstance(value, Scalar) and fkey is not None
    people = frozenset({("revenue", "owner"), ("nps", "owner"), ("sales", "owner")})
    ed = DataFileEditor(text, person_fields=people)
    ed.set_value(value, fkey, owner, metric="revenue")
    ed.add_field(nps_key, nps, "owner", owner)
    ed.add_metric(zkey, zed, "sales", {"owner": owner, "target": "12345"})
    ed.add_reviewee(rk, reviewees, "amy", [("revenue", {"owner": owner})])
    out2 = ed.render()
    order = CatalogOrder(
        (("revenue", ("owner",)), ("nps", ("target", "owner")), ("sales", ("owner", "target"))), people
    )
    assert format_text(out2, "t.yaml", data_rules(order)) == out2
    assert "target: 12345" in out2  # not a field of people: digits stay plain
    if owner == "12345":
        assert out2.count('owner: "12345"') == 4


def test_a_new_data_file_quotes_ids_in_fields_of_people_as_fmt_does() -> None:
    text = render_file(
        semester_label="2026-H2",
        reviewees=[("12345", [("revenue", {"owner": "67890", "target": "100"})])],
        header=["a header"],
        person_fields={("revenue", "owner")},
    )
    order = CatalogOrder((("revenue", ("owner", "target")),), frozenset({("revenue", "owner")}))
    assert format_text(text, "t.yaml", data_rules(order)) == text
    assert '  "12345":' in text and 'owner: "67890"' in text and "target: 100" in text


@pytest.mark.parametrize("note", ["see http://x#y", "a:b", "plain words"])
def test_a_value_in_a_flow_mapping_is_quoted_as_fmt_quotes_it(note: str) -> None:
    """In `{...}` fmt quotes a text holding `:` or `#` too (not only `,[]{}`): so does the editor."""
    text = "semester: 2026-H2\nreviewees:\n  zed:\n    nps: {weight: 40%, note: x}\n"
    _, _, _, _, nps = nodes(text)
    node, key = nps.get("note"), nps.key("note")
    assert isinstance(node, Scalar) and key is not None
    ed = DataFileEditor(text)
    ed.set_value(node, key, note)
    out = ed.render()
    assert format_text(out, "t.yaml", data_rules(CatalogOrder())) == out
    assert (f'note: "{note}"' in out) == (note != "plain words")


def test_a_quoted_value_given_lines_becomes_a_literal_block_as_fmt_writes_it() -> None:
    text = 'semester: 2026-H2\nreviewees:\n  zed:\n    nps:\n      note: "quoted"\n      target: 4\n'
    _, _, _, _, nps = nodes(text)
    node, key = nps.get("note"), nps.key("note")
    assert isinstance(node, Scalar) and key is not None
    ed = DataFileEditor(text)
    ed.set_value(node, key, "line one\nline two")
    out = ed.render()
    assert "      note: |-\n        line one\n        line two\n      target: 4\n" in out
    assert format_text(out, "t.yaml", data_rules(CatalogOrder())) == out


def test_a_field_is_added_where_the_catalog_order_puts_it_before_the_next_fields_comments() -> None:
    """fmt keeps fields in the catalog's order: the editor adds one there, and the comment and blank line
    above the field it goes before stay with that field."""
    text = (
        "semester: 2026-H2\nreviewees:\n  zed:\n    nps:\n      weight: 40%\n\n"
        "      # measured quarterly\n      actual: 5  # so far\n"
    )
    _, _, _, mkey, nps = nodes(text)
    order = ("weight", "target", "actual", "note")
    ed = DataFileEditor(text)
    ed.add_field(mkey, nps, "target", "45", order=order)
    ed.add_field(mkey, nps, "note", "x", order=order)
    out = ed.render()
    assert out == (
        "semester: 2026-H2\nreviewees:\n  zed:\n    nps:\n      weight: 40%\n      target: 45\n\n"
        "      # measured quarterly\n      actual: 5  # so far\n      note: x\n"
    )
    rules = data_rules(CatalogOrder((("nps", order),)))
    assert format_text(out, "t.yaml", rules) == out
    first = DataFileEditor(text)
    first.add_field(mkey, nps, "weight2", "1", order=order)  # a field the order does not name: at the end
    assert first.render().endswith("      actual: 5  # so far\n      weight2: 1\n")
