"""The charts: SVG documents in data: URLs, whose labels come from file and person names."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from syncer.html import charts

pytest.importorskip("pygal")


def _svg(url: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert url.startswith(prefix)
    return base64.b64decode(url[len(prefix) :]).decode("utf-8")


def test_a_label_with_a_control_character_or_a_bidi_override_is_drawn_as_its_escape() -> None:
    """A control character is no XML: the image would not show at all. A bidi override would turn the
    label around. Both are written as escapes, and the chart is a well-formed document."""
    svg = _svg(charts.stacked_counts("changes", ["teams/a\x0bb", "teams/\u202eslaes"], {"create": [1, 2]}))
    ET.fromstring(svg)  # well-formed
    assert "\x0b" not in svg and "\u202e" not in svg
    assert "teams/a\\x0bb" in svg and "teams/\\u202eslaes" in svg


def test_chinese_labels_are_drawn_as_they_are() -> None:
    svg = _svg(charts.percentages("完成率", ["销售部", "研发"], [50.0, 101.5]))
    assert "销售部" in svg and "完成率" in svg


def test_a_value_too_large_for_a_float_is_left_out_of_the_chart_not_a_crash() -> None:
    """Data files hold numbers of any length: 400 digits is `inf` as a float (and so is a ratio over a target
    of 0.000...1), which pygal cannot place. The bar is left out; the others are drawn."""
    inf = float("1" + "0" * 400)
    svg = _svg(charts.percentages("completion", ["huge", "teams/b"], [inf, 50.0]))
    assert "teams/b" in svg and "50" in svg
    svg = _svg(charts.before_after("moves", ["huge", "b"], [1.0, 2.0], [inf, 3.0], series=("before", "after")))
    assert "moves" in svg
