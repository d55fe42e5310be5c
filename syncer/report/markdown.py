"""The Markdown escapers: text from the YAML, the state or Feishu, made inert in a comment or summary."""

from __future__ import annotations

import html
import re

from syncer.text import safe

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]()#!|~{}<>"} | {"@": "&#64;"})
_TICKS = re.compile("`+")


def md(text: str) -> str:
    """Escape text for Markdown (a table cell, a list item): HTML, Markdown, @mentions; line breaks become
    `<br>` and other control characters visible escapes."""
    text = html.escape(text, quote=False).translate(_MD_SPECIAL)  # no &#x27;: its # would be escaped
    return safe(text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>"))


def code(text: str) -> str:
    """Text as an inline code span, shown as typed: a code span takes no escapes and no HTML, so only its
    fence (longer than any run of backticks inside), a table's `|` and control characters need care."""
    text = safe(text).replace("|", "\\|")
    longest = max((len(m.group()) for m in _TICKS.finditer(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
