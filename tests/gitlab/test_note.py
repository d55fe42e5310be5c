"""The sticky merge-request note (syncer.gitlab.note, `syncer gitlab note`) against the loopback stand-in of
GitLab's API (tests/gitlab/standin.py): one note, found by syncer's marker and its author, updated in place;
every page of notes searched; refusals as one line naming the token GitLab wants; the token never shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.errors import InsecureBaseURLError
from syncer.gitlab.api import MAX_PAGES, Gitlab, GitlabError
from syncer.gitlab.note import MAX_NOTE_CHARS, fit, post_sticky
from syncer.report.plan_markdown import MARKER
from tests.gitlab.standin import Project, Standin, State, Token

TOKEN = "glpat-s3cr3t-token-value"
BOT, ALICE = 7, 8
PLAN = f"{MARKER}\n### syncer plan\n\n**2 values to update**\n"


def _state(**kwargs: object) -> State:
    tokens = {TOKEN: Token(BOT), "alice-token": Token(ALICE), "read-only": Token(BOT, frozenset({"read_api"}))}
    project = Project(42, "group/metrics", {BOT: "reporter", ALICE: "developer", 9: "guest"})
    project.notes[5] = []
    state = State(tokens, [project])
    for key, value in kwargs.items():
        setattr(state, key, value)
    return state


@pytest.fixture
def standin() -> Iterator[Standin]:
    with Standin(_state()) as served:
        yield served


def _notes(standin: Standin) -> list[dict[str, object]]:
    return standin.state.projects[0].notes[5]


def _post(standin: Standin, body: str = PLAN, token: str = TOKEN) -> tuple[str, int]:
    with Gitlab(standin.api_url, token, token_name="GITLAB_TOKEN") as api:
        posted = post_sticky(api, project="42", mr=5, body=body)
    return posted.action, posted.note_id


def test_the_first_plan_creates_a_note_and_the_next_updates_it(standin: Standin) -> None:
    action, first = _post(standin)
    assert action == "created" and [n["body"] for n in _notes(standin)] == [PLAN]
    assert _post(standin, PLAN + "more\n") == ("updated", first)
    assert [n["body"] for n in _notes(standin)] == [PLAN + "more\n"]


def test_a_note_someone_else_wrote_with_the_marker_is_never_edited(standin: Standin) -> None:
    state, project = standin.state, standin.state.projects[0]
    forged = state.add_note(project, 5, ALICE, PLAN + "alice's copy\n")
    state.add_note(project, 5, BOT, "a note of the bot without the marker")
    state.add_note(project, 5, BOT, PLAN, system=True)
    action, ours = _post(standin)
    assert action == "created" and ours != forged
    assert next(n for n in _notes(standin) if n["id"] == forged)["body"] == PLAN + "alice's copy\n"
    assert _post(standin) == ("updated", ours)


@pytest.mark.parametrize("link_only", [False, True], ids=["x-next-page", "link-header"])
def test_every_page_of_notes_is_searched(link_only: bool) -> None:
    with Standin(_state(link_only=link_only)) as served:
        for i in range(230):  # three pages of 100
            served.state.add_note(served.state.projects[0], 5, ALICE, f"comment {i}")
        _, ours = _post(served)
        for i in range(5):
            served.state.add_note(served.state.projects[0], 5, ALICE, f"later {i}")
        assert _post(served) == ("updated", ours)
        listed = [r for r in served.state.requests if r.startswith("GET /api/v4/projects/42/merge_requests/5/notes")]
        assert len(listed) == 3 + 3 and all("per_page=100" in r for r in listed)


def test_a_list_that_never_ends_is_searched_for_at_most_max_pages() -> None:
    with Standin(_state(endless=True)) as served:
        assert _post(served)[0] == "created"
        listed = [r for r in served.state.requests if r.startswith("GET /api/v4/projects/42/merge_requests/5/notes")]
        assert len(listed) == MAX_PAGES


def test_a_body_over_gitlabs_limit_is_cut_at_a_line_with_a_note(standin: Standin) -> None:
    line = "| alice | revenue | weight | 30 | 40 |\n"
    body = PLAN + line * (MAX_NOTE_CHARS // len(line) + 10)
    text, cut = fit(body)
    assert len(text) <= MAX_NOTE_CHARS and cut > 0
    assert text.startswith(MARKER) and text.endswith("(plan.md, plan.json).\n")
    assert f"the last {cut:,} characters are not shown" in text
    assert text.split("\n\n**Cut")[0].endswith(line)  # whole lines only
    assert _post(standin, body)[0] == "created"  # the stand-in refuses over 1,000,000: it was taken
    assert fit(PLAN) == (PLAN, 0)
    exact = MARKER + "x" * (MAX_NOTE_CHARS - len(MARKER))
    assert fit(exact) == (exact, 0)


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [
        ("glpat-not-known-0000", 401, "the token in GITLAB_TOKEN is missing, wrong, expired or revoked"),
        ("read-only", 403, "it needs the `api` scope (`read_api` cannot write notes) and at least the Reporter role"),
    ],
)
def test_a_refused_token_is_one_line_naming_the_token_gitlab_wants(
    standin: Standin, token: str, status: int, says: str
) -> None:
    with pytest.raises(GitlabError) as err:
        _post(standin, token=token)
    message = str(err.value)
    assert f"HTTP {status}" in message and says in message and "project access token" in message
    assert "\n" not in message and token not in message


def test_a_guest_may_not_comment() -> None:
    state = _state()
    state.tokens["guest"] = Token(9)
    with Standin(state) as served, pytest.raises(GitlabError, match=r"HTTP 403: 403 Forbidden.*Reporter role"):
        _post(served, token="guest")


def test_an_unknown_project_or_merge_request_is_404_naming_the_variables(standin: Standin) -> None:
    with Gitlab(standin.api_url, TOKEN, token_name="GITLAB_TOKEN") as api:
        for project, mr in (("99", 5), ("42", 6)):
            with pytest.raises(GitlabError, match=r"HTTP 404.*CI_PROJECT_ID and CI_MERGE_REQUEST_IID"):
                post_sticky(api, project=project, mr=mr, body=PLAN)
        assert post_sticky(api, project="group/metrics", mr=5, body=PLAN).action == "created"  # a path is encoded


def test_plain_http_is_refused_except_to_loopback() -> None:
    with pytest.raises(InsecureBaseURLError, match="plain http"):
        Gitlab("http://gitlab.example.com/api/v4", TOKEN, token_name="GITLAB_TOKEN")
    Gitlab("https://gitlab.example.com/api/v4", TOKEN, token_name="GITLAB_TOKEN").close()


def test_an_unreachable_gitlab_is_one_line_without_the_token() -> None:
    with Standin(_state()) as served:
        url = served.api_url
    with pytest.raises(GitlabError, match=r"could not reach GitLab at http://127\.0\.0\.1:\d+/api/v4 \(") as err:
        _post_to(url)
    assert TOKEN not in str(err.value)


def _post_to(url: str) -> None:
    with Gitlab(url, TOKEN, token_name="GITLAB_TOKEN") as api:
        post_sticky(api, project="42", mr=5, body=PLAN)


# The command line


def _run(tmp_path: Path, standin: Standin | None, *args: str, body: str = PLAN, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.md"
    plan.write_text(body, encoding="utf-8")
    environ = {"GITLAB_TOKEN": TOKEN, "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "5"}
    if standin is not None:
        environ["CI_API_V4_URL"] = standin.api_url
    return CliRunner().invoke(cli, ["gitlab", "note", str(plan), *args], env={**environ, **(env or {})})


def test_the_command_posts_then_updates_from_the_ci_variables(tmp_path: Path, standin: Standin) -> None:
    first = _run(tmp_path, standin)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created the syncer plan note ") and "merge request !5" in first.output
    again = _run(tmp_path, standin, body=PLAN + "x\n")
    assert again.exit_code == 0 and again.output.startswith("updated the syncer plan note ")
    assert len(_notes(standin)) == 1 and TOKEN not in first.output + again.output


def test_the_command_reads_the_token_from_the_variable_named(tmp_path: Path, standin: Standin) -> None:
    result = _run(tmp_path, standin, "--token-env", "SYNCER_GITLAB", env={"GITLAB_TOKEN": "", "SYNCER_GITLAB": TOKEN})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "env", "body", "says"),
    [
        ((), {"GITLAB_TOKEN": ""}, PLAN, "the variable GITLAB_TOKEN is not set: store a project access token"),
        (("--token-env", "A-B"), {}, PLAN, "--token-env 'A-B' is not a variable name"),
        ((), {"CI_MERGE_REQUEST_IID": ""}, PLAN, "no merge request: run this in a merge request pipeline"),
        ((), {"CI_MERGE_REQUEST_IID": "x1"}, PLAN, "is not a merge request number"),
        ((), {}, "### syncer plan\n", "is not a syncer plan (it does not start with syncer's marker)"),
        ((), {}, "", "is not a syncer plan"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_1(
    tmp_path: Path, standin: Standin, args: tuple[str, ...], env: dict[str, str], body: str, says: str
) -> None:
    result = _run(tmp_path, standin, *args, env=env, body=body)
    assert result.exit_code == 1
    assert says in result.output and "Traceback" not in result.output and TOKEN not in result.output
    assert _notes(standin) == []


def test_a_refusal_through_the_command_is_one_line(tmp_path: Path, standin: Standin) -> None:
    result = _run(tmp_path, standin, env={"GITLAB_TOKEN": "glpat-not-known-0000"})
    assert result.exit_code == 1 and "HTTP 401" in result.output
    assert len(result.output.strip().splitlines()) == 1
