"""The state's file format (syncer/state/format.py), where a shard is damaged: the message names the file and the
first line that is not a row syncer writes, with what is wrong with it; a file whose lines are each a row but
which is not JSON Lines as a whole (a blank line among them) is named without a line."""

from __future__ import annotations

import pytest

from syncer.errors import StateDamaged
from syncer.model import Identity
from syncer.state.format import decode_shard, why
from syncer.state.image import StateData
from syncer.state.model import StateMeta

SEM = "7293040702907514899"
META = StateMeta(
    1, "0123456789abcdef", 1, "2026-01-01T00:00:00.000Z", Identity("open.feishu.cn", "cli_a1b2", "open_id")
)


def damage(text: str) -> StateDamaged:
    with pytest.raises(StateDamaged) as caught:
        decode_shard(StateData(META), SEM, text, where="state/2026-H2.jsonl", sealed=False)
    return caught.value


def test_the_first_line_that_is_not_a_row_is_named_after_blank_ones() -> None:
    got = damage('\n["ou_1", "7272580325522276372", {"4": "1"}]\n{"not": "a row"}\n')
    assert (got.where, got.what) == ("state/2026-H2.jsonl:3", "not a row syncer writes (not a row)")


def test_a_line_that_is_not_json_is_named_with_the_parsers_words() -> None:
    got = damage('["ou_1", "7272580325522276372", {"4": "1"}]\n["ou_2", \n')
    assert got.where == "state/2026-H2.jsonl:2"
    assert got.what.startswith("not a row syncer writes (Expecting value: line 1 column")


def test_rows_with_a_blank_line_among_them_are_not_json_lines() -> None:
    got = damage('["ou_1", "7272580325522276372", {"4": "1"}]\n\n["ou_2", "7272580325522276372", {"4": "1"}]\n')
    assert (got.where, got.what) == ("state/2026-H2.jsonl", "not JSON Lines")
    assert str(got).startswith("state/2026-H2.jsonl: the state is damaged: not JSON Lines; ")


def test_why_says_what_is_missing_or_what_the_parser_said() -> None:
    assert why(KeyError("lineage")) == "no 'lineage'"
    assert why(KeyError()) == "a missing key"
    assert why(ValueError("Expecting value")) == "Expecting value"
    assert why(ValueError()) == "ValueError"
