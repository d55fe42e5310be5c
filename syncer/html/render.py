"""The one Jinja2 environment of the HTML reports: autoescape on for every template, every word through
gettext (`jinja2.ext.i18n`), and the page's content security policy.

`environment(translations)` is where a message catalogue plugs in: until one exists the words stay English
(`gettext.NullTranslations`)."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2

#: Nothing the page names is fetched: no script, no font, no frame, no request; styles inline; images only
#: from data: URLs (the charts). A report opened from a file or an artifact makes no request at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
)


def environment(translations: gettext.NullTranslations | None = None) -> jinja2.Environment:
    """The environment the reports render with, its words from `translations` (English when None)."""
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
        translations if translations is not None else gettext.NullTranslations(), newstyle=True
    )
    env.globals["csp"] = CONTENT_SECURITY_POLICY
    return env


@cache
def _default() -> jinja2.Environment:
    return environment()


def render_page(template: str, context: Mapping[str, Any], *, env: jinja2.Environment | None = None) -> str:
    """`template` rendered with `context` (English unless `env` says otherwise)."""
    return (env or _default()).get_template(template).render(context)
