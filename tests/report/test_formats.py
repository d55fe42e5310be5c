"""The output formats as a registry (syncer.report.formats): every name renders what it says it renders
and refuses the rest; the command line offers exactly the names that render what a command prints."""

from __future__ import annotations

import json
from typing import get_args

import click
import pytest

from syncer.cli import cli
from syncer.live.drift import Drift
from syncer.plan.model import Names
from syncer.problems import Problem
from syncer.report.annotations import Annotated
from syncer.report.formats import FORMATS, STATE_FORMATS, FormatName, format_names, renderer_for, state_format
from syncer.report.plan import render_plan
from syncer.report.problems import render_problems
from syncer.report.renderer import FormatError, Output, Refreshed, Subject
from tests.report.test_plan_render import sample_plan

SUBJECTS: tuple[Subject, ...] = get_args(Subject)
PROBLEM = Problem("teams/sales.yaml", 3, 5, "error", "unknown-person", "no such person {value}", value="zoe")
DRIFT = Drift(scope="plan", entries=(), absent=(), reviewees_checked=1, reviewees_in_scope=1, requests=1, budget=20)


def _text(pieces: list[Output]) -> str:
    return "".join(str(p) for p in pieces)


def _choices(command: str, *group: str) -> list[str]:
    found: click.Command | None = cli
    for name in (*group, command):
        assert isinstance(found, click.Group)
        found = found.get_command(click.Context(cli), name)
    assert found is not None
    (option,) = (p for p in found.params if p.name == "fmt")
    assert isinstance(option.type, click.Choice)
    return list(option.type.choices)


def test_the_format_names_are_the_registry_keys() -> None:
    assert list(get_args(FormatName)) == list(FORMATS) == ["text", "markdown", "json", "github", "html", "gitlab"]


def test_what_each_format_renders_today() -> None:
    assert format_names("plan") == ["text", "markdown", "json", "github", "html", "gitlab"]
    assert format_names("drift") == ["text", "markdown", "json", "github", "html"]  # drift is no Code Quality issue
    assert format_names("problems") == ["text", "json", "github", "gitlab"]  # validate has no markdown


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_format_renders_a_plan_where_it_claims_to(name: FormatName) -> None:
    renderer = FORMATS[name]
    assert "plan" in renderer.renders
    plain = _text(list(renderer_for(name, "plan").plan(sample_plan(), redact=False)))
    assert plain.endswith("\n") and "drift" not in plain.lower()  # no drift section unless asked
    assert plain == str(render_plan(sample_plan(), name, redact=False))


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_format_adds_the_drift_section_where_it_claims_to(name: FormatName) -> None:
    refreshed = Refreshed(DRIFT, Names(), detailed_exitcode=True)
    if "drift" not in FORMATS[name].renders:
        with pytest.raises(FormatError, match=f"the {name} output format does not render drift"):
            renderer_for(name, "plan", "drift")
        with pytest.raises(FormatError):
            list(FORMATS[name].plan(sample_plan(), redact=False, refreshed=refreshed))
        return
    out = _text(list(renderer_for(name, "plan", "drift").plan(sample_plan(), redact=False, refreshed=refreshed)))
    if name == "json":
        assert json.loads(out)["drift"]["exit_code"] == 0
    else:
        assert "Drift" in out


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_format_lists_problems_where_it_claims_to_and_refuses_where_not(name: FormatName) -> None:
    renderer = FORMATS[name]
    if "problems" in renderer.renders:
        assert "unknown-person" in str(renderer_for(name, "problems").problems([PROBLEM], redact=False))
        assert "unknown-person" in str(render_problems([PROBLEM], name, redact=False))
    else:
        with pytest.raises(FormatError, match=f"the {name} output format does not render problems"):
            renderer_for(name, "problems")
        with pytest.raises(FormatError):
            renderer.problems([PROBLEM], redact=False)
        with pytest.raises(FormatError):
            render_problems([PROBLEM], name, redact=False)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_plan_format_says_why_there_is_no_plan(name: FormatName) -> None:
    out = renderer_for(name, "plan").no_plan([PROBLEM], redact=True)
    text = out.text if isinstance(out, Annotated) else out
    assert text.endswith("\n") and "unknown-person" in str(out) and "zoe" not in str(out)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_an_unknown_format_is_refused_never_text(subject: Subject) -> None:
    with pytest.raises(FormatError, match="unknown output format 'pdf': one of text, "):
        renderer_for("pdf", subject)


def test_the_command_line_offers_the_registry() -> None:
    assert _choices("plan") == format_names("plan")
    assert _choices("validate") == format_names("problems")


def test_the_state_commands_take_text_or_json_and_nothing_else() -> None:
    assert [state_format(name) for name in STATE_FORMATS] == ["text", "json"]
    with pytest.raises(FormatError, match="unknown state output format 'markdown': one of text, json"):
        state_format("markdown")
    for command in ("show", "list", "history"):
        assert _choices(command, "state") == list(STATE_FORMATS)


def test_a_name_is_looked_up_by_its_text_not_by_identity() -> None:
    """A name from the command line is a new string, never the registry's own object."""
    text, js = "".join(["te", "xt"]), "".join(["js", "on"])
    assert renderer_for(text) is FORMATS["text"]
    assert state_format(js) == "json"
