"""syncer.i18n.po: a .po file's text read into entries, and compiled into what gettext reads: contexts, plurals,
strings continued over lines, escapes; fuzzy and untranslated entries left to the English message."""

from __future__ import annotations

import gettext

import pytest

from syncer.i18n.po import PoError, compile_mo, read_po

HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
)


def catalogue(text: str) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(compile_mo(read_po(HEADER + text)))


def test_entries_are_read_with_their_context_plurals_and_lines() -> None:
    text = (
        "# a comment\n"
        'msgctxt "column"\nmsgid "file"\nmsgstr "文件"\n\n'
        'msgid "{count} row"\nmsgid_plural "{count} rows"\nmsgstr[0] "one {count}"\nmsgstr[1] "many {count}"\n'
        'msgid "long "\n"message\\n"\nmsgstr ""\n"lang \\"quoted\\" "\n"text\\t\\\\"\n'
    )
    entries = read_po(text)
    assert [(e.msgctxt, e.msgid, e.msgid_plural, e.msgstr, e.line) for e in entries] == [
        ("column", "file", None, ["文件"], 2),
        (None, "{count} row", "{count} rows", ["one {count}", "many {count}"], 6),
        (None, "long message\n", None, ['lang "quoted" text\t\\'], 10),
    ]


def test_the_compiled_catalogue_answers_as_gettext_with_the_plural_forms_of_its_header() -> None:
    t = catalogue(
        'msgctxt "column"\nmsgid "file"\nmsgstr "文件"\n\n'
        'msgid "file"\nmsgstr "档案"\n\n'
        'msgid "{count} row"\nmsgid_plural "{count} rows"\nmsgstr[0] "one {count}"\nmsgstr[1] "many {count}"\n'
    )
    assert t.pgettext("column", "file") == "文件" and t.gettext("file") == "档案"
    assert [t.ngettext("{count} row", "{count} rows", n) for n in (1, 2)] == ["one {count}", "many {count}"]


def test_fuzzy_and_untranslated_entries_fall_back_to_the_english_message() -> None:
    t = catalogue(
        '#, fuzzy\nmsgid "a"\nmsgstr "guessed"\n\nmsgid "b"\nmsgstr ""\n\n'
        'msgid "c"\nmsgid_plural "cs"\nmsgstr[0] "one"\nmsgstr[1] ""\n\nmsgid "d"\nmsgstr "dee"\n'
    )
    assert (t.gettext("a"), t.gettext("b"), t.ngettext("c", "cs", 1), t.gettext("d")) == ("a", "b", "c", "dee")


def test_a_fuzzy_header_is_kept_as_msgfmt_keeps_it() -> None:
    """A header marked fuzzy (as xgettext writes a template's) is still the catalogue's header: msgfmt keeps it
    (with a warning). Left out, the catalogue had no Plural-Forms: in Chinese (one form) a count other than 1
    got the English message."""
    text = (
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "{count} row"\nmsgid_plural "{count} rows"\nmsgstr[0] "{count} 行"\n'
    )
    t = gettext.GNUTranslations(compile_mo(read_po(text)))
    assert [t.ngettext("{count} row", "{count} rows", n) for n in (1, 2)] == ["{count} 行", "{count} 行"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('msgid "a"\nmsgstr b\n', "line 2: expected a quoted string"),
        ('"orphan"\n', "line 1: a string continues no keyword"),
        ('msgid "a"\nmsgtxt "b"\n', "line 2: unknown keyword 'msgtxt'"),
        ('msgid "a"\nmsgid_plural "as"\nmsgstr[1] "x"\n', "line 3: msgstr[1] out of order"),
        ('msgid "a\\q"\nmsgstr "b"\n', "line 1: a string gettext would not read"),
    ],
)
def test_a_malformed_catalogue_is_refused_at_its_line(text: str, said: str) -> None:
    with pytest.raises(PoError, match=said.replace("[", r"\[").replace("]", r"\]")):
        read_po(text)
