"""The readers' language: one message catalogue for what syncer writes for people who do not read its logs
(Feishu cards, an exported workbook's headers, legend and notes, reports), in English or Simplified Chinese.

English is the source language: the messages in the code are English, and `translations("en")` hands them
back as written. Other languages are gettext catalogues, `locale/<lang>/LC_MESSAGES/syncer.po`, read from
their text when first asked for (syncer.i18n.po; no compiled .mo to keep in step). Messages with a count
go through `ngettext`; placeholders are `str.format` names (`{count}`), which a translation keeps.

Command-line errors and log lines stay English (docs/i18n.md)."""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping
from importlib import resources
from typing import Literal, get_args

Language = Literal["zh_CN", "en"]
#: Every language syncer speaks, English (the source) first.
LANGUAGES: tuple[Language, ...] = get_args(Language)[::-1]
#: The values of `language:` in syncer.yaml (the settings schema's enum), each to the language it picks;
#: `auto` (None) follows the environment's locale.
SETTINGS: Mapping[str, Language | None] = {"auto": None, "zh-CN": "zh_CN", "en": "en"}
#: Each language as a BCP 47 tag, as the setting spells it (an HTML page's `lang`).
TAGS: Mapping[Language, str] = {"zh_CN": "zh-CN", "en": "en"}
#: The locale variables in the order POSIX consults them for messages: the first one set wins.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
DOMAIN = "syncer"


def language_from(setting: str | None, environ: Mapping[str, str]) -> Language:
    """The language a setting picks: `zh-CN` or `en` as such, `auto` or None from the environment's locale
    (the first of LC_ALL, LC_MESSAGES, LANG that is set: `zh`, `zh_*`, `zh-*` -> zh_CN, anything else -> en).
    Raises ValueError for any other setting (the settings schema refuses them before)."""
    if setting is not None and setting not in SETTINGS:
        raise ValueError(f"language {setting!r}: expected one of {', '.join(SETTINGS)}")
    chosen = SETTINGS.get(setting or "auto")
    if chosen is not None:
        return chosen
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            lang = value.split(".")[0].split("@")[0].replace("-", "_").lower()
            return "zh_CN" if lang == "zh" or lang.startswith("zh_") else "en"
    return "en"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The messages of `language` (one of LANGUAGES), an object of the standard library's kind: `.gettext`,
    `.ngettext`, `.pgettext`, `.npgettext`. English gives the messages back as the code writes them (with
    English plurals: one, else many). Raises ValueError for a language syncer does not speak."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: syncer speaks {', '.join(LANGUAGES)}")
    if language == "en":
        return gettext.NullTranslations()
    from syncer.i18n.po import compile_mo, read_po

    text = catalogue_path(language).read_text(encoding="utf-8")
    return gettext.GNUTranslations(compile_mo(read_po(text)))


def catalogue_path(language: str) -> resources.abc.Traversable:
    """Where the catalogue of a language other than English is (package data: it ships in the wheel)."""
    return resources.files(__package__).joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
