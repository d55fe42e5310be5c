"""The git backend's working copy: the state branch checked out into `<git dir>/syncer/<remote>/<branch>/work`
for one lock session, and what that session publishes of it.

Each write that matters for a crash becomes a commit on the tip this session last pushed (or found), pushed
compare-and-swap on that tip: a branch someone else moved is never overwritten. A push that fails stops
every later write of the session (the journal is settled by the next apply, from the branch). Compaction
folds the log and squashes the session's commits into one on the tip found when the lock was taken, so that
the branch keeps one commit per apply; a remote that refuses a rewrite gets a plain commit instead."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from syncer.errors import StateError
from syncer.state import format as files
from syncer.state.git.cmd import Git
from syncer.state.git.objects import ObjectStore
from syncer.state.git.remote import Remote, RemoteRefused
from syncer.state.git.tree import TreeWriter, write_files
from syncer.state.local.store import LocalStateStore
from syncer.state.lock import LockFile


class WorkingCopy:
    """The working directory `work` of the branch `branch_ref`, and this lock session's commits on it."""

    def __init__(
        self,
        git: Git,
        remote: Remote,
        *,
        work: Path,
        branch_ref: str,
        tracking_ref: str,
        location: str,
        clock: Callable[[], datetime],
        faults: Callable[[str], None],
        sleep: Callable[[float], None],
        push_attempts: int,
    ) -> None:
        self.work = work
        self._git = git
        self._remote = remote
        self._branch_ref = branch_ref
        self._tracking_ref = tracking_ref
        self._location = location
        self._clock = clock
        self._faults = faults
        self._sleep = sleep
        self._push_attempts = max(1, push_attempts)
        self._objects = ObjectStore(git)
        self._trees = TreeWriter(self._objects)
        self._base: str | None = None  # the branch's tip when the lock was taken (squash parent)
        self.tip: str | None = None  # the branch's tip as we last pushed or found it
        self._tip_tree: str | None = None
        self.pending = False  # written locally, not pushed yet (pacing marks)
        self._tracked = True  # the tracking ref points at `tip` (moved once a session, not at every push)
        self._session: list[str] = []  # what this lock session pushed, for the compaction commit
        self.broken: str | None = None  # why a push failed: no later write of the session goes on

    def check_out(self, tip: str | None, blobs: dict[str, bytes]) -> None:
        """Make `work` the tree of `tip` (its state files `blobs`; no tip: no branch yet, an empty directory)
        and start a session on it."""
        fresh = Path(tempfile.mkdtemp(prefix="work-", dir=self.work.parent))
        write_files(fresh, blobs)
        if self.work.exists():
            shutil.rmtree(self.work)
        fresh.rename(self.work)
        self._trees.clear()
        self._base = self.tip = tip
        self._tip_tree = self._git.text("rev-parse", f"{tip}^{{tree}}") if tip else None
        self._session, self.pending, self.broken, self._tracked = [], False, None, True

    def writer(self, command: str) -> LocalStateStore:
        """The working directory's writer (each log operation a segment file of its own: what is committed after
        every write), its lock taken, which compacts a long log."""
        local = LocalStateStore(
            self.work,
            clock=self._clock,
            lockfile=LockFile(self.work.parent / "work.lock", clock=self._clock),
            log_segments=True,
            faults=self._faults,
        )
        local.lock(command=command)
        return local

    def check_unbroken(self) -> None:
        """StateError when an earlier push of this session failed: nothing more may be written."""
        if self.broken is not None:
            raise StateError(
                f"{self._location}: an earlier write could not be pushed ({self.broken}); "
                "stopping. Run apply again: it starts from the branch and settles the journal"
            )

    def note(self, line: str) -> None:
        """Add a line to the message of this session's compaction commit."""
        self._session.append(line)

    def publish(self, message: str, *, squash: bool = False, record: bool = True) -> None:
        """Commit the working directory on the tip (or, squashing, on the tip found at lock time) and push
        it compare-and-swap on the tip we built on. `record`: list the write in the compaction's message."""
        tree = self._trees.write(self.work)
        if tree == self._tip_tree and (not squash or self.tip == self._base):
            self.pending = False
            return
        parent = self._base if squash else self.tip
        commit = self._objects.commit(tree, parent, f"syncer: {message}", when=self._clock())
        try:
            self._faults("push")
            self._remote.push_over(
                self._branch_ref,
                commit,
                expect=self.tip,
                location=self._location,
                attempts=self._push_attempts,
                sleep=self._sleep,
                kept=f"what this run recorded since its last push is kept in {self.work}; nothing was overwritten",
            )
        except RemoteRefused as exc:
            if not squash:
                self.broken = str(exc)
            raise
        except StateError as exc:
            self.broken = str(exc)
            raise
        self.tip, self._tip_tree, self.pending, self._tracked = commit, tree, False, False
        if squash:
            self._base = commit
        elif record:
            self._session.append(message)

    def track(self) -> None:
        """Point the tracking ref at the tip this session pushed last, so that the next read of the branch
        finds it here without a fetch. Once at the end of a session: a session cut short leaves the ref
        behind, and the next read moves it (the commits are here already: no fetch)."""
        if not self._tracked and self.tip is not None:
            self._git.run("update-ref", self._tracking_ref, self.tip)
        self._tracked = True

    def fold(self, local: LocalStateStore) -> None:
        """Compact the working directory's state (`local`, its writer) and squash this session's commits into
        one; nothing when nothing was written since the last compaction."""
        log = self.work / files.LOG
        segments = self.work / files.LOG_SEGMENTS
        if (
            not self._session
            and not self.pending
            and (not log.exists() or log.stat().st_size == 0)
            and not (segments.is_dir() and any(segments.iterdir()))
        ):
            return
        local.compact()
        state = local.load()
        serial = state.meta.serial if state is not None else 0
        lines = "".join(f"- {s}\n" for s in self._session)
        message = f"compact the state (serial {serial})\n\n{lines}"
        try:
            self.publish(message, squash=True, record=False)
        except RemoteRefused:  # a branch protected against rewrites: keep the history, add a commit
            self.publish(message, record=False)
        self._session = []
