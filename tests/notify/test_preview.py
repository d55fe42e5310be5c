"""The card preview (tests/notify/preview.py) behind the README's card picture: every golden card's words are
in it, escaped; lark_md gets only **bold**, http(s) links and line breaks; what it cannot draw it refuses. The
screenshot itself (docs/img/card.sh, Chromium) is not taken here."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import pytest

from tests.notify.preview import CAPTION, TEMPLATES, main, page
from tests.paths import GOLDEN

CARDS = sorted((GOLDEN / "notify").glob("*.json"))
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def contents(node: Any) -> list[str]:
    """Every text a card shows: the `content` of each text object, wherever it sits."""
    if isinstance(node, dict):
        found = [node["content"]] if isinstance(node.get("content"), str) else []
        return found + [c for v in node.values() for c in contents(v)]
    if isinstance(node, list):
        return [c for v in node for c in contents(v)]
    return []


def card(*elements: dict[str, Any], template: str = "orange", title: str = "title") -> dict[str, Any]:
    return {
        "header": {"template": template, "title": {"tag": "plain_text", "content": title}},
        "elements": list(elements),
    }


def div(content: str, tag: str = "plain_text") -> dict[str, Any]:
    return {"tag": "div", "text": {"tag": tag, "content": content}}


def test_the_golden_cards_are_all_there() -> None:
    assert len(CARDS) == 14


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.name)
def test_a_golden_cards_preview_holds_every_text_of_the_card(path: Path) -> None:
    c = json.loads(path.read_text(encoding="utf-8"))
    texts = contents(c)
    assert c["header"]["title"]["content"] in texts
    html = page(c)
    for t in texts:
        assert escape(t, quote=True) in html, t
    for url in (b["url"] for e in c["elements"] if e["tag"] == "action" for b in e["actions"]):
        assert f'href="{escape(url, quote=True)}"' in html


def test_the_preview_says_what_it_is() -> None:
    assert f'<div class="caption">{escape(CAPTION)}</div>' in page(card())
    assert "not a screenshot of Feishu" in CAPTION


def test_text_in_every_place_is_escaped() -> None:
    hostile = card(
        div(HOSTILE),
        div(HOSTILE, "lark_md"),
        {"tag": "markdown", "content": HOSTILE},
        {"tag": "note", "elements": [{"tag": "plain_text", "content": HOSTILE}]},
        {
            "tag": "action",
            "actions": [
                {"tag": "button", "text": {"tag": "plain_text", "content": HOSTILE}, "url": 'https://e.x/"><script>'}
            ],
        },
        title=HOSTILE,
    )
    html = page(hostile, lang='"><script>')
    assert "<script" not in html and "<img" not in html
    assert html.count(escape(HOSTILE)) == 6  # title, three text blocks, the note, the button's label
    assert 'href="https://e.x/&quot;&gt;&lt;script&gt;"' in html


def test_lark_md_gets_bold_links_and_line_breaks_only() -> None:
    html = page(card(div("**done** see [the run](https://ci.example/1?a=1&b=2)\nnext _line_ `code`", "lark_md")))
    assert '<div class="text"><b>done</b> see <a href="https://ci.example/1?a=1&amp;b=2">the run</a><br>' in html
    assert "next _line_ `code`</div>" in html


@pytest.mark.parametrize(
    "literal",
    [
        "[x](javascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](//evil.example/)",
        "** **bold across\nlines**",
        "<at id=all></at>",
    ],
)
def test_anything_else_in_lark_md_stays_as_typed(literal: str) -> None:
    html = page(card(div(literal, "lark_md")))
    assert f'<div class="text">{escape(literal, quote=True).replace(chr(10), "<br>")}</div>' in html
    assert "<a " not in html and "<b>" not in html


def test_plain_text_does_not_format() -> None:
    html = page(card(div("**not bold** [not](https://a.link/)")))
    assert '<div class="text">**not bold** [not](https://a.link/)</div>' in html


def test_a_button_without_an_http_url_is_drawn_without_a_link() -> None:
    label = {"tag": "plain_text", "content": "Open"}
    html = page(card({"tag": "action", "actions": [{"tag": "button", "text": label, "url": "javascript:alert(1)"}]}))
    assert '<span class="button default">Open</span>' in html
    assert "javascript" not in html


@pytest.mark.parametrize("template", ["orange", "red", "green", "yellow"])
def test_the_header_band_has_the_templates_colour(template: str) -> None:
    band, colour = TEMPLATES[template]
    assert f'class="header" style="background: {band}; color: {colour}"' in page(card(template=template))


def test_the_templates_our_cards_use_have_colours_of_their_own() -> None:
    used = {json.loads(p.read_text(encoding="utf-8"))["header"]["template"] for p in CARDS}
    assert used <= set(TEMPLATES)
    assert len({TEMPLATES[t][0] for t in used}) == len(used)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (card(template="pink"), "no header template 'pink'"),
        (card({"tag": "column_set", "columns": []}), "no element of tag 'column_set'"),
        (card({"tag": "img", "img_key": "k"}), "no element of tag 'img'"),
        (card({"tag": "div", "text": {"tag": "plain_text", "content": "a"}, "fields": []}), "no element of tag 'div'"),
        (card(div("a", "rich_text")), "no text of tag 'rich_text'"),
        (card({"tag": "action", "actions": [{"tag": "select_static"}]}), "no action of tag 'select_static'"),
        (
            card({"tag": "action", "actions": [{"tag": "button", "type": "laser", "text": {}}]}),
            "no button of type 'laser'",
        ),
    ],
)
def test_what_it_cannot_draw_it_refuses(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        page(bad)


def test_the_command_writes_the_page_of_a_card_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card(div("你好"))), encoding="utf-8")
    assert main([str(path), "--lang", "zh-CN"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in out and "你好" in out
