"""Talking to the remote of the git backend: which commits its refs point at, fetching them, and pushing a
ref compare-and-swap. Failures are explained (credentials, a wrong remote, the network) and scrubbed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from syncer.errors import StateError
from syncer.state.git.cmd import Git, GitError


class RemoteRefused(StateError):
    """The remote refused a ref update for its own reasons (protection, permissions, a hook)."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """The outcome of pushing one ref: `flag` as in `git push --porcelain` (" ", "+", "-", "*", "=" done;
    "!" rejected), and the reason git gave (`stale info`, `non-fast-forward`, `fetch first`, or the remote's
    own words for `[remote rejected]`)."""

    flag: str
    summary: str

    @property
    def ok(self) -> bool:
        return self.flag in (" ", "+", "-", "*", "=")

    @property
    def remote_rejected(self) -> bool:
        """Refused by the server itself (protection, permissions, hooks), not because the ref moved."""
        return "remote rejected" in self.summary


def parse_push(stdout: str, ref: str) -> PushResult | None:
    """The porcelain line of `ref` in `git push --porcelain` output, or None (the push did not get as far)."""
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].rsplit(":", 1)[-1] == ref:
            return PushResult(parts[0][:1] or " ", parts[2].strip())
    return None


def push_args(remote: str, ref: str, new: str | None, *, expect: str | None) -> list[str]:
    """`git push` of one ref, compare-and-swap: it succeeds only if the remote's `ref` is `expect` (None: the
    ref must not exist yet). `new` None deletes the ref. No hooks, no submodules, no signing."""
    return [
        "push",
        "--porcelain",
        "--no-verify",
        "--no-signed",
        "--recurse-submodules=no",
        f"--force-with-lease={ref}:{expect or ''}",
        remote,
        f"{new}:{ref}" if new else f":{ref}",
    ]


class Remote:
    """One remote (a name of the repository's remotes, or a URL) of the repository `git` runs in."""

    def __init__(self, git: Git, name: str) -> None:
        self.git = git
        self.name = name
        self._urls: dict[bool, str] = {}

    def url(self, *, push: bool = False) -> str:
        """The URL git will talk to (to scope credentials): the remote's (push) URL, or the name itself when
        it is a URL rather than a remote's name."""
        if push not in self._urls:
            p = self.git.run("remote", "get-url", *(["--push"] if push else []), self.name, check=False)
            self._urls[push] = p.stdout.decode("utf-8", "replace").strip() if p.returncode == 0 else self.name
        return self._urls[push]

    def refs(self, *refs: str, what: str) -> dict[str, str]:
        """The commits the remote's `refs` point at (refs that do not exist are left out)."""
        out = self.text("ls-remote", self.name, *refs, what=what)
        found: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            found[ref.strip()] = sha.strip()
        return found

    def ensure(self, sha: str, remote_ref: str, local_ref: str) -> str:
        """Make the commit `sha` (the remote's `remote_ref`) present here, under `local_ref`; fetch if needed.
        Returns the commit now held (the remote's newer one if the ref moved in between)."""
        if self.git.run("cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode != 0:
            self.text(
                "fetch",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-prune",
                "--recurse-submodules=no",
                "--quiet",
                self.name,
                f"+{remote_ref}:{local_ref}",
                what=f"fetching {remote_ref} from {self.name}",
            )
            return self.git.text("rev-parse", "--verify", f"{local_ref}^{{commit}}")
        self.git.run("update-ref", local_ref, sha)
        return sha

    def push(self, ref: str, new: str | None, *, expect: str | None, what: str) -> PushResult:
        """Push `new` (None: delete) to `ref` if the remote's `ref` is `expect` (None: must not exist)."""
        proc = self.git.run(*push_args(self.name, ref, new, expect=expect), remote_url=self.url(push=True), check=False)
        result = parse_push(self.git.clean(proc.stdout), ref)
        if result is None:
            raise self.explain(self.git.error(proc, what))
        return result

    def push_over(
        self,
        ref: str,
        commit: str,
        *,
        expect: str | None,
        location: str,
        attempts: int,
        sleep: Callable[[float], None],
        kept: str,
    ) -> None:
        """Move `ref` from `expect` to `commit`, compare-and-swap, retrying what the network may have lost. A
        push that seemed to fail but landed counts as done; a ref someone else moved is never overwritten
        (StateError saying so); a refusal by the remote itself is RemoteRefused. `kept` says where the
        unpushed writes are, for the messages."""
        last: GitError | None = None
        for attempt in range(attempts):
            if attempt:
                sleep(min(8.0, 2.0 ** (attempt - 1)))
            try:
                result = self.push(ref, commit, expect=expect, what=f"pushing the state to {location}")
            except GitError as exc:  # network, auth, timeout: the push may or may not have landed
                last = exc
                continue
            if result.ok:
                return
            if result.remote_rejected:
                raise RemoteRefused(
                    f"{self.name} refused the update of {ref} ({result.summary}); "
                    "the token needs `contents: write`, and branch protection or rulesets must allow "
                    "syncer to push the state branch"
                )
            last = None
            break
        try:
            current = self.refs(ref, what=f"reading {location}").get(ref)
        except GitError as exc:
            raise StateError(f"could not push the state to {location}: {last or exc}. {kept}") from None
        if current == commit:
            return  # an attempt that seemed to fail had landed
        if last is not None and current == expect:
            raise StateError(f"could not push the state to {location}: {last}. {kept}")
        raise StateError(
            f"the state on {location} was changed by someone else while this run held the lock (tip "
            f"{(current or 'deleted')[:12]}, expected {(expect or 'none')[:12]}): another apply ran, or the lock "
            "was cleared with --force. Stopping without overwriting it; run apply again (it starts from the "
            "branch and settles the journal)"
        )

    def text(self, *args: str, what: str) -> str:
        try:
            return self.git.text(*args, remote_url=self.url(), what=what)
        except GitError as exc:
            raise self.explain(exc) from None

    def explain(self, exc: GitError) -> GitError:
        """`exc` with what to do about it: credentials, the remote's name, or the network."""
        low = exc.stderr.lower()
        token = (
            "pass a token in GITHUB_TOKEN (in GitHub Actions: `env: GITHUB_TOKEN: ${{ github.token }}`, "
            "with `permissions: contents: write` to apply) or in SYNCER_GIT_TOKEN (on GitLab: a project access "
            "token with the write_repository scope and the Developer role; CI_JOB_TOKEN pushes only where the project "
            "allows Git pushes with the job token)"
        )
        if any(
            s in low
            for s in (
                "could not read username",
                "could not read password",
                "authentication failed",
                "returned error: 401",
                "returned error: 403",
                "permission to",
                "permission denied",
                "not authorized",
                "invalid username or password",
            )
        ):
            hint = f"the remote needs credentials that allow this: {token}"
        elif "repository not found" in low or "returned error: 404" in low:
            hint = f"check state.remote ({self.name}) in syncer.yaml; for a private repository, {token}"
        elif any(
            s in low for s in ("does not appear to be a git repository", "no such remote", "could not read from remote")
        ):
            hint = f"check state.remote ({self.name}) in syncer.yaml"
        else:
            hint = "check the network and try again"
        return GitError(f"{exc.message}; {hint}", returncode=exc.returncode, stdout=exc.stdout, stderr=exc.stderr)
