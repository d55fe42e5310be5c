"""What an output format is: a `Renderer` renders a plan (with its drift section after `plan --refresh`)
and validation problems, and says which of those it renders. syncer.report.formats names the renderers;
asking one for what it does not render raises `FormatError`, never falls back to text.

Light on purpose (the command line imports it at start-up for its --format choices): renderers import
what they render with when they render.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from syncer.report.annotations import Annotated

if TYPE_CHECKING:
    from syncer.i18n import Language
    from syncer.live.drift import Drift
    from syncer.plan.model import Names, Plan
    from syncer.problems import Problem

#: What a format can render: a plan (`syncer plan`), validation problems as `syncer validate` lists them,
#: and the drift section `syncer plan --refresh` adds to a plan.
Subject = Literal["plan", "problems", "drift"]
#: One piece of output: text, or annotations then text (`--format github`).
Output = str | Annotated
#: How long a pull-request comment may be (GitHub takes 65,536 characters): markdown cuts its details to fit.
MAX_COMMENT_CHARS = 60_000


class FormatError(ValueError):
    """An output format that does not exist, or that does not render what was asked of it."""


@dataclass(frozen=True)
class Refreshed:
    """A plan's drift section (`syncer plan --refresh`): the drift, display names for every ID of the
    catalog, and whether the exit code counts drift (`--detailed-exitcode`, which the JSON states)."""

    drift: Drift
    names: Names
    detailed_exitcode: bool


class Renderer(Protocol):
    """One output format."""

    @property
    def renders(self) -> frozenset[Subject]:
        """What this format renders; its methods for anything else raise `FormatError`."""
        ...

    def plan(
        self,
        plan: Plan,
        *,
        redact: bool,
        color: bool = ...,
        max_chars: int = ...,
        refreshed: Refreshed | None = ...,
        language: Language = ...,
    ) -> Iterator[Output]:
        """The plan, then its drift section when `refreshed`, in pieces to be written in order (a plan of
        a million values is never one string). `color` is for terminals; `max_chars` for comments; `language`
        is the readers' (docs/i18n.md) for a page written for them (html): the others are the command line's
        output and stay English."""
        ...

    def no_plan(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        """What `syncer plan` prints instead of a plan when the YAML is invalid, newline included: by default
        the problems as `syncer validate` lists them (a format that subclasses Renderer inherits this)."""
        return with_newline(self.problems(problems, redact=redact))

    def problems(self, problems: Sequence[Problem], *, redact: bool) -> Output:
        """Validation problems as `syncer validate` lists them (no trailing newline)."""
        ...


def with_newline(out: Output) -> Output:
    """`out` followed by a newline (after its text, for annotated output)."""
    if isinstance(out, Annotated):
        return Annotated(out.commands, out.text + "\n")
    return out + "\n"


def refuse(name: str, subject: Subject) -> FormatError:
    """The error for a format asked to render what it does not render."""
    return FormatError(f"the {name} output format does not render {subject}")
