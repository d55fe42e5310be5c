"""The one Jinja2 environment of the HTML reports: autoescape on for every template, every word through
gettext (`jinja2.ext.i18n`) in the readers' language (syncer.i18n), and the page's content security policy.

Templates ask for their words as `_("...")` and `ngettext(...)` (jinja2's newstyle gettext: placeholders are
`%(name)s`, a literal percent `%%`); tests/i18n/test_catalogue.py finds every one in the catalogues."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2

from syncer.i18n import TAGS, Language, translations
from syncer.text import inert_document

#: Nothing the page names is fetched: no script, no font, no frame, no request; styles inline; images only
#: from data: URLs (the charts). A report opened from a file or an artifact makes no request at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
)


@cache
def environment(language: Language = "en") -> jinja2.Environment:
    """The environment the reports render with, its words in `language` (the page's `lang` too); one a
    language, made when first asked for."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("syncer.html", "templates"),
        autoescape=True,  # every template, whatever its name: values come from files and from Feishu
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
        translations(language), newstyle=True
    )
    env.globals["lang"] = TAGS[language]
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    return env


def render_page(template: str, context: Mapping[str, Any], *, language: Language = "en") -> str:
    """`template` rendered with `context`, its words in `language`; a control, zero-width or bidi character
    of a name or value (HTML escaping leaves them be) written as its escape, as in every other output."""
    return inert_document(environment(language).get_template(template).render(context))
