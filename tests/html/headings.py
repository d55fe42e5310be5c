"""What a reader of a page reads first: its headings, the labels of its tiles and tables, the alternative
text of its charts, and the titles and legends of the charts themselves (the SVG inside each image)."""

from __future__ import annotations

import base64
import html
import re

#: Words a Chinese page keeps as they are: names of formats, of the clock, and of the tool.
KEPT = {"YAML", "UTC", "JSON", "syncer", "git"}
_LABEL = re.compile(r'<(h1|h2|th|div class="k")[^>]*>([^<]*)<|alt="([^"]*)"')
_SVG_TEXT = re.compile(
    r'<text[^>]*class="title[^"]*"[^>]*>([^<]*)<|class="legend[^"]*">(?:<[^t][^>]*>)*<text[^>]*>([^<]*)<'
)


def labels(page: str) -> list[str]:
    """The headings and labels of the page and of its charts."""
    found = [m.group(2) or m.group(3) or "" for m in _LABEL.finditer(page)]
    for chart in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
        svg = base64.b64decode(chart).decode()
        found += [m.group(1) or m.group(2) or "" for m in _SVG_TEXT.finditer(svg)]
    return [html.unescape(text) for text in found if text.strip()]


def english(texts: list[str]) -> list[str]:
    """Those of `texts` holding an English word (two letters or more, other than the words kept)."""
    return [text for text in texts if any(w not in KEPT for w in re.findall(r"[A-Za-z]{2,}", text))]
