"""The output guard: whatever reaches stdout or stderr, however it is split across writes, opens no workflow
command; only the annotation lines syncer renders pass, through their own door."""

from __future__ import annotations

import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syncer.cli.output import GuardedStream
from syncer.report.annotations import annotation
from syncer.text import inert_document, safe


def guarded(*writes: str) -> str:
    inner = io.StringIO()
    stream = GuardedStream(inner)
    for w in writes:
        stream.write(w)
    return inner.getvalue()


class PiecesOnly(GuardedStream):
    """The guard without its fast path: every write looked at line by line."""

    def guard(self, text: str) -> str:
        return self._guard_pieces(text)


#: Text made of what the guard looks for: colons, blanks and line breaks of every kind, the legacy prefix's
#: characters, invisible characters, and plain letters.
_TRICKY = st.lists(
    st.sampled_from([":", "::", " ", "\t", "\u3000", "\n", "\r", "\r\n", "#", "[", "##[", "\u2028", "\x85", "a", "bc"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TRICKY, max_size=8))
@example(["x\n#", "#[a"])  # the tail after a line break
@example(["x #", "#", "[a"])  # the tail without one
@example(["x\n  ", ":", ":a"])  # a blank line start after a break
@example(["  ", "\t", "::a"])  # and without one
@example(["x  ", "::a"])  # not a line start
def test_the_fast_path_writes_what_the_line_by_line_path_writes(writes: list[str]) -> None:
    """Text with nothing to change is written at once; whatever the writes, the output (and so the state
    carried to the next write) is the line by line path's."""
    fast, slow = io.StringIO(), io.StringIO()
    a, b = GuardedStream(fast), PiecesOnly(slow)
    for w in writes:
        a.write(w)
        b.write(w)
    assert fast.getvalue() == slow.getvalue()


def test_a_line_that_starts_with_two_colons_gets_a_backslash() -> None:
    assert guarded("ok\n::warning::x\n") == "ok\n\\::warning::x\n"
    assert guarded("  \t::error::x") == "  \t\\::error::x"


def test_a_lone_carriage_return_starts_a_line_as_the_runner_reads_it() -> None:
    assert guarded("50%\r::warning::x") == "50%\r\\::warning::x"


def test_a_command_split_across_writes_is_still_caught() -> None:
    assert guarded("  ", ":", ":warning::x\n") == "  \\::warning::x\n"
    assert guarded("a #", "#", "[add-mask]x") == "a ##\\u005badd-mask]x"


def test_the_legacy_prefix_is_caught_anywhere_in_a_line() -> None:
    assert guarded('{"note": "x ##[add-mask]y"}') == '{"note": "x ##\\u005badd-mask]y"}'


def test_invisible_characters_become_json_compatible_escapes() -> None:
    assert guarded("a\u2028b\u202ec") == "a\\u2028b\\u202ec"


def test_colons_inside_a_line_are_left_alone() -> None:
    assert guarded("file.yaml:3:4: error: x::y\n") == "file.yaml:3:4: error: x::y\n"


def test_annotations_syncer_renders_pass_through_their_own_door() -> None:
    inner = io.StringIO()
    stream = GuardedStream(inner)
    stream.write("partial")
    line = annotation("error", "bad\n::warning::x", title="t:1", file="a,b.yaml", line=3, col=4)
    stream.write_commands([line])
    assert inner.getvalue() == "partial\n" + line + "\n"
    assert line == "::error file=a%2Cb.yaml,line=3,col=4,title=t%3A1::bad%0A::warning::x"


def test_the_command_door_refuses_a_line_syncer_would_not_write() -> None:
    stream = GuardedStream(io.StringIO())
    with pytest.raises(ValueError):
        stream.write_commands(["::add-mask::secret"])
    with pytest.raises(ValueError):
        stream.write_commands(["::error::a\n::warning::b"])


def test_the_stream_has_no_byte_level_back_door() -> None:
    assert not hasattr(GuardedStream(io.StringIO()), "buffer")


def test_safe_makes_every_control_visible_and_leaves_text_alone() -> None:
    assert safe("a\nb\rc\td\x1b[31me\x00f\u2028g\u202eh") == "a\\nb\\rc\\td\\x1b[31me\\x00f\\u2028g\\u202eh"
    assert safe("Zhao Lei 赵磊 50% ok") == "Zhao Lei 赵磊 50% ok"


def test_a_document_keeps_its_line_breaks_and_tabs_and_escapes_the_rest() -> None:
    assert inert_document("<p>\ta\u202eb\x1b\r</p>\n赵磊\n") == "<p>\ta\\u202eb\\x1b\\r</p>\n赵磊\n"
