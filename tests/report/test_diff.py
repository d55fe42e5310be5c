"""redact_diff: a data file's diff with every value hidden, its keys, comments and file names kept."""

from __future__ import annotations

from syncer.report.diff import redact_diff


def test_the_value_after_a_key_is_hidden_on_every_kind_of_line() -> None:
    diff = "@@ -1,3 +1,3 @@\n   target: 90\n-  actual: 55\n+  actual: 60\n"
    assert redact_diff(diff) == "@@ -1,3 +1,3 @@\n   target: (redacted)\n-  actual: (redacted)\n+  actual: (redacted)\n"


def test_file_names_hunk_headers_and_no_newline_markers_stay() -> None:
    diff = "--- a/teams/sales.yaml\n+++ b/teams/sales.yaml\n@@ -1 +1 @@\n\\ No newline at end of file\n"
    assert redact_diff(diff) == diff


def test_keys_that_open_a_mapping_and_comments_stay() -> None:
    diff = " reviewees:\n+  alice:\n+    # the Q3 numbers\n+    revenue: 1\n"
    assert redact_diff(diff) == " reviewees:\n+  alice:\n+    # the Q3 numbers\n+    revenue: (redacted)\n"


def test_a_list_items_key_keeps_its_dash() -> None:
    assert redact_diff("+  - owner: alice") == "+  - owner: (redacted)"


def test_a_line_that_continues_a_value_is_hidden_at_its_indent() -> None:
    diff = "+  note: >\n+    first words\n+    more words"
    assert redact_diff(diff) == "+  note: (redacted)\n+    (redacted)\n+    (redacted)"


def test_a_value_after_a_comment_sign_is_not_a_key() -> None:
    assert redact_diff("+  # actual: 55") == "+  # actual: 55"


def test_blank_lines_stay() -> None:
    assert redact_diff("\n \n") == "\n \n"
