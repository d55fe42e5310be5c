"""The `git` backend: the local backend's very files, committed to a branch of the metrics repository.

`state.backend: git` keeps the state on `state.branch` (default `syncer-state`, an orphan branch nobody
edits) of `state.remote` (default `origin`). See docs/state.md, "The git backend".

- **Reading** (`plan`, `state show`): `git ls-remote`, fetch the branch into `refs/syncer/state/<branch>`
  when its tip is not here yet, write its tree into a temporary directory and load it with the local
  backend. No branch: no state yet. Read access only.
- **The lock** (syncer.state.git.lock): a commit describing the holder, pushed to
  `refs/syncer/lock/<branch>` compare-and-swap.
- **Writing**: under the lock, the branch's tree is checked out into `<git dir>/syncer/<remote>/<branch>/work`
  and written by a `LocalStateStore` (append-only log, fsync). After every write that matters for a crash
  (journal entry, batch, settle, rejection, forget, create) the files become a commit on the branch's tip,
  pushed compare-and-swap on the tip we built on: if the branch moved, someone else wrote, and syncer
  stops with a StateError instead of overwriting. Pacing marks ride along with the next push, or with the
  release of the lock (also when the apply failed).
- **Compaction** (end of apply, `state rm`): the log is folded into the files and the commits pushed since
  the lock was taken are squashed into one, whose parent is the tip found when locking: the history keeps
  one commit per apply. Where the remote refuses a rewrite (a protected branch), a plain commit is added.
- **The people cache** (`people.json`, written by `syncer people resolve` under the lock) is committed and
  pushed like any other write; `read_people` reads it from the fetched branch without the lock.

This module is the store: reading, the lock (and its lease) and the protocol's methods; the working copy and
its commits, pushes and squashes are syncer.state.git.working.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from syncer import interrupt
from syncer.errors import StateDamaged, StateError
from syncer.fsio import Faults, no_faults
from syncer.model import Identity
from syncer.state import format as files
from syncer.state.base import StoreBase, needs_lock, system_refusals
from syncer.state.git.cmd import Git
from syncer.state.git.lock import RefLock
from syncer.state.git.remote import Remote
from syncer.state.git.tree import state_entries, state_files, write_files
from syncer.state.git.working import WorkingCopy
from syncer.state.history import LAST_SET_ONLY, History, Selection, last_changes
from syncer.state.local.store import LocalStateStore
from syncer.state.lock import LockFile, pid_alive
from syncer.state.model import (
    BatchInfo,
    BatchRecord,
    Clock,
    JournalEntry,
    LockHolder,
    LockInfo,
    Rejection,
    State,
    VKey,
    utc_now,
)
from syncer.state.readcache import ShardCache


class GitStateStore(StoreBase):
    """A state kept on a branch of a git remote. Construct with `open_git_store`; `load()` to read;
    `locked()` around any write. Implements `syncer.state.protocols.StateStore`."""

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
        lease: float = 900.0,
        faults: Faults = no_faults,
    ) -> None:
        """`faults`: called with the name of each step of a write before it runs (the working directory's
        file steps, then `push`), for the tests that kill a writer at every step."""
        self.repo = Path(repo)
        self.path = Path(private)  # the private working directory (never part of the metrics root)
        self.branch = branch
        self._clock = clock
        self._git = git or Git(self.repo)
        self._sleep = sleep
        self._hostname = hostname
        self._pid = pid
        self._alive = alive
        self._faults = faults
        self.remote = Remote(self._git, remote)
        self._lock = RefLock(
            self._git,
            self.remote,
            branch=branch,
            location=self.location,
            clock=lambda: self._clock(),
            hostname=lambda: self._hostname(),
            pid=lambda: self._pid(),
            alive=lambda p: self._alive(p),
            lease=lease,
        )
        self._copy = WorkingCopy(
            self._git,
            self.remote,
            work=self.work,
            branch_ref=self.branch_ref,
            tracking_ref=self.tracking_ref,
            location=self.location,
            clock=lambda: self._clock(),
            faults=lambda step: self._faults(step),
            sleep=lambda seconds: self._sleep(seconds),
            push_attempts=push_attempts,
        )
        self.read_cache: ShardCache | None = None  # decoded shards for `load` without the lock (plan)
        # While locked:
        self._held: tuple[str, LockInfo] | None = None  # our lock commit on the remote, and what it says
        self._renewed = 0.0  # when our lease was last pushed (timestamp)
        self._clone_lockfile = LockFile(self.path / "clone.lock", clock=clock)
        self._clone_lock: LockInfo | None = None
        self._local: LocalStateStore | None = None  # the working copy's writer

    # --- names ------------------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"git:{self.remote.name}/{self.branch}"

    @property
    def branch_ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def tracking_ref(self) -> str:
        return f"refs/syncer/state/{self.branch}"

    @property
    def work(self) -> Path:
        return self.path / "work"

    @property
    def tip(self) -> str | None:
        """While locked: the commit of the state branch this store builds on (None: no branch yet)."""
        return self._copy.tip

    # --- reading ----------------------------------------------------------------------------------------

    def exists(self) -> bool:
        if self._local is not None:
            return self._local.exists()
        return self._branch_tip() is not None

    def load(self) -> State | None:
        if self._local is not None:
            return self._local.load()
        tip = self._fetch_tip()
        if tip is None:
            return None
        blobs = self.tree_files(tip)
        with system_refusals(self.path, f"write out the files of {self.location} to read them"):
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="read-", dir=self.path) as tmp:
                write_files(Path(tmp), blobs)
                try:
                    return LocalStateStore(Path(tmp), clock=self._clock, read_cache=self.read_cache).load()
                except StateDamaged as exc:
                    where = exc.where.replace(tmp, f"{self.location} ({tip[:12]})")
                    raise StateDamaged(where, exc.what, advice=StateDamaged.GIT) from None
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

    def tree_entries(self, commit: str) -> list[tuple[str, str]]:
        """(path, blob) of the state files of a commit; refuses entries syncer never writes."""
        return state_entries(self._git, commit, location=self.location)

    def tree_files(self, commit: str) -> dict[str, bytes]:
        """The state files of a commit, by path; refuses entries syncer never writes."""
        return state_files(self._git, commit, location=self.location)

    def _branch_tip(self) -> str | None:
        return self.remote.refs(self.branch_ref, what=f"reading {self.location}").get(self.branch_ref)

    def _fetch_tip(self) -> str | None:
        tip = self._branch_tip()
        if tip is None:
            return None
        return self.remote.ensure(tip, self.branch_ref, self.tracking_ref)

    # --- the lock ---------------------------------------------------------------------------------------

    def lock_holder(self) -> LockHolder | None:
        if self._held is not None:
            return LockHolder(self._held[1], "alive")
        return self._lock.holder()

    @property
    def taken_over(self) -> LockInfo | None:
        """The dead holder (lease run out, or its process gone) whose lock the last `lock` took over."""
        return self._lock.taken_over

    def lock(self, *, command: str = "apply") -> LockInfo:
        """Push the lock ref (it must not exist, or hold a dead holder's lease), then check the branch out into
        the working directory."""
        if self._held is not None:
            raise StateError(f"{self.location}: this process already holds the lock")
        try:
            with interrupt.deferred():  # a stop between the push and `_held` would leave the ref to its lease
                self._held = self._lock.take(command)
            self._renewed = self._clock().timestamp()
            self._checkout(command)
        except BaseException:
            if self._held is not None:
                self._release(quiet=True)
            else:  # cut short while taking it (a second stop): give back a lock the push may have left
                self._lock.abandon()
            raise
        return self._held[1]

    def _checkout(self, command: str) -> None:
        with system_refusals(self.work, f"write the working copy of {self.location}", then=" (nothing was written)"):
            self.path.mkdir(parents=True, exist_ok=True)
            self._clone_lock = self._clone_lockfile.acquire(command=command)
            tip = self._fetch_tip()
            self._copy.check_out(tip, self.tree_files(tip) if tip else {})
        self._local = self._copy.writer(command)  # compacts a long log: published below
        if tip is not None:
            self._copy.publish("compact the log", record=False)

    def unlock(self) -> LockInfo | None:
        """Release our own lock (pushing what is left, then deleting the lock ref if it is still ours); None
        when this store holds none."""
        if self._held is None:
            return None
        return self._release(quiet=False)

    def break_lock(self, *, force: bool = False) -> LockInfo | None:
        """`syncer state unlock`: delete a dead holder's lock ref (any holder's with `force`)."""
        return self._lock.clear(force=force)

    @contextlib.contextmanager
    def locked(self, *, command: str = "apply") -> Iterator[LockInfo]:
        """As StoreBase's, but a body that fails releases quietly: its exception is the one to report."""
        info = self.lock(command=command)
        try:
            yield info
        except BaseException:
            if self._held is not None:
                self._release(quiet=True)  # the body's exception is the one to report
            raise
        if self._held is not None:
            self._release(quiet=False)

    def _release(self, *, quiet: bool) -> LockInfo | None:
        """Publish what is left (pacing marks), unlock locally, delete the lock ref. `quiet` (an exception is
        on its way already): report nothing over it."""
        assert self._held is not None
        sha, info = self._held
        problems: list[StateError] = []
        try:
            if self._copy.pending and self._copy.broken is None and self._local is not None:
                self._copy.publish("pacing", record=False)
        except StateError as exc:
            problems.append(exc)
        try:
            self._copy.track()
        except StateError as exc:
            problems.append(exc)
        if self._local is not None:
            with contextlib.suppress(StateError, OSError):
                self._local.unlock()
        if self._clone_lock is not None:
            with contextlib.suppress(StateError, OSError):
                self._clone_lockfile.release(self._clone_lock)
        self._local, self._clone_lock, self._held = None, None, None
        try:
            self._lock.delete(sha, quiet=True)
        except StateError as exc:
            problems.append(
                StateError(
                    f"{exc}; the lock ref {self._lock.ref} may still be on {self.remote.name}: clear it with "
                    "`syncer state unlock --force` once you are sure this run is over"
                )
            )
        if problems and not quiet:
            raise problems[0]
        return info

    # --- writing ----------------------------------------------------------------------------------------

    def create(self, identity: Identity) -> State:
        state = self._writer_renewing_lease().create(identity)
        self._copy.publish(f"create the state for {identity.host} ({identity.user_id_type})")
        return state

    def open_journal(self, entry: JournalEntry) -> None:
        self._writer_renewing_lease().open_journal(entry)
        self._copy.publish(
            f"journal {entry.client_token[:12]}: {len(entry.rows())} rows of semester {entry.semester} about to be sent"
        )

    def settle_journal(self, client_token: str, *, outcome: str) -> None:
        self._writer_renewing_lease().settle_journal(client_token, outcome=outcome)
        self._copy.publish(f"settle {client_token[:12]}: {outcome}")

    def record_batch(self, batch: BatchRecord) -> BatchInfo:
        info = self._writer_renewing_lease().record_batch(batch)
        self._copy.publish(
            f"batch {info.id}: {info.rows} rows of semester {info.semester} accepted "
            f"(import record {info.import_record_id or 'unknown'})"
        )
        return info

    def record_rejected(self, rejections: Sequence[Rejection]) -> None:
        self._writer_renewing_lease().record_rejected(rejections)
        if rejections:
            self._copy.publish(
                f"{len(rejections)} rows rejected ({', '.join(sorted({str(r.code) for r in rejections}))})"
            )

    def record_import_request(self, at: datetime) -> None:
        self._writer_renewing_lease().record_import_request(at)
        self._copy.pending = True  # a pacing mark: pushed with the next write, or when the lock is released

    def forget(self, keys: Iterable[VKey], *, reason: str = "apply") -> int:
        n = self._writer_renewing_lease().forget(keys, reason=reason)
        if n:
            self._copy.publish(f"forget {n} values ({reason})")
        return n

    def record_people(self, people: Mapping[str, Any]) -> bool:
        changed = self._writer_renewing_lease().record_people(people)
        if changed:
            entries = people.get("people")
            count = f" ({len(entries)} addresses)" if isinstance(entries, Mapping) else ""
            self._copy.publish(f"people cache{count}")
        return changed

    def compact(self) -> None:
        """Fold the log into the files, and squash this lock session's commits into one."""
        self._copy.fold(self._writer_renewing_lease())

    def adopt(self, state: State, *, people: Mapping[str, Any] | None) -> None:
        """Write a whole state as it is (`state migrate`), under the lock, as the branch's compacted commit.
        Refused where the branch holds a state."""
        self._writer_renewing_lease().adopt(state, people=people)
        self._copy.note(f"migrated a state in (lineage {state.meta.lineage}, serial {state.meta.serial})")
        self.compact()

    # --- what plan and `state history` ask of every backend ----------------------------------------------

    def keep_read_cache(self, base: Path) -> ShardCache | None:
        """Keep decoded shards of the branch under `base` between runs (syncer.state.readcache), for `plan`."""
        with contextlib.suppress(OSError, RuntimeError):  # an unresolvable path: `load` reports it
            self.read_cache = ShardCache.under(base, f"{self.repo.resolve()}\0{self.location}")
        return self.read_cache

    def history(self, selection: Selection) -> History:
        """Each managed value's last change; the branch's commits hold the state as each apply left it."""
        kept = LAST_SET_ONLY + f" (the commits of {self.location} hold the state as each apply left it)"
        return last_changes(self.load(), selection, kept=kept)

    # --- internals --------------------------------------------------------------------------------------

    def _writer_renewing_lease(self) -> LocalStateStore:
        """The working directory's writer, for a write under the lock; first renews the lock's lease when a
        third of it has passed (a renewal that fails stops this and every later write)."""
        if self._local is None or self._held is None:
            raise needs_lock(self.location)
        self._copy.check_unbroken()
        if self._clock().timestamp() - self._renewed > self._lock.lease / 3:
            sha, info = self._held
            try:
                self._held = self._lock.renew(sha, info)
            except StateError as exc:
                self._copy.broken = str(exc)
                raise
            self._renewed = self._clock().timestamp()
        return self._local
