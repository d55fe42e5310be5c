"""The message catalogues (syncer/i18n/locale/*/LC_MESSAGES/syncer.po) against the code: every message the code
(Python, and the HTML reports' Jinja2 templates) asks for is in each catalogue, translated, with the same
placeholders (`{count}` in the code, `%(num)d` and `%%` in the templates); nothing in a catalogue is unused; a
message is always a literal where it is asked for (so that this test sees it); and the catalogue reads as GNU
msgfmt reads it."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest
from jinja2 import nodes

from syncer.html.render import environment
from syncer.i18n import LANGUAGES, catalogue_path, translations
from syncer.i18n.po import Entry, read_po
from tests.paths import REPO

CALLS = {"gettext": 1, "ngettext": 2, "pgettext": 2, "npgettext": 3}  # method -> how many literal arguments
TEMPLATE_CALLS = {"_": 1, **CALLS}  # a template's functions (jinja2.ext.i18n): `_` is gettext
TEMPLATES = REPO / "syncer" / "html" / "templates"
OTHERS = [lang for lang in LANGUAGES if lang != "en"]

Key = tuple[str | None, str, str | None]  # context, message, plural message


def used_in(source: str, where: str) -> tuple[set[Key], list[str]]:
    """The messages `source` asks for, and the calls whose message is not a literal."""
    found: set[Key] = set()
    bad: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLS):
            continue
        args = node.args[: CALLS[node.func.attr]]
        if len(args) < CALLS[node.func.attr] or not all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
        ):
            bad.append(f"{where}:{node.lineno}")
            continue
        texts = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        found.add(_key(node.func.attr, texts))
    return found, bad


def _key(function: str, texts: list[str]) -> Key:
    context = texts.pop(0) if function.startswith("p") or function.startswith("np") else None
    return (context, texts[0], texts[1] if len(texts) > 1 else None)


def used_in_template(source: str, where: str) -> tuple[set[Key], list[str]]:
    """The messages a Jinja2 template asks for (`_`, `gettext`, `ngettext`, ...), and the calls whose message
    is not a literal."""
    found: set[Key] = set()
    bad: list[str] = []
    for node in environment().parse(source).find_all(nodes.Call):
        if not (isinstance(node.node, nodes.Name) and node.node.name in TEMPLATE_CALLS):
            continue
        args = node.args[: TEMPLATE_CALLS[node.node.name]]
        texts = [a.value for a in args if isinstance(a, nodes.Const) and isinstance(a.value, str)]
        if len(texts) < TEMPLATE_CALLS[node.node.name]:
            bad.append(f"{where}:{node.lineno}")
            continue
        found.add(_key(node.node.name, texts))
    return found, bad


def used() -> set[Key]:
    found: set[Key] = set()
    bad: list[str] = []
    for path in sorted((REPO / "syncer").rglob("*.py")):
        f, b = used_in(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())
        found |= f
        bad += b
    for path in sorted(TEMPLATES.glob("*.html")):
        f, b = used_in_template(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())
        found |= f
        bad += b
    assert not bad, f"a message that is not a literal cannot be checked against the catalogues: {bad}"
    return found


def entries(language: str) -> list[Entry]:
    return [e for e in read_po(catalogue_path(language).read_text(encoding="utf-8")) if e.msgid]


#: A template's placeholders as jinja2's newstyle gettext formats them with `%`: `%(num)d`, `%(root)s`, and
#: `%%` for a percent sign (a lone `%` in a template message breaks the page). Code messages are formatted
#: with str.format, where a `%` is a plain character ("40%", "% (or"): the pattern wants a name or `%%`.
PERCENT = re.compile(r"%\(\w+\)[#0+-]*\d*(?:\.\d+)?[sdifr]|%%")


def fields(text: str) -> list[str]:
    """The placeholders of a message or its translation, sorted: str.format fields and %-style ones."""
    braces = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    return sorted(braces + PERCENT.findall(text))


def test_the_code_asks_for_messages_and_finds_them_as_literals() -> None:
    found = used()
    assert (None, "syncer apply: applied", None) in found  # the scan sees the cards' messages
    assert ("list separator", ", ", None) in found


def test_a_message_that_is_not_a_literal_is_found() -> None:
    found, bad = used_in("t.gettext(TITLE)\nt.ngettext('a', plural, n)\nt.gettext('ok')", "x.py")
    assert bad == ["x.py:1", "x.py:2"] and found == {(None, "ok", None)}


def test_the_scan_sees_the_messages_of_the_html_reports() -> None:
    found = used()
    assert (None, "Changes per team and metric", None) in found  # plan_page.py and plan.html
    assert (None, "State report", None) in found  # state.html
    assert (None, "%(num)d change", "%(num)d changes") in found
    assert (None, "Weights that do not sum to 100%%", None) in found  # as jinja2 asks for it


def test_a_template_message_that_is_not_a_literal_is_found() -> None:
    source = '{{ _(title) }}\n{{ ngettext("a", plural, n) }}\n{{ _("ok", version=v) }}{{ other("x") }}'
    found, bad = used_in_template(source, "x.html")
    assert bad == ["x.html:1", "x.html:2"] and found == {(None, "ok", None)}


@pytest.mark.parametrize("language", OTHERS)
def test_every_message_the_code_uses_is_translated_and_nothing_else_is_there(language: str) -> None:
    have = {(e.msgctxt, e.msgid, e.msgid_plural): e for e in entries(language)}
    missing = sorted(str(k) for k in used() - set(have))
    assert not missing, f"{language}: not in the catalogue: {missing}"
    unused = sorted(str(k) for k in set(have) - used())
    assert not unused, f"{language}: in the catalogue, used nowhere: {unused}"
    untranslated = [e.line for e in have.values() if e.fuzzy or not e.msgstr or not all(e.msgstr)]
    assert not untranslated, f"{language}: entries at lines {untranslated} are fuzzy or untranslated"


@pytest.mark.parametrize("language", OTHERS)
def test_a_translation_keeps_the_placeholders_of_its_message(language: str) -> None:
    for e in entries(language):
        wanted = fields(e.msgid_plural if e.msgid_plural is not None else e.msgid)
        for text in e.msgstr:
            assert fields(text) == wanted, f"{language} line {e.line}: {text!r} has not the placeholders {wanted}"


@pytest.mark.parametrize(
    ("message", "translation"),
    [
        ("{count} rows", "行"),
        ("%(num)d changes", "变更"),
        ("%(num)d changes", "%(num)s 处变更"),  # the conversion is part of the placeholder
        ("%(checked)s of %(in_scope)s", "%(checked)s"),
        ("sum to 100%%", "之和为 100%"),  # a lone % breaks jinja2's formatting
        ("{count} rows", "{count} {count} 行"),
    ],
)
def test_the_placeholder_check_fails_a_translation_that_drops_one(message: str, translation: str) -> None:
    (entry,) = [e for e in read_po(f'msgid "{message}"\nmsgstr "{translation}"\n')]
    assert fields(entry.msgstr[0]) != fields(entry.msgid)


def test_a_percent_sign_in_a_code_message_is_no_placeholder() -> None:
    assert fields("Shown with their %: type 40% (or 40, the same value), not 40 % or %d") == []
    assert fields("Made by syncer %(version)s, 100%% offline") == ["%%", "%(version)s"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("language", OTHERS)
def test_the_catalogue_reads_as_gnu_msgfmt_compiles_it(language: str, tmp_path: Path) -> None:
    mo = tmp_path / "syncer.mo"
    source = tmp_path / "syncer.po"
    source.write_text(catalogue_path(language).read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(source)], check=True)
    with mo.open("rb") as f:
        theirs = gettext.GNUTranslations(f)
    ours = translations(language)
    assert isinstance(ours, gettext.GNUTranslations)
    assert ours._catalog == theirs._catalog  # type: ignore[attr-defined]
    assert [ours.ngettext("a", "b", n) for n in range(3)] == [theirs.ngettext("a", "b", n) for n in range(3)]
