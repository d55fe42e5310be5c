"""The HTML reports: `syncer plan --format html` and `syncer report --html`. Self-contained pages (inline
CSS, charts as SVG images in data: URLs, no script) made with Jinja2 and pygal, the `html` extra; imported
only when a report is rendered. `require()` says what to install before any work is done."""

from __future__ import annotations

from importlib.util import find_spec

from syncer.errors import SyncerError

MISSING = "HTML reports need Jinja2 and pygal, an optional extra: pip install 'feishu-syncer[html]'"


def require() -> None:
    """Refuse, with what to install, when the html extra is missing."""
    if find_spec("jinja2") is None or find_spec("pygal") is None:
        raise SyncerError(MISSING)
