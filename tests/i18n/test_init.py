"""syncer.i18n: which language a setting and the locale pick, and the catalogues as the standard library's
translation objects (the API the cards, the workbook and the HTML report call)."""

from __future__ import annotations

import gettext

import pytest

from syncer.i18n import LANGUAGES, SETTINGS, TAGS, language_from, translations


@pytest.mark.parametrize(
    ("setting", "environ", "language"),
    [
        ("zh-CN", {"LANG": "en_US.UTF-8"}, "zh_CN"),  # a setting beats the locale
        ("en", {"LC_ALL": "zh_CN.UTF-8"}, "en"),
        ("auto", {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        (None, {"LANG": "zh_TW.Big5"}, "zh_CN"),  # zh_* is Chinese: the only Chinese syncer writes
        (None, {"LANG": "zh"}, "zh_CN"),
        (None, {"LC_MESSAGES": "zh-CN"}, "zh_CN"),
        (None, {"LANG": "zh_CN.GB18030@stroke"}, "zh_CN"),
        (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL first: it overrides the others
        (None, {"LC_ALL": "", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US"}, "zh_CN"),  # an empty one is unset
        (None, {"LC_MESSAGES": "en_GB", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANG": "zhx_XX"}, "en"),  # only zh itself
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_the_setting_else_the_locale_picks_the_language(
    setting: str | None, environ: dict[str, str], language: str
) -> None:
    assert language_from(setting, environ) == language


def test_a_setting_the_schema_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        language_from("fr", {})


def test_english_gives_the_code_its_messages_back_with_english_plurals() -> None:
    en = translations("en")
    assert type(en) is gettext.NullTranslations
    assert en.gettext("Open the run") == "Open the run"
    plurals = [en.ngettext("{count} row", "{count} rows", n) for n in (0, 1, 2)]
    assert plurals == ["{count} rows", "{count} row", "{count} rows"]


def test_chinese_is_read_from_its_catalogue_with_one_plural_form_and_contexts() -> None:
    zh = translations("zh_CN")
    assert zh.gettext("Open the run") == "查看运行记录"
    assert {zh.ngettext("{count} row", "{count} rows", n) for n in (0, 1, 2, 5)} == {"{count} 行"}
    assert zh.pgettext("list separator", ", ") == "，" and zh.pgettext("column", "reviewee") == "被评估人"
    assert zh.gettext("a message the catalogue lacks") == "a message the catalogue lacks"  # English, never empty
    assert translations("zh_CN") is zh  # read once


def test_every_language_is_there_and_another_is_refused() -> None:
    assert LANGUAGES == ("en", "zh_CN")
    with pytest.raises(ValueError, match="'fr'"):
        translations("fr")


def test_each_language_has_a_tag_the_setting_spells_it_with() -> None:
    assert set(TAGS) == set(LANGUAGES)
    assert all(SETTINGS[TAGS[lang]] == lang for lang in LANGUAGES)  # zh_CN -> zh-CN -> zh_CN
    assert TAGS["zh_CN"] == "zh-CN"  # an HTML page's lang: BCP 47 has a hyphen
