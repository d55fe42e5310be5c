"""A loopback stand-in for the part of GitLab's REST API (v4) that `syncer gitlab note` uses, with GitLab's
documented semantics (docs/gitlab.md): the `PRIVATE-TOKEN` header (an unknown token: 401), `GET /user`,
a merge request's notes listed with offset pagination (`page`, `per_page` 20 by default and at most 100,
`X-Page`, `X-Per-Page`, `X-Total`, `X-Total-Pages`, `X-Next-Page` empty on the last page, a `Link` header
with rel="next"), created (`POST`) and updated (`PUT`); a token without the `api` scope cannot write (403),
only a note's author may update it (403), a project or merge request the token cannot see is 404, a body
over 1,000,000 characters is 400; and the pipeline trigger API. A member below Reporter (the least role
syncer asks for) is refused a write here (403).

`python -m tests.gitlab.standin --token T --user-id 7 [--port 0]` serves it until killed (for the
gitlab-ci-local script), prints its API URL first; `GET /_standin/notes` lists every note and the refs
the trigger API was called for (no token)."""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40}
MAX_BODY = 1_000_000


@dataclass
class Token:
    user_id: int
    scopes: frozenset[str] = frozenset({"api"})


@dataclass
class Project:
    id: int
    path: str
    members: dict[int, str]  # user id -> role
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # MR iid -> notes, oldest first


@dataclass
class State:
    tokens: dict[str, Token]
    projects: list[Project]
    link_only: bool = False  # answer pages with a Link header and no X-Next-Page (a proxy that drops it)
    endless: bool = False  # every page names a next one (a broken proxy): the client must stop by itself
    next_id: int = 1000
    requests: list[str] = field(default_factory=list)  # "METHOD path?query", for the tests
    triggered: list[str] = field(default_factory=list)  # the refs of pipelines started by the trigger API
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_note(self, project: Project, iid: int, author: int, body: str, *, system: bool = False) -> int:
        self.next_id += 1
        project.notes.setdefault(iid, []).append(
            {"id": self.next_id, "body": body, "author": {"id": author, "username": f"user{author}"}, "system": system}
        )
        return self.next_id


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        st = self.server.state
        parts = urlsplit(self.path)
        with st.lock:
            st.requests.append(f"{method} {self.path}")
            if parts.path == "/_standin/notes":
                self._send(200, {**{str(p.id): p.notes for p in st.projects}, "triggered": st.triggered})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if method == "POST" and parts.path.endswith("/trigger/pipeline"):
                self._trigger(body)
                return
            token = st.tokens.get(self.headers.get("PRIVATE-TOKEN", ""))
            if token is None:
                self._send(401, {"message": "401 Unauthorized"})
                return
            self._route(method, parts.path, parse_qs(parts.query), body, token)

    def _trigger(self, raw: bytes) -> None:
        """The pipeline trigger API: a form with `token` (a trigger or job token: any non-empty one here)
        and `ref`; 201 with the new pipeline, 404 without a token (GitLab does not say more)."""
        form = _form(self.headers.get("Content-Type", ""), raw)
        if not form.get("token") or not form.get("ref"):
            self._send(404, {"message": "404 Not Found"})
            return
        self.server.state.triggered.append(form["ref"])
        self._send(201, {"id": 500 + len(self.server.state.triggered), "ref": form["ref"], "source": "pipeline"})

    def _route(self, method: str, path: str, query: dict[str, list[str]], raw: bytes, token: Token) -> None:
        st = self.server.state
        if path == "/api/v4/user" and method == "GET":
            self._send(200, {"id": token.user_id, "username": f"user{token.user_id}", "bot": True})
            return
        segs = path.split("/")  # "", api, v4, projects, ID, merge_requests, IID, notes[, NOTE]
        if (
            len(segs) not in (8, 9)
            or segs[1:4] != ["api", "v4", "projects"]
            or segs[5:8] != ["merge_requests", segs[6], "notes"]
        ):
            self._send(404, {"error": "404 Not Found"})
            return
        ref = unquote(segs[4])
        project = next((p for p in st.projects if ref in (str(p.id), p.path)), None)
        role = project.members.get(token.user_id) if project else None
        if project is None or role is None:
            self._send(404, {"message": "404 Project Not Found"})
            return
        if not segs[6].isdigit() or int(segs[6]) not in project.notes:
            self._send(404, {"message": "404 Not found"})
            return
        notes = project.notes[int(segs[6])]
        if method == "GET" and len(segs) == 8:
            self._list(notes, query)
            return
        if "api" not in token.scopes:
            self._send(403, {"error": "insufficient_scope", "scope": "api"})
            return
        if ROLES[role] < ROLES["reporter"]:
            self._send(403, {"message": "403 Forbidden"})
            return
        text = json.loads(raw or b"{}").get("body", "")
        if not text or len(text) > MAX_BODY:
            self._send(400, {"message": {"note": [f"is too long (maximum is {MAX_BODY} characters)"]}})
            return
        if method == "POST" and len(segs) == 8:
            new = st.add_note(project, int(segs[6]), token.user_id, text)
            self._send(201, next(n for n in notes if n["id"] == new))
            return
        if method == "PUT" and len(segs) == 9:
            found = next((n for n in notes if str(n["id"]) == segs[8]), None)
            if found is None:
                self._send(404, {"message": "404 Note Not Found"})
            elif found["author"]["id"] != token.user_id:
                self._send(403, {"message": "403 Forbidden"})
            else:
                found["body"] = text
                self._send(200, found)
            return
        self._send(405, {"error": "405 Method Not Allowed"})

    def _list(self, notes: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
        per_page = min(100, max(1, int(query.get("per_page", ["20"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        ordered = notes if query.get("sort", ["desc"])[0] == "asc" else notes[::-1]
        pages = max(1, -(-len(ordered) // per_page))
        chunk = ordered[(page - 1) * per_page : page * per_page]
        nxt = str(page + 1) if page < pages or self.server.state.endless else ""
        base = f"http://{self.headers.get('Host')}{urlsplit(self.path).path}"
        links = [f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"'] if nxt else []
        links.append(f'<{base}?page=1&per_page={per_page}>; rel="first"')
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(ordered))}
        headers["X-Total-Pages"] = str(pages)
        headers["Link"] = ", ".join(links)
        if not self.server.state.link_only:
            headers["X-Next-Page"] = nxt
        self._send(200, chunk, headers)


def _form(content_type: str, raw: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data or urlencoded body (what curl --form / --data send)."""
    if "multipart/form-data" in content_type:
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        return {
            str(part.get_param("name", header="content-disposition")): part.get_content().strip()
            for part in message.iter_parts()
        }
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state


class Standin:
    """The stand-in served on loopback in a thread: `api_url` is its …/api/v4."""

    def __init__(self, state: State, port: int = 0) -> None:
        self.state = state
        self._server = _Server(state, port)
        self.api_url = f"http://127.0.0.1:{self._server.server_address[1]}/api/v4"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Standin:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--user-id", type=int, default=7)
    parser.add_argument("--project", type=int, default=1)
    parser.add_argument("--mr", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    state = State(
        {args.token: Token(args.user_id)}, [Project(args.project, "group/metrics", {args.user_id: "reporter"})]
    )
    state.projects[0].notes[args.mr] = []
    server = _Server(state, args.port)
    print(f"http://127.0.0.1:{server.server_address[1]}/api/v4", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
