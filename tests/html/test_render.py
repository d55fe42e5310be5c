"""The reports' one Jinja2 environment: everything escaped, the strict policy on every page, and the words
taken from whatever translations it is given (where the message catalogue plugs in)."""

from __future__ import annotations

import gettext

import pytest

from syncer.errors import SyncerError
from syncer.html import MISSING, require
from syncer.html.render import CONTENT_SECURITY_POLICY, environment, render_page

pytest.importorskip("jinja2")


def test_every_template_escapes_what_it_is_given() -> None:
    page = render_page("base.html", {"title": "<script>alert(1)</script>", "version": '"><img src=x>'})
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x>" not in page


def test_every_page_carries_the_strict_policy_and_no_script() -> None:
    page = render_page("base.html", {"title": "t", "version": "1"})
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;' in page
    assert "<script" not in page and "Noto Sans CJK SC" in page


WORDS = {
    "en": "zh-Hans",
    "Made by syncer %(version)s. This page fetches nothing: it works from a file, offline.": "由 syncer "
    "%(version)s 生成。",
}


class Chinese(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return WORDS.get(message, message)


def test_the_words_come_from_the_translations_given() -> None:
    page = render_page("base.html", {"title": "t", "version": "1"}, env=environment(Chinese()))
    assert "由 syncer 1 生成。" in page and 'lang="zh-Hans"' in page


def test_a_missing_extra_is_one_line_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    require()  # installed here
    monkeypatch.setattr("syncer.html.find_spec", lambda name: None if name == "pygal" else object())
    with pytest.raises(SyncerError) as err:
        require()
    assert str(err.value) == MISSING and "pip install 'feishu-syncer[html]'" in MISSING
