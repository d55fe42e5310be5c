"""What Feishu said to one import request (syncer.apply.answer): how a rejection is isolated, and what an
import that may have landed tells the user when nothing settles it."""

from __future__ import annotations

from syncer.apply.answer import Answer, Unconfirmed
from syncer.feishu.errors import RevieweeRejected, RowRejected, ServerError

TOKEN = "0123456789abcdef0123456789abcdef"


def test_a_reviewee_level_rejection_is_isolated_by_reviewee_a_row_level_one_by_row() -> None:
    reviewee = RevieweeRejected(code=1580306, http_status=400, msg="", endpoint="metric_details/import")
    row = RowRejected(code=1580301, http_status=400, msg="", endpoint="metric_details/import")
    assert Answer("rejected", error=reviewee).rejection() == (1580306, "reviewee", reviewee.meaning)
    assert Answer("rejected", error=row).rejection() == (1580301, "row", row.meaning)


def test_an_unconfirmed_import_says_why_nothing_could_tell() -> None:
    cause = ServerError(code=None, http_status=503, msg="", endpoint="metric_details/import", attempts=5)
    text = str(Unconfirmed("S1", TOKEN, 50, cause))
    assert "semester S1: a batch of 50 rows may have landed" in text
    assert "Feishu's last answer cannot tell" in text and "could not be read back" not in text
    assert f"client_token {TOKEN}" in text


def test_an_unconfirmed_import_whose_rows_cannot_be_read_gives_the_command_that_closes_it() -> None:
    """1580110 and rows that cannot be read: the message names `syncer state settle` with the 12-character
    prefix of the token that command takes."""
    cause = ServerError(code=None, http_status=503, msg="", endpoint="metric_details/import", attempts=5)
    text = str(Unconfirmed("S1", TOKEN, 50, cause, read_back="no permission"))
    assert "its rows could not be read back (no permission;" in text
    assert f"`syncer state settle {TOKEN[:12]} --not-landed` closes the entry)" in text
