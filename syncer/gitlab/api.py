"""The few calls of GitLab's REST API (v4) that the sticky merge-request note needs: who the token is
(`GET /user`), the notes of a merge request (listed page by page), and a note created or updated. Facts and
sources: docs/gitlab.md.

The token goes in the `PRIVATE-TOKEN` header and nowhere else: it is never printed, never part of an
error, and never sent anywhere but the API URL (https, or plain http to loopback only; redirects are not
followed). A refusal is one `GitlabError` line saying which token GitLab wants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from syncer.errors import SyncerError
from syncer.text import safe
from syncer.urls import check_base_url

#: GitLab pages lists by `page` and `per_page` (at most 100).
PER_PAGE = 100
#: A merge request with more notes than this many pages is not searched further (10,000 notes).
MAX_PAGES = 100
TOKEN_ADVICE = (
    "a project access token (Settings > Access tokens) with the `api` scope and at least the Reporter role, "
    "or a personal access token with `api` of a member with that role"
)


class GitlabError(SyncerError):
    """GitLab refused a call or could not be reached: what happened and what to do, in one line."""


class Note(NamedTuple):
    id: int
    author_id: int
    body: str
    system: bool


class Gitlab:
    """A GitLab API at `api_url` (…/api/v4) for one token; `transport` is for tests."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        token_name: str,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = check_base_url(api_url, origin="the GitLab API URL")
        self.token_name = token_name
        self._http = httpx.Client(
            timeout=timeout, transport=transport, follow_redirects=False, headers={"PRIVATE-TOKEN": token}
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Gitlab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, self.api_url + path, **kwargs)
        except httpx.TimeoutException as exc:
            raise GitlabError(
                f"GitLab did not answer in time ({what}; {type(exc).__name__}): run the job again"
            ) from None
        except httpx.HTTPError as exc:  # its text may hold the URL: only its kind is told
            raise GitlabError(
                f"could not reach GitLab at {safe(self.api_url)} ({what}; {type(exc).__name__}): "
                "check the API URL (CI_API_V4_URL) and the network"
            ) from None
        if resp.status_code >= 400:
            raise self._refusal(resp, what)
        return resp

    def _refusal(self, resp: httpx.Response, what: str) -> GitlabError:
        status = resp.status_code
        said = _message(resp)
        head = f"GitLab refused to {what} (HTTP {status}{': ' + said if said else ''})"
        if status == 401:
            return GitlabError(
                f"{head}: the token in {self.token_name} is missing, wrong, expired or revoked; "
                f"store {TOKEN_ADVICE} in {self.token_name} (a masked CI/CD variable)"
            )
        if status == 403:
            return GitlabError(
                f"{head}: the token in {self.token_name} may not do this; it needs the `api` scope "
                "(`read_api` cannot write notes) and at least the Reporter role on the project; "
                f"use {TOKEN_ADVICE}"
            )
        if status == 404:
            return GitlabError(
                f"{head}: no such project or merge request for this token; check CI_PROJECT_ID and "
                "CI_MERGE_REQUEST_IID (or --project, --merge-request), and that the token belongs to this project "
                "(a project access token sees its own project only)"
            )
        return GitlabError(f"{head}: run the job again; if it persists, check GitLab's status")

    def user_id(self) -> int:
        """The ID of the token's user (for a project access token: its bot user)."""
        data = _json(self._call("GET", "/user", what="say whose token this is (GET /user)"))
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise GitlabError("GitLab's answer to GET /user has no user ID: is the API URL GitLab's …/api/v4?")
        return int(data["id"])

    def notes(self, project: str, mr: int) -> Iterator[Note]:
        """The merge request's notes, oldest first, page by page: the next page is the one GitLab names in
        `X-Next-Page` (or, without it, in the `Link` header's rel="next"); none ends the list."""
        path = f"/projects/{quote(project, safe='')}/merge_requests/{mr}/notes"
        page: int | None = 1
        for _ in range(MAX_PAGES):
            if page is None:
                return
            resp = self._call(
                "GET",
                path,
                what=f"list the notes of merge request !{mr}",
                params={"sort": "asc", "order_by": "created_at", "per_page": PER_PAGE, "page": page},
            )
            data = _json(resp)
            if not isinstance(data, list):
                raise GitlabError(f"GitLab's list of the notes of merge request !{mr} is not a list")
            for item in data:
                if isinstance(item, dict):
                    yield _note(item)
            page = next_page(resp.headers)

    def create_note(self, project: str, mr: int, body: str) -> int:
        path = f"/projects/{quote(project, safe='')}/merge_requests/{mr}/notes"
        data = _json(self._call("POST", path, what=f"comment on merge request !{mr}", json={"body": body}))
        return int(data["id"]) if isinstance(data, dict) and isinstance(data.get("id"), int) else 0

    def update_note(self, project: str, mr: int, note_id: int, body: str) -> None:
        path = f"/projects/{quote(project, safe='')}/merge_requests/{mr}/notes/{note_id}"
        self._call("PUT", path, what=f"update note {note_id} of merge request !{mr}", json={"body": body})


def next_page(headers: httpx.Headers) -> int | None:
    """The next page's number from `X-Next-Page`, else from the `Link` header's rel="next" URL (only its
    `page` is taken: the request goes to our own API URL, never to a URL an answer names)."""
    raw = headers.get("x-next-page")
    if raw is not None:
        return int(raw) if raw.strip().isdigit() else None
    for part in headers.get("link", "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            pages = parse_qs(urlsplit(url.strip().strip("<>")).query).get("page", [])
            if pages and pages[0].isdigit():
                return int(pages[0])
    return None


def _note(item: dict[str, Any]) -> Note:
    author = item.get("author")
    author_id = author.get("id") if isinstance(author, dict) else None
    return Note(
        id=int(item.get("id", 0)),
        author_id=author_id if isinstance(author_id, int) else -1,
        body=str(item.get("body") or ""),
        system=bool(item.get("system")),
    )


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise GitlabError(
            f"GitLab answered HTTP {resp.status_code} with no JSON: is the API URL GitLab's …/api/v4?"
        ) from None


def _message(resp: httpx.Response) -> str:
    """GitLab's own words (`message` or `error`), cut and made inert."""
    try:
        data = json.loads(resp.content)
    except ValueError:
        return ""
    said = data.get("message") or data.get("error") if isinstance(data, dict) else None
    if said is None:
        return ""
    text = said if isinstance(said, str) else json.dumps(said, ensure_ascii=False)
    return safe(text[:200])
