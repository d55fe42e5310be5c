"""The one Markdown escaper: text from the YAML, the state or Feishu, made inert in a comment or summary."""

from __future__ import annotations

import html

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]()#!|~{}"} | {"@": "&#64;"})


def md(text: str) -> str:
    """Escape text for Markdown (a table cell, a list item): HTML, Markdown, @mentions, line breaks."""
    text = html.escape(text, quote=False).translate(_MD_SPECIAL)  # no &#x27;: its # would be escaped
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
