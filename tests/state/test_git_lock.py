"""The git backend's lock under signals: a SIGTERM at any step of taking the lock, in a real `syncer` process,
releases it or leaves nothing that the next runner (on another host, so that it cannot tell the dead run is
dead) must wait out; and a push whose answer was lost is recognised as our own lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from syncer.errors import StateError
from syncer.load.settings import Settings, StateSettings
from syncer.model import Identity, RowKey
from syncer.state.git import GitStateStore, open_git_store
from syncer.state.git.remote import PushResult
from syncer.state.model import BatchRecord
from tests.state.gitrepo import Repo, git, isolate_git

SEM = "7293040702907514899"
SETTINGS = Settings(state=StateSettings(backend="git"))

# A runner that takes the lock with SIGTERM sent to itself just before or just after its N-th git command
# (N counted from the start of `lock()`), its signal handlers installed first, as `python -m syncer` does.
CHILD = """
import os, signal, sys
from pathlib import Path
from syncer import interrupt
interrupt.install()
from syncer.errors import StateError
from syncer.load.settings import Settings, StateSettings
from syncer.state.git import open_git_store
from syncer.state.git.cmd import Git

root, at, when = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
calls = -1  # not counting yet
real = Git.run

def run(self, *args, **kw):
    global calls
    if calls >= 0:
        calls += 1
    if calls == at and when == "before":
        os.kill(os.getpid(), signal.SIGTERM)
    out = real(self, *args, **kw)
    if calls == at and when == "after":
        os.kill(os.getpid(), signal.SIGTERM)
    return out

Git.run = run
store = open_git_store(root, Settings(state=StateSettings(backend="git")))
try:
    calls = 0
    store.lock(command="apply")
    taking = calls
    store.unlock()
except KeyboardInterrupt as exc:
    sys.exit(interrupt.finish(exc))
print(taking)
"""


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


def elsewhere(root: Path) -> GitStateStore:
    """The next runner, on another host: a lock left behind would be one it cannot judge, and must wait out."""
    store = open_git_store(root, SETTINGS)
    store._hostname = lambda: "another-runner"
    return store


def child(root: Path, at: int, when: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(at), when], env=env, capture_output=True, text=True, check=False
    )


def test_a_sigterm_at_any_step_of_taking_the_git_lock_leaves_nothing_to_wait_for(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    root = repo.clone("runner")
    seed = open_git_store(root, SETTINGS)
    with seed.locked():
        seed.create(Identity("open.feishu.cn", "cli_x", "open_id"))
        seed.record_batch(BatchRecord(SEM, "t", "r", "c" * 40, "syncer c", seed._clock(), {RowKey(SEM, "a", "m"): {}}))
    untouched = child(root, 0, "never")
    assert untouched.returncode == 0, untouched.stderr
    steps = int(untouched.stdout)
    assert steps >= 4  # push of the lock ref, then the checkout: ls-remote, fetch, ...
    for at in range(1, steps + 1):
        for when in ("before", "after"):
            run = child(root, at, when)
            assert run.returncode == 128 + signal.SIGTERM, (at, when, run.stderr)
            assert run.stderr.strip().splitlines()[-1] == "Terminated (SIGTERM).", (at, when, run.stderr)
            assert repo.ref("refs/syncer/lock/syncer-state") is None, (at, when)
            nxt = elsewhere(root)
            nxt.lock(command="apply")  # at once: refused, not waited for, were anything left
            assert nxt.taken_over is None, (at, when)
            nxt.unlock()
    assert git("for-each-ref", "refs/syncer", cwd=repo.bare) == ""


def test_a_lock_push_whose_answer_was_lost_is_recognised_as_ours(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    store = open_git_store(repo.clone("runner"), SETTINGS)
    remote = store._lock.remote
    real_push = remote.push

    def lost(ref: str, new: str | None, *, expect: str | None, what: str) -> PushResult:
        landed = real_push(ref, new, expect=expect, what=what)
        assert landed.ok
        return PushResult("!", "the connection dropped")  # as a git killed after its push landed

    remote.push = lost  # type: ignore[method-assign]
    sha, info = store._lock.take("apply")
    remote.push = real_push  # type: ignore[method-assign]
    assert repo.ref("refs/syncer/lock/syncer-state") == sha and store._lock.taken_over is None
    store._lock.delete(sha, quiet=False)
    assert repo.ref("refs/syncer/lock/syncer-state") is None
    assert info.command == "apply"


def test_a_take_cut_short_after_its_push_landed_gives_the_lock_back(tmp_path: Path) -> None:
    """A second stop goes through at once, also in the middle of the lock's push: when the push had landed, the
    failing lock() deletes the ref it pushed (found by its id), so the next runner waits for nothing."""
    repo = Repo(tmp_path)
    store = open_git_store(repo.clone("runner"), SETTINGS)
    remote = store._lock.remote
    real_push = remote.push

    def interrupted(ref: str, new: str | None, *, expect: str | None, what: str) -> PushResult:
        landed = real_push(ref, new, expect=expect, what=what)
        assert landed.ok
        raise KeyboardInterrupt  # the second Ctrl-C, delivered at once, just after the push landed

    remote.push = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        store.lock(command="apply")
    remote.push = real_push  # type: ignore[method-assign]
    assert repo.ref("refs/syncer/lock/syncer-state") is None
    nxt = open_git_store(repo.clone("other"), SETTINGS)
    nxt.lock(command="apply")
    assert nxt.taken_over is None
    nxt.unlock()


def test_abandon_never_deletes_another_runners_lock(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    other = open_git_store(repo.clone("other"), SETTINGS)
    other.lock(command="apply")
    store = open_git_store(repo.clone("runner"), SETTINGS)
    store._lock.pending = "not-the-holders-id"
    store._lock.abandon()
    assert repo.ref("refs/syncer/lock/syncer-state") is not None
    other.unlock()


def test_a_renewed_lease_is_the_same_lock_of_the_same_command(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    lock = open_git_store(repo.clone("runner"), SETTINGS)._lock
    sha, info = lock.take("apply")
    new, fresh = lock.renew(sha, info)
    assert lock.read() == (new, fresh) and new != sha
    assert (fresh.command, fresh.id) == (info.command, info.id)
    lock.delete(new, quiet=False)


def test_a_lease_that_is_no_longer_ours_stops_the_writer_naming_who_holds_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    lock = open_git_store(repo.clone("runner"), SETTINGS)._lock
    sha, info = lock.take("apply")
    other = elsewhere(repo.clone("other"))
    assert other._lock.clear(force=True) == info  # taken on another host: only with --force
    with pytest.raises(StateError) as cleared:
        lock.renew(sha, info)
    assert str(cleared.value) == (
        "the lock of git:origin/syncer-state is no longer this run's: it is held by nobody (it was cleared). Stopping "
        "before the next write; run apply again (it settles the journal)"
    )
    other.lock(command="apply")
    with pytest.raises(StateError, match=r"held by apply \S* ?\(pid \d+ on another-runner, other host\)"):
        lock.renew(sha, info)
    other.unlock()


def test_unlock_clears_a_dead_holders_lock_and_a_live_one_only_with_force(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    holder = open_git_store(repo.clone("runner"), SETTINGS)._lock
    _, info = holder.take("apply")
    here = open_git_store(repo.clone("other"), SETTINGS)._lock  # the same host: it can tell
    with pytest.raises(StateError, match=r"it is still running on this host\. Use --force only if you are sure"):
        here.clear(force=False)
    far = elsewhere(repo.clone("far"))._lock
    with pytest.raises(StateError, match=r"taken on another host \(a CI job\?\), so syncer cannot tell whether it st"):
        far.clear(force=False)
    here._alive = lambda pid: False  # its process is gone from this host
    assert here.clear(force=False) == info
    assert repo.ref("refs/syncer/lock/syncer-state") is None


def test_unlock_does_not_clear_a_lock_that_changed_since_it_was_read(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    holder = open_git_store(repo.clone("runner"), SETTINGS)._lock
    sha, info = holder.take("apply")
    other = open_git_store(repo.clone("other"), SETTINGS)._lock
    seen = other.read()
    new, _ = holder.renew(sha, info)
    other.read = lambda: seen  # type: ignore[method-assign]
    with pytest.raises(StateError, match="changed while it was being cleared"):
        other.clear(force=True)
    assert repo.ref("refs/syncer/lock/syncer-state") == new
