"""The output formats by name: the one list `--format` takes its choices from (`plan`, `validate`), each
name mapped to its renderer (syncer.report.renderer). Adding a format is a module with its renderer and
its name here; a command offers it where the renderer says it renders what the command prints.
"""

from __future__ import annotations

from typing import Literal

from syncer.report.format_github import GithubFormat
from syncer.report.format_json import JsonFormat
from syncer.report.format_markdown import MarkdownFormat
from syncer.report.format_text import TextFormat
from syncer.report.renderer import FormatError, Renderer, Subject, refuse

FormatName = Literal["text", "markdown", "json", "github"]
FORMATS: dict[FormatName, Renderer] = {
    "text": TextFormat(),
    "markdown": MarkdownFormat(),
    "json": JsonFormat(),
    "github": GithubFormat(),
}


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
