"""A preview of one of syncer's Feishu cards (syncer.notify.cards) as a self-contained HTML page: our
approximation of how Feishu draws the card, for the picture in the README (docs/img/card.sh). Test-side code,
not shipped; Feishu draws the same elements in its own style.

It draws only the elements our cards use, or could without surprise: the header (title, template colour),
`div` text and `markdown` blocks, `hr`, `note` and `action` buttons with URLs. Anything else (a column set, an
image, an unknown header colour) raises ValueError rather than being drawn wrong or left out. All text is
escaped; `plain_text` stays literal, and `lark_md` gets only a safe subset: **bold**, [text](https://...) links
and line breaks; every other mark stays as typed.

    python -m tests.notify.preview tests/golden/notify/rejected.json [--lang zh-CN] > card.html
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from html import escape
from pathlib import Path
from typing import Any

#: Feishu's header templates, as (band, title) colours: our approximation of its palette.
TEMPLATES: dict[str, tuple[str, str]] = {
    "default": ("#ffffff", "#1f2329"),
    "blue": ("#3370ff", "#ffffff"),
    "wathet": ("#4e83fd", "#ffffff"),
    "turquoise": ("#04b49c", "#ffffff"),
    "green": ("#2ea121", "#ffffff"),
    "yellow": ("#ffc60a", "#1f2329"),
    "orange": ("#ff8800", "#ffffff"),
    "red": ("#f54a45", "#ffffff"),
    "carmine": ("#d83931", "#ffffff"),
    "violet": ("#b649de", "#ffffff"),
    "purple": ("#7f3bf5", "#ffffff"),
    "indigo": ("#4954e6", "#ffffff"),
    "grey": ("#8f959e", "#ffffff"),
}
CAPTION = "Preview drawn from the card's JSON by tests/notify/preview.py, not a screenshot of Feishu"

#: On escaped text: a link's URL holds no space, parenthesis or star; bold starts and ends on a non-space
#: character, on one line, and never spans a tag (ours: a link).
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s()*]+)\)")
_BOLD = re.compile(r"\*\*([^*\s<>](?:[^*\n<>]*[^*\s<>])?)\*\*")
_STYLE = """
* { box-sizing: border-box; }
body { margin: 0; padding: 16px; background: #f2f3f5; color: #1f2329; font: 14px/22px -apple-system,
  BlinkMacSystemFont, "Helvetica Neue", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
  "WenQuanYi Zen Hei", sans-serif; }
.card { width: 488px; background: #fff; border: 1px solid #dee0e3; border-radius: 8px; overflow: hidden; }
.header { padding: 12px 16px; font-size: 16px; line-height: 24px; font-weight: 600; }
.body { padding: 12px 16px 16px; }
.text { margin: 0 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
.text a { color: #3370ff; text-decoration: none; }
hr { border: 0; border-top: 1px solid #dee0e3; margin: 12px 0; }
.note { margin: 0 0 8px; color: #646a73; font-size: 12px; line-height: 20px; white-space: pre-wrap; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
.button { display: inline-block; padding: 4px 11px; border: 1px solid #d0d3d6; border-radius: 6px;
  color: #1f2329; background: #fff; text-decoration: none; }
.button.primary { background: #3370ff; border-color: #3370ff; color: #fff; }
.button.danger { color: #f54a45; border-color: #f54a45; }
.caption { width: 488px; margin-top: 6px; color: #8f959e; font-size: 11px; line-height: 16px; }
"""


def lark_md(content: str) -> str:
    """The safe subset of lark_md as HTML: escaped, then **bold** and http(s) links; the rest literal."""
    out = escape(content, quote=True)
    out = _LINK.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return out.replace("\n", "<br>")


def text(element: dict[str, Any]) -> str:
    """A text object (`plain_text` or `lark_md`) as HTML."""
    tag, content = element.get("tag"), str(element.get("content", ""))
    if tag == "plain_text":
        return escape(content, quote=True)
    if tag == "lark_md":
        return lark_md(content)
    raise ValueError(f"the preview draws no text of tag {tag!r}")


def _button(button: dict[str, Any]) -> str:
    if button.get("tag") != "button":
        raise ValueError(f"the preview draws no action of tag {button.get('tag')!r}")
    kind = button.get("type", "default")
    if kind not in ("default", "primary", "danger"):
        raise ValueError(f"the preview draws no button of type {kind!r}")
    label = text(button["text"])
    url = str(button.get("url", ""))
    if re.fullmatch(r"https?://\S+", url):
        return f'<a class="button {kind}" href="{escape(url, quote=True)}">{label}</a>'
    return f'<span class="button {kind}">{label}</span>'


def element(e: dict[str, Any]) -> str:
    """One body element as HTML."""
    tag = e.get("tag")
    if tag == "div" and set(e) == {"tag", "text"}:
        return f'<div class="text">{text(e["text"])}</div>'
    if tag == "markdown":
        return f'<div class="text">{lark_md(str(e.get("content", "")))}</div>'
    if tag == "hr":
        return "<hr>"
    if tag == "note":
        return f'<div class="note">{" ".join(text(n) for n in e["elements"])}</div>'
    if tag == "action":
        return f'<div class="actions">{"".join(_button(b) for b in e["actions"])}</div>'
    raise ValueError(f"the preview draws no element of tag {tag!r} (keys {sorted(e)})")


def page(card: dict[str, Any], *, lang: str = "en") -> str:
    """The card as a self-contained HTML page (no script, nothing fetched), with a caption saying what it is."""
    template = card["header"].get("template", "default")
    if template not in TEMPLATES:
        raise ValueError(f"the preview knows no header template {template!r}")
    band, colour = TEMPLATES[template]
    body = "\n".join(element(e) for e in card["elements"])
    return f"""<!DOCTYPE html>
<html lang="{escape(lang, quote=True)}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>card preview</title>
<style>{_STYLE}</style>
</head>
<body>
<div class="card">
<div class="header" style="background: {band}; color: {colour}">{text(card["header"]["title"])}</div>
<div class="body">
{body}
</div>
</div>
<div class="caption">{escape(CAPTION)}</div>
</body>
</html>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A card's JSON as an HTML preview on stdout.")
    parser.add_argument("card", type=Path)
    parser.add_argument("--lang", default="en", help="the page's language tag (zh-CN picks Chinese glyphs)")
    args = parser.parse_args(argv)
    sys.stdout.write(page(json.loads(args.card.read_text(encoding="utf-8")), lang=args.lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
