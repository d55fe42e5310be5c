"""The reports' charts: pygal draws them server-side as SVG, and each goes into the page as an image in a
data: URL. An SVG shown as an image runs no script and fetches nothing, so the page's strict content
security policy holds, and the chart shows the same from a file, an artifact or a mail client.

Labels come from files (team and metric names); pygal writes them with an XML serializer (escaped), and an
image cannot run what would slip through. Controls and bidi overrides, which XML escaping leaves be (and a
control character makes the SVG no document at all), are written as escapes first (syncer.text.safe).

Every chart takes at most `MAX_BARS` bars: the caller picks which (the largest first) and says what it left out."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from pygal.style import Style

from syncer.text import safe

#: The fonts of the page and its charts: the platform's own first, then CJK families, so that Chinese names
#: render on Windows, macOS and Linux alike.
FONTS = (
    'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", sans-serif'
)
#: Bars one chart shows at most (a chart of a thousand bars is read by nobody).
MAX_BARS = 30
#: Colours by series, the same in every chart: create, update, repair, forget; then before, after.
COLOURS = ("#2e7d32", "#1565c0", "#ef6c00", "#757575", "#90a4ae", "#1565c0")


def _style(colours: tuple[str, ...]) -> Style:
    return Style(
        font_family=FONTS,
        background="#ffffff",
        plot_background="#ffffff",
        colors=colours,
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=13,
        title_font_size=15,
        value_font_size=11,
    )


_STYLE = _style(COLOURS)
_PAIRS = _style(COLOURS[4:])


def _config(title: str, labels: Sequence[str], *, bars: int, style: Style = _STYLE) -> dict[str, Any]:
    """pygal's settings of every chart: no script fetched (pygal's inline one never runs in an image)."""
    return {
        "title": safe(title),
        "x_labels": [safe(label) for label in labels],  # a control character is no XML: no image at all
        "style": style,
        "js": [],
        "disable_xml_declaration": True,
        "width": 900,
        "height": max(220, 70 + 28 * bars),
        "legend_at_bottom": True,
        "truncate_label": 40,
        "print_values": False,
    }


def _svg(chart: Any) -> str:
    """The chart's SVG, the same for the same chart: pygal names each chart with a random id, which in an
    image of its own needs no uniqueness."""
    chart.uuid = "syncer"
    return str(chart.render(is_unicode=True))


def _finite(values: Sequence[float]) -> list[float | None]:
    """Values as pygal takes them: one too large for a float (a number of 400 digits in a data file, a ratio over
    a target of 0.000...1) is no bar (None) rather than an error."""
    return [v if math.isfinite(v) else None for v in values]


def data_url(svg: str) -> str:
    """An SVG document as a data: URL for an `<img src>`."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def stacked_counts(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> str:
    """Horizontal stacked bars of counts: one bar a label, one colour a series (e.g. changes by action)."""
    chart = pygal.HorizontalStackedBar(**_config(title, labels, bars=len(labels)))
    for name, counts in series.items():
        chart.add(name, [c or None for c in counts])
    return data_url(_svg(chart))


def before_after(
    title: str,
    labels: Sequence[str],
    before: Sequence[float],
    after: Sequence[float],
    *,
    series: tuple[str, str],
) -> str:
    """Pairs of horizontal bars: a value before and after a change, the two named by `series`."""
    chart = pygal.HorizontalBar(**_config(title, labels, bars=2 * len(labels), style=_PAIRS))
    chart.add(series[0], _finite(before))
    chart.add(series[1], _finite(after))
    return data_url(_svg(chart))


def percentages(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """One horizontal bar a label, in percent (completion of targets)."""
    chart = pygal.HorizontalBar(**_config(title, labels, bars=len(labels)), show_legend=False)
    chart.add("%", [None if v is None else round(v, 1) for v in _finite(values)])
    return data_url(_svg(chart))
