"""The `git` backend: the local backend's very files, committed to a branch of the metrics repository.

`state.backend: git` keeps the state on `state.branch` (default `syncer-state`, an orphan branch nobody
edits) of `state.remote` (default `origin`). See docs/state.md, "The git backend".

- **Reading** (`plan`, `state show`): `git ls-remote`, fetch the branch into `refs/syncer/state/<branch>`
  when its tip is not here yet, write its tree into a temporary directory and load it with the local
  backend. No branch: no state yet. Read access only.
- **The lock**: a commit describing the holder, pushed to `refs/syncer/lock/<branch>` compare-and-swap
  (`--force-with-lease=<ref>:` : the ref must not exist). Released by deleting it with a lease on our
  commit, so only our own lock is ever removed. `syncer state unlock [--force]` clears another's.
- **Writing**: under the lock, the branch's tree is checked out into `<git dir>/syncer/<remote>/<branch>/work`
  and written by a `LocalStateStore` (append-only log, fsync). After every write that matters for a crash
  (journal entry, batch, settle, rejection, forget, create) the files become a commit on the branch's tip,
  pushed compare-and-swap on the tip we built on: if the branch moved, someone else wrote, and syncer
  stops with a StateError instead of overwriting. Pacing marks ride along with the next push.
- **Compaction** (end of apply, `state rm`): the log is folded into the files and the commits pushed since
  the lock was taken are squashed into one, whose parent is the tip found when locking: the history keeps
  one commit per apply. Where the remote refuses a rewrite (a protected branch), a plain commit is added.
- **The people cache** (`people.json`, written by `syncer people resolve` under the lock) is committed and
  pushed like any other write; `read_people` reads it from the fetched branch without the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from syncer.errors import StateError
from syncer.settings import Settings
from syncer.state import files
from syncer.state.base import (
    BatchInfo,
    BatchRecord,
    Clock,
    Identity,
    JournalEntry,
    LockInfo,
    Rejection,
    State,
    VKey,
    format_time,
    utc_now,
)
from syncer.state.fsio import atomic_write
from syncer.state.gitcmd import (
    DEFAULT_GITHUB,
    MIN_GIT,
    Git,
    GitError,
    PushResult,
    mktree_input,
    parse_cat_file_batch,
    parse_ls_tree,
    parse_push,
    push_args,
)
from syncer.state.local import LocalStateStore
from syncer.state.lock import LockFile, pid_alive

#: The state files a branch may hold (and a migration copies), besides semesters/<semester>.jsonl. The people
#: cache is optional: states written before it existed, or never resolved, have none.
STATE_FILES = (files.META, files.BATCHES, files.REJECTIONS, files.JOURNAL, files.LOG, files.PEOPLE)
AUTHOR = ("syncer", "syncer@noreply.invalid")
_STALE = ("stale info", "non-fast-forward", "fetch first", "already exists")


class _Rejected(StateError):
    """The remote refused a ref update for its own reasons (protection, permissions, a hook)."""


class GitStateStore:
    """A state kept on a branch of a git remote. Construct with `open_git_store`; `load()` to read;
    `lock()` before any write. Satisfies `syncer.state.base.StateStore`."""

    def __init__(
        self,
        *,
        repo: Path,
        private: Path,
        branch: str,
        remote: str,
        clock: Clock = utc_now,
        git: Git | None = None,
        sleep: Callable[[float], None] = time.sleep,
        hostname: Callable[[], str] = socket.gethostname,
        pid: Callable[[], int] = os.getpid,
        alive: Callable[[int], bool] = pid_alive,
        push_attempts: int = 3,
    ) -> None:
        self.repo = Path(repo)
        self.path = Path(private)  # the private working directory (never part of the metrics root)
        self.branch = branch
        self.remote = remote
        self._clock = clock
        self._git = git or Git(self.repo)
        self._sleep = sleep
        self._hostname = hostname
        self._pid = pid
        self._alive = alive
        self._push_attempts = max(1, push_attempts)
        self._urls: dict[bool, str] = {}
        # While locked:
        self._held: tuple[str, LockInfo] | None = None  # our lock commit on the remote, and what it says
        self._clone_lock: LockInfo | None = None
        self._local: LocalStateStore | None = None
        self._base: str | None = None  # the branch's tip when the lock was taken (squash parent)
        self._tip: str | None = None  # the branch's tip as we last pushed or found it
        self._tip_tree: str | None = None
        self._pending = False  # written locally, not pushed yet (pacing marks)
        self._session: list[str] = []  # what this lock session pushed, for the compaction commit
        self._broken: str | None = None
        self._hashes: dict[str, tuple[tuple[int, int, int, int], str]] = {}

    # --- names ------------------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"git:{self.remote}/{self.branch}"

    @property
    def branch_ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def lock_ref(self) -> str:
        return f"refs/syncer/lock/{self.branch}"

    @property
    def tracking_ref(self) -> str:
        return f"refs/syncer/state/{self.branch}"

    @property
    def work(self) -> Path:
        return self.path / "work"

    @property
    def tip(self) -> str | None:
        """While locked: the commit of the state branch this store builds on (None: no branch yet)."""
        return self._tip

    def _remote_url(self, *, push: bool = False) -> str:
        """The URL git will talk to (to scope credentials): the remote's (push) URL, or `state.remote` itself
        when it is a URL rather than a remote's name."""
        if push not in self._urls:
            p = self._git.run("remote", "get-url", *(["--push"] if push else []), self.remote, check=False)
            self._urls[push] = p.stdout.decode("utf-8", "replace").strip() if p.returncode == 0 else self.remote
        return self._urls[push]

    # --- reading ----------------------------------------------------------------------------------------

    def exists(self) -> bool:
        if self._local is not None:
            return self._local.exists()
        return self._remote_refs()[0] is not None

    def load(self) -> State | None:
        if self._local is not None:
            return self._local.load()
        tip = self._fetch_tip()
        if tip is None:
            return None
        blobs = self.tree_files(tip)
        self.path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="read-", dir=self.path) as tmp:
            _write_files(Path(tmp), blobs)
            try:
                return LocalStateStore(Path(tmp), clock=self._clock).load()
            except StateError as exc:
                raise StateError(str(exc).replace(tmp, f"{self.location} ({tip[:12]})")) from None

    def read_people(self) -> dict[str, Any] | None:
        """The people cache of the state branch (fetched; read-only, no lock), or, while this store holds the
        lock, of the state being written. None: no branch, or a branch without a cache."""
        if self._local is not None:
            return self._local.read_people()
        tip = self._fetch_tip()
        if tip is None:
            return None
        blob = dict(self.tree_entries(tip)).get(files.PEOPLE)
        if blob is None:
            return None
        where = f"{self.location}/{files.PEOPLE} ({tip[:12]})"
        try:
            text = self._git.run("cat-file", "blob", blob).stdout.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(
                f"{where}: the people cache is damaged ({exc}); run `syncer people resolve --refresh` to write it anew"
            ) from None
        return files.decode_people(text, where=where)

    def _remote_refs(self) -> tuple[str | None, str | None]:
        """(state branch tip, lock commit) on the remote, None for a ref that does not exist."""
        out = self._remote_text(
            "ls-remote", self.remote, self.branch_ref, self.lock_ref, what=f"reading {self.location}"
        )
        found: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            found[ref.strip()] = sha.strip()
        return found.get(self.branch_ref), found.get(self.lock_ref)

    def _fetch_tip(self) -> str | None:
        tip = self._remote_refs()[0]
        if tip is None:
            return None
        return self._ensure(tip, self.branch_ref, self.tracking_ref)

    def _ensure(self, sha: str, remote_ref: str, local_ref: str) -> str:
        """Make the commit `sha` (the remote's `remote_ref`) present here, under `local_ref`; fetch if needed.
        Returns the commit now held (the remote's newer one if the ref moved in between)."""
        if not self._has_commit(sha):
            self._remote_text(
                "fetch",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-prune",
                "--recurse-submodules=no",
                "--quiet",
                self.remote,
                f"+{remote_ref}:{local_ref}",
                what=f"fetching {remote_ref} from {self.remote}",
            )
            return self._git.text("rev-parse", "--verify", f"{local_ref}^{{commit}}")
        self._git.run("update-ref", local_ref, sha)
        return sha

    def _has_commit(self, sha: str) -> bool:
        return self._git.run("cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0

    def tree_entries(self, commit: str) -> list[tuple[str, str]]:
        """(path, blob) of the state files of a commit; refuses entries syncer never writes."""
        entries = parse_ls_tree(self._git.run("ls-tree", "-r", "-z", "--full-tree", commit).stdout)
        wanted: list[tuple[str, str]] = []
        for mode, kind, sha, path in entries:
            parts = path.split("/")
            safe = all(p and not p.startswith(".") for p in parts) and (
                (len(parts) == 1 and path in STATE_FILES)
                or (len(parts) == 2 and parts[0] == files.SEMESTERS and parts[1].endswith(files.SHARD_SUFFIX))
            )
            if kind != "blob" or mode not in ("100644", "100755") or not safe:
                raise StateError(
                    f"{self.location} ({commit[:12]}) holds {path!r}, which syncer never writes there: the "
                    "branch was edited by hand (or by a newer syncer: upgrade syncer). Restore a commit written "
                    "by syncer (git log of the branch)"
                )
            wanted.append((path, sha))
        return wanted

    def tree_files(self, commit: str) -> dict[str, bytes]:
        """The state files of a commit, by path; refuses entries syncer never writes."""
        wanted = self.tree_entries(commit)
        shas = sorted({sha for _, sha in wanted})
        out = self._git.run("cat-file", "--batch", input="".join(s + "\n" for s in shas).encode()).stdout
        blobs = parse_cat_file_batch(out, shas)
        return {path: blobs[sha] for path, sha in wanted}

    # --- the lock ---------------------------------------------------------------------------------------

    def lock_holder(self) -> LockInfo | None:
        if self._held is not None:
            return self._held[1]
        held = self._read_remote_lock()
        return held[1] if held else None

    def lock_status(self, info: LockInfo) -> str:
        """ "dead" (taken on this host by a process that is gone), "alive" (runs here) or "other host"
        (a CI job or another machine: syncer cannot tell whether it still runs)."""
        if info.host and info.host == self._hostname():
            return "alive" if self._alive(info.pid) else "dead"
        return "other host"

    def lock(self, *, command: str = "apply", steal_dead: bool = False) -> LockInfo:
        """Push the lock ref (it must not exist), then check the branch out into the working directory."""
        if self._held is not None:
            raise StateError(f"{self.location}: this process already holds the lock")
        info = LockInfo(
            self._pid(), self._hostname(), format_time(self._clock()), self._with_run(command), uuid.uuid4().hex
        )
        sha = self._lock_commit(info)
        for _attempt in range(3):
            result = self._push(self.lock_ref, sha, expect=None, what=f"taking the lock of {self.location}")
            if result.ok:
                break
            if result.remote_rejected:
                raise StateError(
                    f"{self.location}: the remote refused the lock ref {self.lock_ref} "
                    f"({result.summary}); the token needs `contents: write`, and rulesets must "
                    "allow refs/syncer/*"
                )
            held = self._read_remote_lock()
            if held is None:
                continue  # released between our push and our look: try again
            status = self.lock_status(held[1])
            if steal_dead and status == "dead":
                self._delete_lock(held[0], quiet=True)
                continue
            raise StateError(
                f"the state on {self.location} is locked by {self._describe(held[1])}; {self._hint(status)}"
            )
        else:
            raise StateError(f"could not lock the state on {self.location}: the lock ref keeps changing")
        self._held = (sha, info)
        try:
            self._checkout(command)
        except BaseException:
            self._release(quiet=True)
            raise
        return info

    def _checkout(self, command: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        clone_lock = LockFile(self.path / "clone.lock", clock=self._clock)
        self._clone_lock = clone_lock.acquire(command=command, steal_dead=True)
        tip = self._fetch_tip()
        blobs = self.tree_files(tip) if tip else {}
        fresh = Path(tempfile.mkdtemp(prefix="work-", dir=self.path))
        _write_files(fresh, blobs)
        if self.work.exists():
            shutil.rmtree(self.work)
        fresh.rename(self.work)
        self._hashes.clear()
        self._base = self._tip = tip
        self._tip_tree = self._git.text("rev-parse", f"{tip}^{{tree}}") if tip else None
        self._session, self._pending, self._broken = [], False, None
        local = LocalStateStore(
            self.work, clock=self._clock, lockfile=LockFile(self.path / "work.lock", clock=self._clock)
        )
        local.lock(command=command, steal_dead=True)  # compacts a long log: published below
        self._local = local
        if tip is not None:
            self._publish("compact the log")

    def unlock(self, *, force: bool = False) -> LockInfo | None:
        """Release our own lock (pushing what is left, then deleting the lock ref if it is still ours); or,
        for `syncer state unlock`, clear another holder's lock."""
        if self._held is None:
            return self._clear(force=force)
        return self._release(quiet=sys.exc_info()[1] is not None)

    @contextlib.contextmanager
    def locked(self, *, command: str = "apply", steal_dead: bool = False) -> Iterator[LockInfo]:
        info = self.lock(command=command, steal_dead=steal_dead)
        try:
            yield info
        except BaseException:
            if self._held is not None:
                self._release(quiet=True)  # the body's exception is the one to report
            raise
        if self._held is not None:
            self._release(quiet=False)  # not sys.exc_info(): an outer `except` around us is not our failure

    def _release(self, *, quiet: bool) -> LockInfo | None:
        """Flush, unlock locally, delete the lock ref. `quiet` (an exception is on its way already): report
        nothing over it."""
        assert self._held is not None
        sha, info = self._held
        problems: list[StateError] = []
        try:
            if self._pending and self._broken is None and self._local is not None:
                self._publish("pacing")
        except StateError as exc:
            problems.append(exc)
        if self._local is not None:
            with contextlib.suppress(StateError, OSError):
                self._local.unlock()
        if self._clone_lock is not None:
            with contextlib.suppress(StateError, OSError):
                LockFile(self.path / "clone.lock").release(self._clone_lock)
        self._local, self._clone_lock, self._held = None, None, None
        try:
            self._delete_lock(sha, quiet=True)
        except StateError as exc:
            problems.append(
                StateError(
                    f"{exc}; the lock ref {self.lock_ref} may still be on {self.remote}: clear it with "
                    "`syncer state unlock --force` once you are sure this run is over"
                )
            )
        if problems and not quiet:
            raise problems[0]
        return info

    def _clear(self, *, force: bool) -> LockInfo | None:
        held = self._read_remote_lock()
        if held is None:
            return None
        sha, info = held
        status = self.lock_status(info)
        if status != "dead" and not force:
            where = (
                "it is still running on this host"
                if status == "alive"
                else "it was taken on another host (a CI job?), so syncer cannot tell whether it still runs"
            )
            raise StateError(
                f"the state on {self.location} is locked by {self._describe(info)}: {where}. "
                "Use --force only if you are sure no apply is running"
            )
        self._delete_lock(sha, quiet=False)
        return info

    def _delete_lock(self, sha: str, *, quiet: bool) -> None:
        """Delete the remote lock ref if it still is `sha` (never someone else's lock)."""
        result = self._push(self.lock_ref, None, expect=sha, what=f"releasing the lock of {self.location}")
        if not result.ok and not quiet:
            raise StateError(
                f"the lock of {self.location} changed while it was being cleared "
                f"({result.summary}); look again with `syncer state show`"
            )

    def _read_remote_lock(self) -> tuple[str, LockInfo] | None:
        sha = self._remote_refs()[1]
        if sha is None:
            return None
        sha = self._ensure(sha, self.lock_ref, f"refs/syncer/lock-seen/{self.branch}")
        message = self._git.run("cat-file", "commit", sha).stdout.decode("utf-8", "replace")
        body = message.partition("\n\n")[2]
        try:
            obj = json.loads(body[body.index("{") :])
            return sha, LockInfo(
                int(obj["pid"]), str(obj["host"]), str(obj["time"]), str(obj.get("command", "")), str(obj.get("id", ""))
            )
        except (ValueError, KeyError, TypeError):
            return sha, LockInfo(0, "", "", "an unreadable lock (not written by this syncer)", "")

    def _lock_commit(self, info: LockInfo) -> str:
        tree = self._git.text("mktree", "-z", input=b"")
        text = f"syncer lock: {info.command}\n\n{json.dumps(info._asdict(), sort_keys=True)}\n"
        return self._commit(tree, None, text)

    def _with_run(self, command: str) -> str:
        env = self._git.environ
        repo, run = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
        if repo and run:
            server = (env.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB).rstrip("/")
            return f"{command} ({server}/{repo}/actions/runs/{run})"
        return command

    def _describe(self, info: LockInfo) -> str:
        if not info.host:
            return info.command
        return (
            f"{info.command or 'a writer'} (pid {info.pid} on {info.host}, {self.lock_status(info)}) since {info.time}"
        )

    @staticmethod
    def _hint(status: str) -> str:
        if status == "dead":
            return "its process is gone: clear it with `syncer state unlock`"
        return (
            "wait for it to finish; if you are sure it is gone (a cancelled or killed job), run "
            "`syncer state unlock --force`, then apply again: it settles what the dead run left in the "
            "journal"
        )

    # --- writing ----------------------------------------------------------------------------------------

    def create(self, identity: Identity) -> State:
        state = self._writer().create(identity)
        self._publish(f"create the state for {identity.host} ({identity.user_id_type})")
        return state

    def open_journal(self, entry: JournalEntry) -> None:
        self._writer().open_journal(entry)
        self._publish(
            f"journal {entry.client_token[:12]}: {len(entry.rows())} rows of semester {entry.semester} about to be sent"
        )

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        self._writer().settle_journal(client_token, outcome=outcome)
        self._publish(f"settle {client_token[:12]}: {outcome}")

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        info = self._writer().record_batch(batch)
        self._publish(
            f"batch {info.id}: {info.rows} rows of semester {info.semester} accepted "
            f"(import record {info.import_record_id or 'unknown'})"
        )
        return info

    def record_rejected(self, rejections: Sequence[Rejection]) -> None:
        self._writer().record_rejected(rejections)
        if rejections:
            self._publish(f"{len(rejections)} rows rejected ({', '.join(sorted({str(r.code) for r in rejections}))})")

    def record_import_request(self, at: datetime) -> None:
        self._writer().record_import_request(at)
        self._pending = True  # a pacing mark: pushed with the next write, or when the lock is released

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        n = self._writer().forget(keys, reason=reason)
        if n:
            self._publish(f"forget {n} values ({reason})")
        return n

    def record_people(self, people: Mapping[str, Any]) -> bool:
        changed = self._writer().record_people(people)
        if changed:
            entries = people.get("people")
            count = f" ({len(entries)} addresses)" if isinstance(entries, Mapping) else ""
            self._publish(f"people cache{count}")
        return changed

    def compact(self) -> None:
        """Fold the log into the files, and squash this lock session's commits into one."""
        local = self._writer()
        log = self.work / files.LOG
        if not self._session and not self._pending and (not log.exists() or log.stat().st_size == 0):
            return  # nothing was written since the last compaction
        local.compact()
        state = local.load()
        serial = state.meta.serial if state is not None else 0
        lines = "".join(f"- {s}\n" for s in self._session)
        message = f"compact the state (serial {serial})\n\n{lines}"
        try:
            self._publish(message, squash=True)
        except _Rejected:  # a branch protected against rewrites: keep the history, add a commit
            self._publish(message)
        self._session = []

    # --- internals --------------------------------------------------------------------------------------

    def _writer(self) -> LocalStateStore:
        if self._local is None or self._held is None:
            raise StateError(f"{self.location}: writing the state needs its lock (a bug in syncer)")
        if self._broken is not None:
            raise StateError(
                f"{self.location}: an earlier write could not be pushed ({self._broken}); "
                "stopping. Run apply again: it starts from the branch and settles the journal"
            )
        return self._local

    def _publish(self, message: str, *, squash: bool = False) -> None:
        """Commit the working directory on the tip (or, squashing, on the tip found at lock time) and push
        it compare-and-swap on the tip we built on."""
        tree = self._write_tree()
        if tree == self._tip_tree and (not squash or self._tip == self._base):
            self._pending = False
            return
        parent = self._base if squash else self._tip
        commit = self._commit(tree, parent, f"syncer: {message}")
        try:
            self._push_state(commit)
        except _Rejected as exc:
            if not squash:
                self._broken = str(exc)
            raise
        except StateError as exc:
            self._broken = str(exc)
            raise
        self._git.run("update-ref", self.tracking_ref, commit)
        self._tip, self._tip_tree, self._pending = commit, tree, False
        if squash:
            self._base = commit
        elif not message.startswith("compact"):
            self._session.append(message)

    def _push_state(self, commit: str) -> None:
        expect = self._tip
        last: GitError | None = None
        for attempt in range(self._push_attempts):
            if attempt:
                self._sleep(min(8.0, 2.0 ** (attempt - 1)))
            try:
                result = self._push(
                    self.branch_ref, commit, expect=expect, what=f"pushing the state to {self.location}"
                )
            except GitError as exc:  # network, auth, timeout: the push may or may not have landed
                last = exc
                continue
            if result.ok:
                return
            if result.remote_rejected:
                raise _Rejected(
                    f"{self.remote} refused the update of {self.branch_ref} ({result.summary}); "
                    "the token needs `contents: write`, and branch protection or rulesets must allow "
                    "syncer to push the state branch"
                )
            last = None
            break
        kept = f"what this run recorded since its last push is kept in {self.work}; nothing was overwritten"
        try:
            current = self._remote_refs()[0]
        except GitError as exc:
            raise StateError(f"could not push the state to {self.location}: {last or exc}. {kept}") from None
        if current == commit:
            return  # an attempt that seemed to fail had landed
        if last is not None and current == expect:
            raise StateError(f"could not push the state to {self.location}: {last}. {kept}")
        raise StateError(
            f"the state on {self.location} was changed by someone else while this run held the lock (tip "
            f"{(current or 'deleted')[:12]}, expected {(expect or 'none')[:12]}): another apply ran, or the lock "
            "was cleared with --force. Stopping without overwriting it; run apply again (it starts from the "
            "branch and settles the journal)"
        )

    def _push(self, ref: str, new: str | None, *, expect: str | None, what: str) -> PushResult:
        proc = self._git.run(
            *push_args(self.remote, ref, new, expect=expect), remote_url=self._remote_url(push=True), check=False
        )
        result = parse_push(self._git.clean(proc.stdout), ref)
        if result is None:
            raise self._remote_error(self._git.error(proc, what))
        return result

    def _remote_text(self, *args: str, what: str) -> str:
        try:
            return self._git.text(*args, remote_url=self._remote_url(), what=what)
        except GitError as exc:
            raise self._remote_error(exc) from None

    def _remote_error(self, exc: GitError) -> GitError:
        low = exc.stderr.lower()
        token = (
            "pass a token in GITHUB_TOKEN (in GitHub Actions: `env: GITHUB_TOKEN: ${{ github.token }}`, "
            "with `permissions: contents: write` to apply) or in SYNCER_GIT_TOKEN"
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
            hint = f"check state.remote ({self.remote}) in syncer.yaml; for a private repository, {token}"
        elif any(
            s in low for s in ("does not appear to be a git repository", "no such remote", "could not read from remote")
        ):
            hint = f"check state.remote ({self.remote}) in syncer.yaml"
        else:
            hint = "check the network and try again"
        return GitError(f"{exc.message}; {hint}", returncode=exc.returncode, stdout=exc.stdout, stderr=exc.stderr)

    def _commit(self, tree: str, parent: str | None, message: str) -> str:
        env = self._git.environ
        stamp = f"@{int(self._clock().timestamp())} +0000"
        extra = {
            "GIT_AUTHOR_NAME": env.get("GIT_AUTHOR_NAME") or AUTHOR[0],
            "GIT_AUTHOR_EMAIL": env.get("GIT_AUTHOR_EMAIL") or AUTHOR[1],
            "GIT_COMMITTER_NAME": env.get("GIT_COMMITTER_NAME") or AUTHOR[0],
            "GIT_COMMITTER_EMAIL": env.get("GIT_COMMITTER_EMAIL") or AUTHOR[1],
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        args = ["commit-tree", "--no-gpg-sign", tree] + (["-p", parent] if parent else [])
        return self._git.text(*args, input=message.encode("utf-8"), extra_env=extra)

    def _write_tree(self) -> str:
        """The tree of the working directory: blobs hashed only when a file changed."""
        top: list[tuple[str, str, str, str]] = []
        shards: list[tuple[str, str, str, str]] = []
        paths: list[tuple[list[tuple[str, str, str, str]], str, Path]] = []
        for entry in sorted(self.work.iterdir()) if self.work.exists() else []:
            if entry.name.startswith("."):
                continue
            if entry.is_file() and entry.name in STATE_FILES:  # only what tree_entries accepts
                paths.append((top, entry.name, entry))
            elif entry.is_dir() and entry.name == files.SEMESTERS:
                paths += [
                    (shards, p.name, p)
                    for p in sorted(entry.iterdir())
                    if p.is_file() and not p.name.startswith(".") and p.name.endswith(files.SHARD_SUFFIX)
                ]
        todo: list[Path] = []
        keys: dict[str, tuple[int, int, int, int]] = {}
        for _, _, p in paths:
            st = p.stat()
            keys[str(p)] = key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            cached = self._hashes.get(str(p))
            if cached is None or cached[0] != key:
                todo.append(p)
        if todo:
            out = self._git.text(
                "hash-object", "-w", "--no-filters", "--stdin-paths", input="".join(f"{p}\n" for p in todo).encode()
            )
            for p, sha in zip(todo, out.split(), strict=True):
                self._hashes[str(p)] = (keys[str(p)], sha)
        for bucket, name, p in paths:
            bucket.append(("100644", "blob", self._hashes[str(p)][1], name))
        if shards:
            sub = self._git.text("mktree", "-z", input=mktree_input(shards))
            top.append(("040000", "tree", sub, files.SEMESTERS))
        top.sort(key=lambda e: e[3])
        return self._git.text("mktree", "-z", input=mktree_input(top))

    def adopt(self, source: Path) -> None:
        """Replace the working directory's files with a local state's (migration), under the lock."""
        local = self._writer()
        local.unlock()
        for name in STATE_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, self.work / name)
        shard_dir = source / files.SEMESTERS
        if shard_dir.is_dir():
            (self.work / files.SEMESTERS).mkdir(exist_ok=True)
            for shard in sorted(shard_dir.glob("*" + files.SHARD_SUFFIX)):
                shutil.copyfile(shard, self.work / files.SEMESTERS / shard.name)
        self._local = LocalStateStore(
            self.work, clock=self._clock, lockfile=LockFile(self.path / "work.lock", clock=self._clock)
        )
        self._local.lock(command="state migrate", steal_dead=True)
        self._session.append(f"migrated from the local state at {source}")


def _write_files(directory: Path, blobs: Mapping[str, bytes]) -> None:
    for path, data in sorted(blobs.items()):
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def open_git_store(
    root: Path,
    settings: Settings,
    *,
    clock: Clock = utc_now,
    git_exe: str = "git",
    environ: Mapping[str, str] | None = None,
) -> GitStateStore:
    """The git store of a metrics root: `state.branch` of `state.remote` in the repository holding `root`."""
    root = Path(root)
    env = dict(os.environ) if environ is None else dict(environ)
    probe = Git(root if root.is_dir() else Path.cwd(), exe=git_exe, environ=env)
    try:
        version = probe.version()
    except GitError as exc:
        raise StateError(f"state.backend git: {exc}") from None
    if version < MIN_GIT:
        raise StateError(
            f"state.backend git needs git {MIN_GIT[0]}.{MIN_GIT[1]} or newer (this is "
            f"{version[0]}.{version[1]}): it passes credentials to git through the environment"
        )
    p = probe.run("rev-parse", "--show-toplevel", check=False)
    if p.returncode != 0 or not root.is_dir():
        raise StateError(
            f"state.backend git keeps the state on a branch of the repository holding the metrics "
            f"root, but {root} is not inside a git work tree; clone the repository, or use a local "
            "state directory with --state PATH"
        )
    top = Path(p.stdout.decode("utf-8", "replace").strip())
    repo = Git(top, exe=git_exe, environ=env)
    common = Path(repo.text("rev-parse", "--path-format=absolute", "--git-common-dir"))
    branch, remote = settings.state.branch, settings.state.remote
    if not branch or repo.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
        raise StateError(f"state.branch {branch!r} is not a valid branch name")
    if not remote or remote.startswith("-"):
        raise StateError(f"state.remote {remote!r} is not a remote name or URL")
    current = repo.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if current.returncode == 0 and current.stdout.decode().strip() == branch:
        raise StateError(
            f"state.branch {branch!r} is the branch checked out here: the state needs a branch of its "
            "own that nobody edits (the default is syncer-state)"
        )
    private = common / "syncer" / quote(remote, safe="") / quote(branch, safe="")
    return GitStateStore(repo=top, private=private, branch=branch, remote=remote, clock=clock, git=repo)


# --- migration between backends ---------------------------------------------------------------------------


def migrate_to_git(source: LocalStateStore, dest: GitStateStore) -> State:
    """Push a local state, unchanged (lineage, serial, journal), as the first commit of the state branch.
    Refused when the branch exists."""
    with source.locked(command="state migrate --to git"):
        if source.load() is None:
            raise StateError(f"no state at {source.location}: nothing to migrate")
        with dest.locked(command="state migrate --to git"):
            if dest.tip is not None:
                existing = dest.load()
                raise StateError(
                    f"{dest.location} already holds a state"
                    + (f" (lineage {existing.meta.lineage}, serial {existing.meta.serial})" if existing else "")
                    + ": refusing to overwrite it. Keep using it (state.backend: git), or move it away first"
                )
            dest.adopt(source.path)
            dest.compact()
            state = dest.load()
    assert state is not None
    return state


def migrate_to_local(source: GitStateStore, dest: LocalStateStore) -> State:
    """Copy the state branch's state, unchanged, into a local state directory. Refused when one exists."""
    with dest.locked(command="state migrate --to local"):
        if dest.exists():
            raise StateError(
                f"{dest.location} already holds a state: refusing to overwrite it; choose another "
                "directory with --state PATH, or move it away first"
            )
        with source.locked(command="state migrate --to local"):
            if source.tip is None:
                raise StateError(f"no state on {source.location}: nothing to migrate")
            blobs = source.tree_files(source.tip)
        for path in sorted(blobs, key=lambda p: p == files.META):  # meta.json last: then the state exists
            target = dest.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, blobs[path].decode("utf-8"))
        state = dest.load()
    assert state is not None
    return state
