"""The canonical layout (syncer.edit.layout): indentation, spacing, quoting and where comments go; and, for
documents hypothesis writes in many styles, that the layout keeps every value, key and comment and that a
second pass changes nothing."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.edit.layout import Path, Rules, render
from syncer.edit.scalars import plain_ok
from syncer.edit.scan import scan_layout
from syncer.load.yamlnodes import to_plain
from syncer.load.yamlparse import parse


def fmt(text: str, rules: Rules | None = None) -> str:
    return render(text, parse(text, "t.yaml"), scan_layout(text), rules or Rules())


def test_indentation_becomes_two_spaces_and_spacing_one() -> None:
    text = "a:\n    b:\n        c:    1\n    d:   x y\ne:\n- 1\n-   two\n"
    assert fmt(text) == "a:\n  b:\n    c: 1\n  d: x y\ne:\n  - 1\n  - two\n"


def test_flow_collections_stay_flow_on_one_line() -> None:
    text = 'f: { id: "2",type: number ,\n     tags: [ a,b ] }\n'
    assert fmt(text) == 'f: {id: "2", type: number, tags: [a, b]}\n'


def test_a_quoted_scalar_stays_quoted_in_double_quotes() -> None:
    assert fmt("a: 'it''s'\nb: \"x\"\nc: plain\n") == 'a: "it\'s"\nb: "x"\nc: plain\n'


def test_text_that_plain_would_change_is_quoted() -> None:
    # a plain scalar that folds over two lines is one line of text; a tab or a trailing `:` needs quotes
    assert fmt("a: one\n  two\nb: 'x:'\nc: \"t\\tx\"\n") == 'a: one two\nb: "x:"\nc: "t\\tx"\n'


def test_line_breaks_become_a_literal_block() -> None:
    text = 'note: "first\\nsecond\\n"\nlist:\n- "a\\nb"\n'
    assert fmt(text) == "note: |\n  first\n  second\nlist:\n  - |-\n    a\n    b\n"


def test_a_comment_after_content_keeps_its_column_when_there_is_room() -> None:
    text = "a: 1          # far\nbb: {x: 1,   y: 2}  # near\nc: 3 # tight\n"
    assert fmt(text) == "a: 1          # far\nbb: {x: 1, y: 2}    # near\nc: 3  # tight\n"


def test_an_own_line_comment_goes_with_the_entry_below_at_its_indentation() -> None:
    text = "a:\n# about b\n    b: 1\n        # about c\n    c: 2\n"
    assert fmt(text) == "a:\n  # about b\n  b: 1\n  # about c\n  c: 2\n"


def test_a_comment_deeper_than_the_next_entry_ends_the_block_above() -> None:
    text = "a:\n  b: 1\n  # b2: 2   (commented out)\n\nc: 3\n"
    assert fmt(text) == text


def test_comments_move_with_their_entry_when_keys_are_reordered() -> None:
    rules = Rules(order=lambda path: ("id", "type") if path == ("f",) else ())
    text = "f:\n  # the type\n  type: number  # one of four\n  id: '4'\n"
    assert fmt(text, rules) == 'f:\n  id: "4"\n  # the type\n  type: number  # one of four\n'


def test_blank_lines_are_kept_once_but_not_at_the_start_of_a_block_or_the_end() -> None:
    text = "a:\n\n  b: 1\n\n\n  c: 2\n# end\n\n\n"
    assert fmt(text) == "a:\n  b: 1\n\n  c: 2\n# end\n"


def test_a_block_scalar_header_comment_is_kept() -> None:
    text = "note: |  # free text\n  line one\n  line two\n"
    assert fmt(text) == text


def test_aligned_mappings_start_their_values_in_one_column() -> None:
    rules = Rules(aligned=lambda path: path == ("fields",))
    text = "fields:\n  weight: {id: '2'}\n  calibration: {id: '7'}\n  note:  x\n"
    assert fmt(text, rules) == 'fields:\n  weight:      {id: "2"}\n  calibration: {id: "7"}\n  note:        x\n'


def test_rules_quote_what_they_name() -> None:
    rules = Rules(quote=lambda path, text: path == ("id",), quote_key=lambda path, text: text == "on")
    assert fmt("id: 123\nn: 123\non: 1\n", rules) == 'id: "123"\nn: 123\n"on": 1\n'


def test_mappings_in_a_list_start_on_the_dash_line_and_keep_their_comments() -> None:
    text = "l:\n-\n    # c\n    a: 1\n    b: 2\n- x\n- a: 1  # t\n  # inner\n  b: [1, 2]\n"
    once = fmt(text)
    assert once == "l:\n  # c\n  - a: 1\n    b: 2\n  - x\n  - a: 1  # t\n    # inner\n    b: [1, 2]\n"
    assert fmt(once) == once


def test_empty_and_comment_only_documents() -> None:
    assert fmt("") == ""
    assert fmt("# only a comment\n\n# and another   \n") == "# only a comment\n\n# and another\n"
    assert fmt("---\na: 1\n...\n") == "---\na: 1\n...\n"


def test_a_null_value_stays_null() -> None:
    assert fmt("a:\nb: ~\nc: [~, null]\n") == "a:\nb:\nc: [null, null]\n"


# -- properties: documents written in many styles --

_WORDS = ["a", "b", "ok", "yes", "no", "on", "0123", "12:30", "1e3", "40%", "-1.5", "x y", "null", "~", "", "#x"]
_WORDS += ["a: b", "a #b", "it's", "2026-01-01", "张三", "- x", "{x}", "x,y", "tab\there", "two\nlines", "end\n"]

_text = st.one_of(st.sampled_from(_WORDS), st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8))
_key = st.one_of(st.sampled_from(["a", "b", "c", "id", "type", "no", "1", "2026-H2", "x y", "é"]), _text)


def _quoted(text: str, style: int) -> str:
    if style == 1 and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    escaped = "".join(c if c.isprintable() or c == " " else f"\\U{ord(c):08x}" for c in escaped)
    return '"' + escaped + '"'


@st.composite
def _scalar(draw: st.DrawFn, flow: bool = False) -> str:
    value = draw(_text)
    style = draw(st.integers(0, 2))
    plain = plain_ok(value) and not (flow and any(c in value for c in ",[]{}:#"))
    return value if style == 0 and plain else _quoted(value, style or 2)


@st.composite
def _document(draw: st.DrawFn) -> str:
    step = draw(st.sampled_from([2, 3, 4]))
    lines: list[str] = []

    def comment(indent: int) -> None:
        if draw(st.integers(0, 4)) == 0:
            lines.append(" " * draw(st.integers(0, indent + 2)) + "# " + draw(st.sampled_from(["note", "x: y", "#"])))
        if draw(st.integers(0, 5)) == 0:
            lines.append("")

    def tail() -> str:
        return draw(st.sampled_from(["", "", "  # c", " #c", "      # far"]))

    def mapping(indent: int, depth: int) -> None:
        keys = draw(st.lists(_key, min_size=1, max_size=4, unique=True))
        for k in keys:
            comment(indent)
            head = " " * indent + _quoted(k, 2) + ":"
            kind = draw(st.integers(0, 4 if depth < 3 else 1))
            if kind <= 1:
                lines.append(head + " " + draw(_scalar()) + tail())
            elif kind == 2:
                inner = draw(st.lists(st.tuples(_key, _scalar(flow=True)), max_size=3, unique_by=lambda t: t[0]))
                body = ", ".join(f"{_quoted(a, 2)}: {b}" for a, b in inner)
                lines.append(head + " {" + body + "}" + tail())
            elif kind == 3:
                lines.append(head + tail())
                for _ in range(draw(st.integers(1, 3))):
                    comment(indent + step)
                    lines.append(" " * (indent + step) + "- " + draw(_scalar()) + tail())
            else:
                lines.append(head + tail())
                mapping(indent + step, depth + 1)

    comment(0)
    mapping(0, 0)
    comment(0)
    return "\n".join(lines) + "\n"


def _comments(text: str) -> Counter[str]:
    return Counter(c.text for c in scan_layout(text).comments)


_ORDER = Rules(
    order=lambda path: ("type", "id"),
    quote=lambda path, text: bool(re.fullmatch(r"[0-9]+", text)),
    quote_key=lambda path, text: text == "no",
    aligned=lambda path: len(path) % 2 == 1,
)


@settings(max_examples=300, deadline=None)
@given(_document(), st.booleans())
def test_the_layout_keeps_values_keys_and_comments_and_is_idempotent(text: str, ordered: bool) -> None:
    rules = _ORDER if ordered else Rules()
    tree = parse(text, "t.yaml")
    once = fmt(text, rules)
    assert to_plain(parse(once, "t.yaml")) == to_plain(tree)
    assert _comments(once) == _comments(text)
    assert fmt(once, rules) == once


def _path_is_tuple(path: Path) -> bool:
    return isinstance(path, tuple)


def test_rules_see_paths_of_keys_and_indexes() -> None:
    seen: list[Path] = []

    def quote(path: Path, text: str) -> bool:
        seen.append(path)
        return False

    fmt("a:\n  b: [x, {c: y}]\n", Rules(quote=quote))
    assert seen == [("a", "b", 0), ("a", "b", 1, "c")]
    assert all(_path_is_tuple(p) for p in seen)
