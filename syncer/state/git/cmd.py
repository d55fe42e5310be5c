"""Running `git` for the git state backend: a quiet, non-interactive environment, credentials passed per
command through the environment, and messages scrubbed of secrets.

Credentials: for an http(s) remote, a token from `SYNCER_GIT_TOKEN` (any host), `GITHUB_TOKEN` (only the
host of `GITHUB_SERVER_URL`, github.com by default) or GitLab's `CI_JOB_TOKEN` (only the host of
`CI_SERVER_URL`) is passed as an `http.<scheme>://<host>/.extraheader` (`AUTHORIZATION: basic
base64(USER:TOKEN)`, USER `x-access-token` as actions/checkout does, which GitLab accepts with an access
token, or `gitlab-ci-token`, the one name GitLab takes with a job token) through git's
`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` variables: never in argv (visible in `ps`), never
written to `.git/config`, and never in a message (`scrub`). An empty value first resets any header a
`persist-credentials: true` checkout left in `.git/config`, so that the request carries one Authorization.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from syncer.errors import StateUnavailable

#: git 2.31 added GIT_CONFIG_COUNT (credentials without argv or files) and `rev-parse --path-format`.
MIN_GIT = (2, 31)
LOCAL_TIMEOUT = 60.0
REMOTE_TIMEOUT = 300.0
DEFAULT_GITHUB = "https://github.com"
#: The environment variables a token for the remote may come from (credential_for says which goes where).
TOKEN_VARIABLES = ("SYNCER_GIT_TOKEN", "GITHUB_TOKEN", "CI_JOB_TOKEN")
#: The user name sent with an access token (GitHub's token, or a GitLab project or personal access token,
#: with which GitLab takes any user name); GitLab takes a job token only with `gitlab-ci-token`.
ACCESS_TOKEN_USER = "x-access-token"
JOB_TOKEN_USER = "gitlab-ci-token"

#: Settings every syncer git command runs with (no background gc or maintenance in a user's clone).
BASE_CONFIG: tuple[tuple[str, str], ...] = (
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("core.quotepath", "off"),
    ("advice.detachedHead", "false"),
)

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


class GitError(StateUnavailable):
    """A git command failed; the message is scrubbed of credentials."""

    def __init__(self, message: str, *, returncode: int = 1, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _token_forms(token: str) -> list[str]:
    pairs = [f"{user}:{token}".encode() for user in (ACCESS_TOKEN_USER, JOB_TOKEN_USER)]
    return [
        token,
        *(base64.b64encode(raw).decode("ascii") for raw in pairs),
        base64.b64encode(token.encode()).decode("ascii"),
    ]


def secrets_of(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every form of every token the environment holds, longest first (what `scrub` hides)."""
    found: set[str] = set()
    for name in TOKEN_VARIABLES:
        raw = environ.get(name, "")
        for token in {raw, raw.strip()}:  # credential_for sends the stripped form: hide both
            if len(token) >= 4:
                found.update(_token_forms(token))
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` without the tokens (and their base64 forms) and without user:password@ in URLs."""
    for s in secrets:
        text = text.replace(s, "***")
    return _USERINFO.sub(r"\1***@", text)


def _url_prefix(url: str) -> str | None:
    """`scheme://host[:port]/` of an http(s) URL, else None (ssh, file, a local path)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}{f':{port}' if port is not None else ''}/"


def credential_for(url: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The user name and token to send to the remote at `url`: SYNCER_GIT_TOKEN for any http(s) host, then
    GITHUB_TOKEN only for the GitHub server the workflow runs on (GITHUB_SERVER_URL), then CI_JOB_TOKEN only
    for the GitLab server the job runs on (CI_SERVER_URL); None for other remotes."""
    prefix = _url_prefix(url)
    if prefix is None:
        return None
    token = environ.get("SYNCER_GIT_TOKEN", "").strip()
    if token:
        return ACCESS_TOKEN_USER, token
    for name, server_url, user in (
        ("GITHUB_TOKEN", environ.get("GITHUB_SERVER_URL", "").strip() or DEFAULT_GITHUB, ACCESS_TOKEN_USER),
        ("CI_JOB_TOKEN", environ.get("CI_SERVER_URL", "").strip(), JOB_TOKEN_USER),
    ):
        token = environ.get(name, "").strip()
        if token and server_url and _url_prefix(server_url) == prefix:
            return user, token
    return None


def auth_config(url: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The git config entries that authenticate to the remote at `url` (empty when no token applies)."""
    credential = credential_for(url, environ)
    prefix = _url_prefix(url)
    if credential is None or prefix is None:
        return []
    user, token = credential
    basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
    key = f"http.{prefix}.extraheader"
    return [(key, ""), (key, f"AUTHORIZATION: basic {basic}")]


def config_env(entries: Sequence[tuple[str, str]], environ: Mapping[str, str]) -> dict[str, str]:
    """GIT_CONFIG_COUNT/KEY/VALUE variables adding `entries` after any the environment already has."""
    try:
        start = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        start = 0
    out = {"GIT_CONFIG_COUNT": str(start + len(entries))}
    for i, (key, value) in enumerate(entries, start):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    return out


@dataclass(frozen=True, slots=True)
class Git:
    """`git` in one repository. `environ` is the process environment (tests pass their own)."""

    cwd: Path
    exe: str = "git"
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    local_timeout: float = LOCAL_TIMEOUT
    remote_timeout: float = REMOTE_TIMEOUT

    @property
    def secrets(self) -> tuple[str, ...]:
        return secrets_of(self.environ)

    def env(self, *, remote_url: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(self.environ)
        env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANGUAGE="C", GCM_INTERACTIVE="never", GIT_OPTIONAL_LOCKS="0")
        entries = list(BASE_CONFIG)
        if remote_url is not None:
            entries += auth_config(remote_url, self.environ)
        env.update(config_env(entries, self.environ))
        if extra:
            env.update(extra)
        return env

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        remote_url: str | None = None,
        check: bool = True,
        extra_env: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `git ARGS`. `remote_url`: a command that talks to that remote (credentials, longer timeout).
        `check`: raise GitError (scrubbed, with `what` failed) on a non-zero exit."""
        timeout = self.remote_timeout if remote_url is not None else self.local_timeout
        try:
            proc = subprocess.run(
                [self.exe, *args],
                cwd=self.cwd,
                env=self.env(remote_url=remote_url, extra=extra_env),
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH): the git state backend needs it") from None
        except subprocess.TimeoutExpired:
            raise GitError(
                f"git {args[0]} did not finish within {timeout:.0f} s{' (network?)' if remote_url else ''}; try again"
            ) from None
        except OSError as exc:
            raise GitError(f"could not run git: {exc}") from None
        if check and proc.returncode != 0:
            raise self.error(proc, what or f"git {args[0]}")
        return proc

    def text(
        self,
        *args: str,
        input: bytes | None = None,
        remote_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> str:
        """stdout of `git ARGS` as text, stripped (raises GitError on failure)."""
        proc = self.run(*args, input=input, remote_url=remote_url, extra_env=extra_env, what=what)
        return proc.stdout.decode("utf-8", "replace").strip()

    def error(self, proc: subprocess.CompletedProcess[bytes], what: str) -> GitError:
        out = self.clean(proc.stdout)
        err = self.clean(proc.stderr)
        detail = (
            "; ".join(line.strip() for line in err.splitlines() if line.strip() and not line.startswith("hint:"))[:600]
            or out[:300]
            or f"exit code {proc.returncode}"
        )
        return GitError(f"{what} failed: {detail}", returncode=proc.returncode, stdout=out, stderr=err)

    def clean(self, data: bytes | str) -> str:
        """Decoded and scrubbed of every credential this environment holds."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        return scrub(text, self.secrets)

    def version(self) -> tuple[int, int]:
        out = self.text("version")
        m = re.search(r"(\d+)\.(\d+)", out)
        if m is None:
            raise GitError(f"cannot tell the version of git from {out!r}")
        return int(m.group(1)), int(m.group(2))
