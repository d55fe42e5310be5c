"""The one-pass verdict (syncer.edit.formatted) against the full path (syncer.edit.fmt.reformat): it says
"formatted" only when the full path would write the file as it is, and it says so for the files fmt
writes without comments inside; on the example's files, on documents hypothesis writes and on both after
random edits."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.edit.fmt import CatalogOrder, catalog_rules, data_rules, format_text, reformat
from syncer.edit.formatted import is_formatted
from syncer.edit.layout import Path as KeyPath
from syncer.edit.layout import Rules
from syncer.edit.scalars import double_quoted
from syncer.errors import LoadError
from syncer.load.files import NOT_DATA
from syncer.load.yamlnodes import to_plain
from syncer.load.yamlparse import MAX_DEPTH, parse
from tests.example import EXAMPLE

DATA = data_rules(CatalogOrder.of(parse((EXAMPLE / "catalog.yaml").read_bytes(), "catalog.yaml")))
CATALOG = catalog_rules()
EXAMPLE_FILES = sorted(p for p in EXAMPLE.rglob("*.yaml") if p.name not in NOT_DATA)


def _b_first(path: KeyPath) -> Sequence[str]:
    return ("b",)


def _aligned(path: KeyPath) -> bool:
    return True


B_FIRST = Rules(order=_b_first)
ALIGNED = Rules(aligned=_aligned)


def full_keeps(text: str, rules: Rules) -> bool:
    """The full path's verdict: it loads, and fmt would write it as it is."""
    try:
        return reformat(text, "t.yaml", rules) == text
    except LoadError:
        return False


def agree(text: str, rules: Rules) -> bool:
    """The pass says formatted only where the full path does."""
    return not is_formatted(text, rules) or full_keeps(text, rules)


def test_the_examples_data_files_once_formatted_are_told_in_one_pass() -> None:
    told = []
    for path in EXAMPLE_FILES:
        text = reformat(path.read_text(encoding="utf-8"), path.name, DATA)
        if path.name != "catalog.yaml" and "|" not in text:  # no value over several lines (a literal block)
            assert is_formatted(text, DATA), path  # its header comments included
            told.append(path.name)
    assert len(told) >= 3


def test_format_text_returns_what_the_pass_tells_formatted_unchanged() -> None:
    text = (EXAMPLE / "teams" / "sales.yaml").read_text(encoding="utf-8")
    assert is_formatted(text, DATA)
    assert format_text(text, "sales.yaml", DATA) is text


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n\nb: 2\n",  # a blank line between entries is kept
        "- a: 1\n\n  b: 2\n",
        "# only\n# comments\n\n# here\n",
        "",
        "# head\n\na:\n  - x\n  -\n  - b: 1\n\n    c: 2\n  -\n    - y\n",
        'a: "1"\n"b c:": ""\n',
    ],
)
def test_files_in_the_layout_are_told_formatted(text: str) -> None:
    assert full_keeps(text, Rules())
    assert is_formatted(text, Rules())


# Each is in the layout but for one thing, which only the full path sees (or refuses): the pass must not
# call it formatted.
@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("# a\x85# b\nk: v\n", Rules()),  # NEL ends a line for YAML: two comments, written on two lines
        ("# a\u2028# b\nk: v\n", Rules()),
        ("# a\r# b\nk: v\n", Rules()),
        ("a: 1\n...", Rules()),  # no line break at the end
        ("a: 1\n# c", Rules()),
        ("# a \nk: v\n", Rules()),  # blanks after a comment
        ("# a\n \n# b\nk: v\n", Rules()),  # a blank line that is not empty
        ("\n# a\nk: v\n", Rules()),  # a blank line first
        ("\nk: v\n", Rules()),
        ("# a\n\n\n# b\nk: v\n", Rules()),  # two blank lines
        ("# a\n\n", Rules()),  # a blank line last
        ("a:\n\n  b: 1\n", Rules()),  # a blank line at the start of a block
        ("-\n\n  - x\n", Rules()),
        ("a: 1\na: 2\n", Rules()),  # a duplicate key: refused
        ("null: 1\n", Rules()),  # a null key: refused
        ("a: 1\nb: 2\n", B_FIRST),  # keys out of the rules' order
        ("a: x\nlong: y\n", ALIGNED),  # values in one column
        ("semester: yes\n", DATA),  # what other readers misread: quoted
        ("1234: x\n", DATA),  # a key too
        ('k: "a\\nb"\n', Rules()),  # a line break in a value: a literal block
        ('k: "a\\rb"\n', Rules()),  # the loader reads a carriage return as a line break
        ("".join(" " * 2 * i + "a:\n" for i in range(MAX_DEPTH)) + " " * 2 * MAX_DEPTH + "a: 1\n", Rules()),
    ],
)
def test_what_only_the_full_path_sees_is_not_told_formatted(text: str, rules: Rules) -> None:
    assert not full_keeps(text, rules)
    assert not is_formatted(text, rules)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: &x\n  b: 1\nc: *x\n",
        "a: !!str 1\n",
        "a: {b: 1}\n",
        "- [a]\n",
        "---\na: 1\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1  # c\n",
        "a:\n  # c\n  b: 1\n",
        "a: 1\n# c\n",
        "a:   1\n",
        "a: |\n  x\n",
        "a: 'x'\n",
        "a:\n    b: 1\n",
        "a:\n- 1\n",
        "a: [\n",
        "x\n",  # a document that is a scalar (the full path keeps it)
    ],
)
def test_what_the_pass_leaves_to_the_full_path_is_not_told_formatted(text: str) -> None:
    assert not is_formatted(text, Rules())


# -- deterministic: every short text of YAML's signs, and the values other readers take for something else --


def test_every_short_text_of_yamls_signs_is_told_formatted_only_where_the_full_path_keeps_it() -> None:
    told = 0
    for size in range(5):
        for chars in itertools.product('ab: -\n"#~', repeat=size):
            text = "".join(chars) + "\n"
            for rules in (Rules(), B_FIRST, DATA):
                if is_formatted(text, rules):
                    assert full_keeps(text, rules), (text, rules)
                    told += 1
    assert told > 400  # ("a: b\n", "- ~\n"...): the pass is not simply refusing


# What a value means can change with how it is written: each goes in a data file in turn as the semester, a
# reviewee's name, a field of people, another field, a field's name and a list item. Written out, it reads
# back as the same text, is told formatted (unless it has a line break: a literal block), and how its author
# might have written it instead (plain, single-quoted, in a flow, with a blank after) is never told
# formatted unless the full path keeps it.
_TRICKY = ["no", "NO", "on", "y", "0x10", "0o17", "1e3", "1_000", ".5", "+.5", "~", "null", "Null", "2026-01-01"]
_TRICKY += ["12:30", "1:02:03", "007", "+1", "-1", "-0", "1.", "50%", "1234", "12345678901234567", "a: b", "a #b"]
_TRICKY += ["a#b", "a:b", "a:", "a\tb", "a ", " a", "\u3000", "a\u00a0", "\ufeffa", "a\u200bb", "x" * 1000, ""]
_TRICKY += ["it's", 'say "hi"', "a\\b", "---", "...", "- a", "-", "? a", "&a", "*a", "!a", "%a", "@a", "`a", "[a"]
_TRICKY += ["{a", "|", ">", "<<", "=", "a\x85b", "a\u2028b", "a\rb", "two\nlines", "\x7f", "\U0001f600", "张三"]
_PLACES = ("semester", "name", "owner", "unit", "field", "item")


def _data_file(**shown: str) -> str:
    s = {"semester": "2026-H2", "name": "alice", "owner": "grace", "unit": "CNY", "field": "extra", "item": "x"}
    s.update(shown)
    return (
        f"semester: {s['semester']}\nreviewees:\n  {s['name']}:\n    revenue:\n      unit: {s['unit']}\n"
        f"      owner: {s['owner']}\n      {s['field']}:\n        - {s['item']}\n"
    )


@pytest.mark.parametrize("word", _TRICKY)
def test_a_tricky_value_keeps_its_meaning_and_is_told_formatted_once_written(word: str) -> None:
    for place in _PLACES:
        text = _data_file(**{place: double_quoted(word)})
        once = format_text(text, "t.yaml", DATA)
        assert to_plain(parse(once, "t.yaml")) == to_plain(parse(text, "t.yaml"))
        assert format_text(once, "t.yaml", DATA) == once
        assert is_formatted(once, DATA) or "\n" in word or "\r" in word  # (the loader reads `\r` as `\n`)
        assert agree(text, DATA)  # (with a line break, written as a literal block)
        for shown in (word, "'" + word.replace("'", "''") + "'", f"[{double_quoted(word)}]", f"{double_quoted(word)} "):
            assert agree(_data_file(**{place: shown}), DATA), (place, shown)


# -- properties --

_WORDS = ["a", "b", "id", "weight", "20%", "1234", "0123", "no", "yes", "12:30", "1e3", "x y", "x: y", "a #b"]
_WORDS += ["", "null", "~", "-1.5", "---", "-", "it's", 'say "hi"', "tab\there", "two\nlines", "张三", "&a", "*b"]

_Tree = str | None | dict[str, "_Tree"] | list["_Tree"]


def _trees() -> st.SearchStrategy[_Tree]:
    scalars: st.SearchStrategy[_Tree] = st.none() | st.sampled_from(_WORDS)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, min_size=1, max_size=3)
            | st.dictionaries(st.sampled_from(_WORDS[:20]), inner, min_size=1, max_size=3)
        ),
        max_leaves=12,
    )


def _write(node: _Tree, draw: st.DrawFn, indent: int, step: int) -> list[str]:
    """A document for `node` in a style drawn at each entry: quoting, spacing, comments, flows."""

    def scalar(value: str | None) -> str:
        if value is None:
            return draw(st.sampled_from(["", "null", "~"]))
        simple = value and value.strip() == value and not any(c in value for c in "\n\t:#&*'\"-~") and value[0] != "-"
        return value if simple and draw(st.booleans()) else json.dumps(value, ensure_ascii=False)

    pad = " " * indent
    out: list[str] = []
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
    for k, v in items:
        lead = f"{pad}- " if isinstance(node, list) else f"{pad}{scalar(str(k))}:" + draw(st.sampled_from([" ", "  "]))
        if draw(st.integers(0, 6)) == 0:
            out.append("")
        if draw(st.integers(0, 8)) == 0:
            out.append(pad + "# note")
        tail = draw(st.sampled_from(["", "", "", "  # why"]))
        if isinstance(v, dict | list) and draw(st.integers(0, 4)) == 0:
            out.append(lead + json.dumps(v, ensure_ascii=False) + tail)  # a flow collection
        elif isinstance(v, dict | list):
            out.append(lead.rstrip() + tail)
            out += _write(v, draw, indent + step, step)
        else:
            out.append(lead + scalar(v) + tail)
    return out


@st.composite
def _documents(draw: st.DrawFn) -> str:
    tree = draw(_trees().filter(lambda t: isinstance(t, dict | list)))
    head = draw(st.sampled_from([[], ["# header"], ["# header", "", "# more", ""]]))
    return "\n".join(head + _write(tree, draw, 0, draw(st.sampled_from([2, 4])))) + "\n"


_SNIPPETS = [" ", "  ", "\n", "\n\n", "#", " # c", "- ", ": ", "&a ", "*a", "!!str ", "---\n", "...\n", "{", "[", '"']
_SNIPPETS += ["'", "\t", "\r", "\x85", "~", "null", "0123", "x", "-", ":", "\n  ", "%YAML 1.1\n"]


@st.composite
def _edited(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """A text with one to three random edits: a snippet put in, a few characters out, two lines swapped or a
    line twice."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["insert", "delete", "swap", "repeat"]))
        at = draw(st.integers(0, len(text)))
        if how == "insert":
            text = text[:at] + draw(st.sampled_from(_SNIPPETS)) + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 3)) :]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if how == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(i, lines[j])
            text = "\n".join(lines)
    return text


def _canonical(text: str, rules: Rules) -> str:
    try:
        return reformat(text, "t.yaml", rules)
    except LoadError:
        return text


_RULES = st.sampled_from([Rules(), B_FIRST, DATA])
_EXAMPLES = st.sampled_from([p.read_text(encoding="utf-8") for p in EXAMPLE_FILES])
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_documents(), _RULES)
def test_the_pass_agrees_with_the_full_path_on_documents_in_many_styles(text: str, rules: Rules) -> None:
    assert agree(text, rules)
    once = _canonical(text, rules)
    assert agree(once, rules)
    body = once.lstrip("#\n") if once.startswith("# header") else once
    if full_keeps(once, rules) and not any(c in body for c in "#{[|"):  # no comment inside, flow or block
        assert is_formatted(once, rules)


@_SETTINGS
@given(st.data(), _RULES)
def test_the_pass_agrees_with_the_full_path_after_random_edits(data: st.DataObject, rules: Rules) -> None:
    texts = _documents().map(lambda t: _canonical(t, rules))
    assert agree(data.draw(_edited(texts)), rules)


@_SETTINGS
@given(st.data())
def test_the_pass_agrees_with_the_full_path_on_the_examples_edited(data: st.DataObject) -> None:
    rules = data.draw(st.sampled_from([DATA, CATALOG]))
    text = data.draw(_edited(_EXAMPLES.map(lambda t: _canonical(t, rules))))
    assert agree(text, rules)


def test_the_catalog_is_left_to_the_full_path() -> None:
    catalog = (EXAMPLE / "catalog.yaml").read_text(encoding="utf-8")
    assert full_keeps(catalog, CATALOG)
    assert not is_formatted(catalog, CATALOG)  # its fields are aligned
