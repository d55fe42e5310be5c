"""The output formats by name: the one list `--format` takes its choices from (`plan`, `validate`), each
name mapped to its renderer (syncer.report.renderer). Adding a format is a module with its renderer and
its name here; a command offers it where the renderer says it renders what the command prints.

The state commands print the state (its summary, its values, their history) as text or JSON, nothing
else: `STATE_FORMATS`, which their renderers (syncer.report.state, state_list, history) each take.
"""

from __future__ import annotations

from typing import Literal

from syncer.report.format_github import GithubFormat
from syncer.report.format_gitlab import GitlabFormat
from syncer.report.format_html import HtmlFormat
from syncer.report.format_json import JsonFormat
from syncer.report.format_markdown import MarkdownFormat
from syncer.report.format_text import TextFormat
from syncer.report.renderer import FormatError, Renderer, Subject, refuse

#: The keys of FORMATS, for code that names a format (render_plan, render_problems): tests keep them equal.
FormatName = Literal["text", "markdown", "json", "github", "html", "gitlab"]
FORMATS: dict[FormatName, Renderer] = {
    "text": TextFormat(),
    "markdown": MarkdownFormat(),
    "json": JsonFormat(),
    "github": GithubFormat(),
    "html": HtmlFormat(),  # a page for --out FILE (syncer plan refuses it on the terminal)
    "gitlab": GitlabFormat(),
}


#: The formats of `syncer state show|list|history`: the state as text for people, as JSON for tools.
StateFormat = Literal["text", "json"]
STATE_FORMATS: tuple[StateFormat, ...] = ("text", "json")


def state_format(name: str) -> StateFormat:
    """`name` as one of `STATE_FORMATS`."""
    for known in STATE_FORMATS:
        if known == name:
            return known
    raise FormatError(f"unknown state output format {name!r}: one of {', '.join(STATE_FORMATS)}")


def format_names(subject: Subject) -> list[str]:
    """The formats that render `subject`, in the registry's order (the order --help lists them in)."""
    return [name for name, renderer in FORMATS.items() if subject in renderer.renders]


def renderer_for(name: str, *subjects: Subject) -> Renderer:
    """The renderer of format `name`, which must render each of `subjects`."""
    for known, renderer in FORMATS.items():
        if known == name:
            for subject in subjects:
                if subject not in renderer.renders:
                    raise refuse(name, subject)
            return renderer
    raise FormatError(f"unknown output format {name!r}: one of {', '.join(FORMATS)}")
