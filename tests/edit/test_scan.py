"""What the tree does not keep of a file (syncer.edit.scan): comments with their place, flow collections,
anchors, aliases and directives, and the document markers."""

from __future__ import annotations

from syncer.edit.scan import Comment, line_starts, scan_layout


def test_comments_are_found_with_their_position_and_whether_they_stand_alone() -> None:
    text = "# head\na: 1  # after a\n  # indented\nb: x#not a comment\n"
    assert scan_layout(text).comments == [
        Comment(1, 1, "# head", True),
        Comment(2, 7, "# after a", False),
        Comment(3, 3, "# indented", True),
    ]


def test_a_block_scalars_header_comment_is_found_and_its_text_is_not() -> None:
    layout = scan_layout("a: |  # note\n  # not a comment\n")
    assert layout.comments == [Comment(1, 7, "# note", False)]


def test_flow_collections_and_references_are_located() -> None:
    layout = scan_layout("a: &x {b: [1]}\nc: *x\n")
    assert layout.flows == frozenset({(1, 7), (1, 11)})
    assert layout.references == [(1, 4, "&"), (2, 4, "*")]


def test_document_markers_and_directives() -> None:
    layout = scan_layout("%YAML 1.1\n---\na: 1\n...\n")
    assert layout.explicit_start and layout.explicit_end
    assert layout.references == [(1, 1, "%")]
    plain = scan_layout("a: 1\n")
    assert not plain.explicit_start and not plain.explicit_end


def test_line_starts_count_every_yaml_line_break() -> None:
    assert line_starts("a\nb\r\nc\rd\x85e") == [0, 2, 5, 7, 9]
