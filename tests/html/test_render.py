"""The reports' one Jinja2 environment: everything escaped, the strict policy on every page, and the words
in the language asked for, which the page's `lang` names."""

from __future__ import annotations

import pytest

from syncer.errors import SyncerError
from syncer.html import MISSING, require
from syncer.html.render import CONTENT_SECURITY_POLICY, environment, render_page
from syncer.i18n import Language

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


@pytest.mark.parametrize(
    ("language", "lang", "footer"), [("en", "en", "Made by syncer 1."), ("zh_CN", "zh-CN", "由 syncer 1 生成。")]
)
def test_the_words_and_the_pages_lang_follow_the_language(language: Language, lang: str, footer: str) -> None:
    page = render_page("base.html", {"title": "t", "version": "1"}, language=language)
    assert f'<html lang="{lang}">' in page and footer in page


def test_each_language_has_its_own_environment() -> None:
    assert environment("zh_CN") is environment("zh_CN") and environment("zh_CN") is not environment("en")


def test_a_missing_extra_is_one_line_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    require()  # installed here
    monkeypatch.setattr("syncer.html.find_spec", lambda name: None if name == "pygal" else object())
    with pytest.raises(SyncerError) as err:
        require()
    assert str(err.value) == MISSING and "pip install 'feishu-syncer[html]'" in MISSING


def test_controls_and_bidi_overrides_from_files_and_feishu_are_written_as_escapes() -> None:
    """HTML escaping leaves them be: a right-to-left override in a file or person name would make the page read
    other than it is, as it would a terminal's. Given to a template as a value or as a message's placeholder,
    each shows as its escape, like in every other output (syncer.text.safe); the page's own lines stay."""
    page = render_page("base.html", {"title": "sales\u202e.yaml", "version": "1\x1b[31m\u2066x"})
    assert "\u202e" not in page and "\x1b" not in page and "\u2066" not in page
    assert "<title>sales\\u202e.yaml</title>" in page
    assert "Made by syncer 1\\x1b[31m\\u2066x." in page
    assert "\n<head>\n" in page
