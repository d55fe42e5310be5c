"""The git backend's lock: a commit describing its holder, pushed to `refs/syncer/lock/<branch>`
compare-and-swap (the ref must not exist yet), released by deleting the ref with a lease on our own commit,
so that only our own lock is ever removed.

The lock is a lease: the commit says until when it holds (`expires`), and its holder renews it (a new
commit, pushed compare-and-swap on its own) as it writes. A runner that died stops renewing: once its lease
has run out, the next apply takes the lock over, says whose it was, and settles what the dead run left in
the journal. A lock taken on this host by a process that is gone is taken over at once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from syncer.errors import StateError
from syncer.state.git.cmd import DEFAULT_GITHUB, Git
from syncer.state.git.objects import ObjectStore
from syncer.state.git.remote import Remote
from syncer.state.lock import lease_liveness
from syncer.state.model import Liveness, LockHolder, LockInfo, format_time

UNREADABLE_HOST = "?"  # a lock commit syncer cannot read: held elsewhere, for all syncer can tell


class RefLock:
    def __init__(
        self,
        git: Git,
        remote: Remote,
        *,
        branch: str,
        location: str,
        clock: Callable[[], datetime],
        hostname: Callable[[], str],
        pid: Callable[[], int],
        alive: Callable[[int], bool],
        lease: float = 900.0,
    ) -> None:
        self.git = git
        self._objects = ObjectStore(git)
        self.remote = remote
        self.branch = branch
        self.location = location
        self.ref = f"refs/syncer/lock/{branch}"
        self._clock = clock
        self._hostname = hostname
        self._pid = pid
        self._alive = alive
        self.lease = lease
        self.taken_over: LockInfo | None = None  # the dead holder whose lock the last `take` took over
        self.pending: str | None = None  # the id of the lock the last `take` pushed (or tried to)

    def status(self, info: LockInfo) -> Liveness:
        return lease_liveness(info, now=self._clock().timestamp(), host=self._hostname(), alive=self._alive)

    def _info(self, command: str, *, id: str | None = None) -> LockInfo:
        now = self._clock()
        return LockInfo(
            self._pid(),
            self._hostname(),
            format_time(now),
            command,
            id or uuid.uuid4().hex,
            format_time(now + timedelta(seconds=self.lease)),
        )

    def holder(self) -> LockHolder | None:
        held = self.read()
        return None if held is None else LockHolder(held[1], self.status(held[1]))

    def take(self, command: str) -> tuple[str, LockInfo]:
        """Push a lock commit to the lock ref (it must not exist): (our commit, what it says). A dead holder's
        lock (lease expired, or its process gone from this host) is taken over: `taken_over` says whose."""
        info = self._info(self._with_run(command))
        sha = self._commit(info)
        self.taken_over = None
        self.pending = info.id  # until the caller holds it: `abandon` gives back a lock this take pushed
        for _attempt in range(3):
            result = self.remote.push(self.ref, sha, expect=None, what=f"taking the lock of {self.location}")
            if result.ok:
                return sha, info
            held = self.read()
            if result.remote_rejected and held is None:  # refused, and not because someone holds the lock
                raise StateError(
                    f"{self.location}: the remote refused the lock ref {self.ref} "
                    f"({result.summary}); the token needs `contents: write`, and rulesets must "
                    "allow refs/syncer/*"
                )
            if held is None:
                continue  # released between our push and our look: try again
            if held[1].id == info.id:  # ours: the push landed though its answer was lost (git was killed)
                return held[0], info
            status = self.status(held[1])
            if status == "dead":
                self.delete(held[0], quiet=True)
                self.taken_over = held[1]
                continue
            raise StateError(
                f"the state on {self.location} is locked by {self.describe(held[1])}; {self._hint(status)}"
            )
        raise StateError(f"could not lock the state on {self.location}: the lock ref keeps changing")

    def abandon(self) -> None:
        """After a take cut short (a second stop during its push, an error after it): delete the lock ref if it
        holds the lock this take pushed (by its id), so that nobody waits out its lease. Quiet: the caller is
        already failing, and a lock left behind is named by the next runner as before."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        try:
            held = self.read()
            if held is not None and held[1].id == pending:
                self.delete(held[0], quiet=True)
        except StateError:
            pass

    def renew(self, sha: str, info: LockInfo) -> tuple[str, LockInfo]:
        """Extend our lease: a new lock commit, pushed compare-and-swap on our current one. Raises StateError
        when the lock is no longer ours (taken over, or cleared with --force): the writer must stop."""
        fresh = self._info(info.command, id=info.id)
        new = self._commit(fresh)
        result = self.remote.push(self.ref, new, expect=sha, what=f"renewing the lock of {self.location}")
        if not result.ok:
            held = self.read()
            who = self.describe(held[1]) if held is not None else "nobody (it was cleared)"
            raise StateError(
                f"the lock of {self.location} is no longer this run's: it is held by {who}. Stopping before "
                "the next write; run apply again (it settles the journal)"
            )
        return new, fresh

    def clear(self, *, force: bool) -> LockInfo | None:
        """`syncer state unlock`: delete another holder's lock (a live or unknown one only with `force`)."""
        held = self.read()
        if held is None:
            return None
        sha, info = held
        status = self.status(info)
        if status != "dead" and not force:
            where = (
                "it is still running on this host"
                if status == "alive"
                else "it was taken on another host (a CI job?), so syncer cannot tell whether it still runs"
            )
            raise StateError(
                f"the state on {self.location} is locked by {self.describe(info)}: {where}. "
                "Use --force only if you are sure no apply is running"
            )
        self.delete(sha, quiet=False)
        return info

    def delete(self, sha: str, *, quiet: bool) -> None:
        """Delete the remote lock ref if it still is `sha` (never someone else's lock)."""
        result = self.remote.push(self.ref, None, expect=sha, what=f"releasing the lock of {self.location}")
        if not result.ok and not quiet:
            raise StateError(
                f"the lock of {self.location} changed while it was being cleared "
                f"({result.summary}); look again with `syncer state show`"
            )

    def read(self) -> tuple[str, LockInfo] | None:
        """The lock commit on the remote and what it says; None when the state is not locked."""
        sha = self.remote.refs(self.ref, what=f"reading {self.location}").get(self.ref)
        if sha is None:
            return None
        sha = self.remote.ensure(sha, self.ref, f"refs/syncer/lock-seen/{self.branch}")
        message = self.git.run("cat-file", "commit", sha).stdout.decode("utf-8", "replace")
        body = message.partition("\n\n")[2]
        try:
            obj = json.loads(body[body.index("{") :])
            return sha, LockInfo(
                int(obj["pid"]),
                str(obj["host"]),
                str(obj["time"]),
                str(obj.get("command", "")),
                str(obj.get("id", "")),
                str(obj.get("expires", "")),
            )
        except (RecursionError, ValueError, KeyError, TypeError):
            return sha, LockInfo(0, UNREADABLE_HOST, "", "an unreadable lock (not written by this syncer)", "")

    def describe(self, info: LockInfo) -> str:
        if info.host == UNREADABLE_HOST:
            return info.command
        lease = f", lease until {info.expires}" if info.expires else ""
        return (
            f"{info.command or 'a writer'} (pid {info.pid} on {info.host}, {self.status(info)}) since {info.time}"
            f"{lease}"
        )

    def _commit(self, info: LockInfo) -> str:
        tree = self._objects.tree([])
        text = f"syncer lock: {info.command}\n\n{json.dumps(info._asdict(), sort_keys=True)}\n"
        return self._objects.commit(tree, None, text, when=self._clock())

    def _with_run(self, command: str) -> str:
        env = self.git.environ
        repo, run = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
        if repo and run:
            server = (env.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB).rstrip("/")
            return f"{command} ({server}/{repo}/actions/runs/{run})"
        return command

    @staticmethod
    def _hint(status: Liveness) -> str:
        return (
            "wait for it to finish: a run that died stops renewing its lease, and the next apply after the lease "
            "ends takes the lock over and settles what it left in the journal. If you are sure it is gone and "
            "cannot wait, `syncer state unlock --force`"
        )
