"""What a compiled condition tells the judging about itself, read once per run: the keys of `row` it reads,
and its verdict on a value without an old one when nothing else can change that verdict. Conditions bundled
(evaluated in one call) give each the verdict it gives alone."""

from __future__ import annotations

import sys

import pytest

from syncer.rules.compile import Bundle, Compiler


@pytest.fixture(scope="module")
def compiler() -> Compiler:
    return Compiler()


@pytest.mark.parametrize(
    ("condition", "keys"),
    [
        ("has(row.target) && row . note == ''", {"target", "note"}),
        ("new > 1.0", set()),
        ("size(row) > 2", None),  # the whole map
        ("row['target'] > 1.0", None),
        ("row.exists(k, k == 'x')", None),  # a macro over the row, not a key named exists
        ("row . size () > 1", None),
        ("row.size // its fields\n() > 1", None),  # a call: CEL skips a comment between a name and its (
        ("row.exists // any key\n  (k, k == 'x')", None),
        ("row.target // a comment, no call: (\n > 1.0", {"target"}),
        ("[1.0].exists(row, row > new)", None),  # a macro's variable named row
        ("file == 'row'", None),  # the word in a string literal: never one key too few
    ],
)
def test_the_row_keys_a_condition_reads(compiler: Compiler, condition: str, keys: set[str] | None) -> None:
    row_keys = compiler.compile(condition).row_keys
    assert row_keys == (None if keys is None else frozenset(keys))


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ("old != null && new < old && today >= semester.start", False),
        ("has(semester.start) && new < old && old != null", False),  # either side of && decides
        ("old == null || row.target > 1.0", True),
        ("old == null && new > 1.0", None),  # new decides
        ("new < old", None),  # fails on a null old: a finding with CEL's words, not a plain verdict
        ("new > 1.0", None),
        ("row.exists(k, k == 'x') && old != null", None),  # a loop: bound, it could run out of budget
    ],
)
def test_the_verdict_without_an_old_value(compiler: Compiler, condition: str, verdict: bool | None) -> None:
    assert compiler.compile(condition).without_old is verdict


LOOP = "[" + ",".join(["1"] * 75) + "]"
LOOPS = f"{LOOP}.all(a, {LOOP}.all(b, a + b > 0))"  # 5,700 steps: within CEL's budget alone, not twice
DEEP = "(" * 31 + "row.target > new" + ")" * 31  # compiles alone; one level more in a list does not
VARIABLES: dict[str, object] = {"new": 50.0, "row": {"target": 100.0, "note": "n"}}


@pytest.mark.parametrize(
    ("conditions", "verdicts"),
    [
        (["row.target > new", "row.target < new"], [True, False]),
        (["row.missing > new", "row.target > new"], ['Key not found in map : "missing"', True]),
        (["new == new ? row.note : false", "row.target > new"], ["the condition gave neither true nor false", True]),
        ([f"{LOOPS} && row.target > new", f"{LOOPS} && row.target < new"], [True, False]),
        ([DEEP, DEEP], [True, True]),
    ],
)
def test_bundled_conditions_give_each_its_own_verdict(
    compiler: Compiler, conditions: list[str], verdicts: list[bool | str]
) -> None:
    programs = tuple(compiler.compile(c) for c in conditions)
    assert list(Bundle(programs).verdicts(VARIABLES)) == verdicts == [p.holds(VARIABLES) for p in programs]


def test_a_null_verdict_is_neither_true_nor_false_and_leaves_none_alone(compiler: Compiler) -> None:
    # cel-expr-python 0.1.3 hands Python each null without the reference to None it gives back: a plan of a
    # million values without an old one under `old` freed None, and Python 3.11 aborts (no line, exit 134)
    programs = (compiler.compile("new == new ? old : false"), compiler.compile("new > 1.0"))
    variables: dict[str, object]
    bundle, variables = Bundle(programs), {"new": 2.0, "old": None}
    assert list(bundle.verdicts(variables)) == ["the condition gave neither true nor false", True]
    assert programs[0].holds(variables) == "the condition gave neither true nor false"
    before = sys.getrefcount(None)
    for _ in range(2000):
        programs[0].holds(variables)
        bundle.verdicts(variables)
    assert sys.getrefcount(None) > before - 1000  # each null given up would take one: 2,000 to 4,000
