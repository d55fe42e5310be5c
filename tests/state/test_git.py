"""The git state backend against local bare repositories (and a loopback smart-HTTP server for credentials):
layout, reading from a fresh or shallow clone, the lock ref, compare-and-swap pushes, squashing, migration,
and credentials that never reach argv, .git/config or a message."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from syncer.errors import StateError
from syncer.load.settings import Settings, StateSettings
from syncer.model import Identity, RowKey, ValueKey
from syncer.state import format as files
from syncer.state import open_store
from syncer.state.git import GitStateStore, open_git_store
from syncer.state.git.cmd import Git, GitError, auth_config, config_env, credential_for, scrub, secrets_of
from syncer.state.git.logtree import branch_serial
from syncer.state.git.remote import Remote, parse_push
from syncer.state.local.store import LocalStateStore
from syncer.state.migrate import migrate
from syncer.state.model import BatchRecord, JournalEntry
from tests.state.gitrepo import Repo, git, isolate_git

SEM = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
REV = "7272580325522276372"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
GIT_SETTINGS = Settings(state=StateSettings(backend="git"))
TOKEN = "ghs_s3cretT0kenValue1234567890"


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


def store_of(root: Path, **kw: object) -> GitStateStore:
    store = open_git_store(root, GIT_SETTINGS, clock=lambda: T0)
    for name, value in kw.items():
        setattr(store, f"_{name}", value)
    return store


def batch(token: str, values: dict[str, str]) -> BatchRecord:
    return BatchRecord(SEM, token, f"rec-{token}", "c" * 40, "syncer ccccccc", T0, {RowKey(SEM, ALICE, REV): values})


def journal(token: str) -> JournalEntry:
    values = ((ValueKey(SEM, ALICE, REV, "2"), "60"),)
    return JournalEntry(token, SEM, "2026-05-01T12:00:00.000Z", '{"semester_id":"x"}', values)


def seed_state(root: Path) -> GitStateStore:
    store = store_of(root)
    with store.locked():
        store.create(IDENT)
        store.open_journal(journal("tok-1"))
        store.record_batch(batch("tok-1", {"2": "60", "4": "1000"}))
        store.compact()
    return store


# --- reading and layout -----------------------------------------------------------------------------------


def test_a_missing_branch_is_no_state_yet(repo: Repo) -> None:
    store = store_of(repo.clone("a"))
    assert store.load() is None and not store.exists()
    assert store.lock_holder() is None
    assert store.location == "git:origin/syncer-state"
    assert open_store(repo.tmp / "a" / "metrics", GIT_SETTINGS).location == store.location
    # --state PATH still means a local directory
    assert isinstance(open_store(repo.tmp / "a" / "metrics", GIT_SETTINGS, override=repo.tmp / "s"), LocalStateStore)


def test_written_in_one_clone_read_in_a_fresh_one(repo: Repo) -> None:
    a = seed_state(repo.clone("a"))
    state = store_of(repo.clone("b")).load()
    assert state is not None
    assert state.identity == IDENT and state.meta.serial == 3
    assert state.get((SEM, ALICE, REV, "4")) == ("1000", 1)
    assert state.journal == {}
    # The branch holds the local backend's files, compacted, and nothing else; main is untouched.
    tree = git("ls-tree", "-r", "--name-only", "syncer-state", cwd=repo.bare).split()
    assert tree == [
        "batches.jsonl",
        "journal.jsonl",
        "log.jsonl",
        "meta.json",
        "rejections.jsonl",
        f"semesters/{SEM}.jsonl",
    ]
    assert json.loads(git("show", "syncer-state:meta.json", cwd=repo.bare))["lineage"] == state.meta.lineage
    assert git("ls-tree", "-r", "--name-only", "main", cwd=repo.bare) == "metrics/syncer.yaml"
    assert repo.ref("refs/syncer/lock/syncer-state") is None  # released
    assert a.path.is_relative_to(repo.tmp / "a" / ".git")  # the working copy lives inside .git


def test_a_shallow_detached_checkout_reads_and_writes(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    root = repo.clone("ci", shallow=True)
    assert git("rev-parse", "--is-shallow-repository", cwd=root) == "true"
    store = store_of(root)
    assert store.load() is not None
    with store.locked():
        store.record_batch(batch("tok-2", {"2": "70"}))
        store.compact()
    state = store_of(repo.clone("b")).load()
    assert state is not None and state.get((SEM, ALICE, REV, "2")) == ("70", 2)


def test_a_branch_edited_by_hand_is_refused(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    work = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=work)
    git("checkout", "-q", "-b", "edit", "FETCH_HEAD", cwd=work)
    (work / "notes").mkdir()
    (work / "notes" / "x.txt").write_text("hi")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "by hand", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    with pytest.raises(StateError, match="never writes there"):
        store_of(repo.clone("b")).load()


def test_a_value_changed_on_the_branch_is_damage_named_with_the_branchs_advice(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    work = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=work)
    git("checkout", "-q", "-b", "edit", "FETCH_HEAD", cwd=work)
    shard = work / "semesters" / f"{SEM}.jsonl"
    text = shard.read_text()
    assert text.count('"1000"') == 1
    shard.write_text(text.replace('"1000"', '"1001"'))  # one digit, the checksum left as it was
    git("commit", "-q", "-am", "by hand", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    with pytest.raises(StateError) as caught:
        store_of(repo.clone("b")).load()
    assert re.match(
        rf"git:origin/syncer-state \(\w+\)/semesters/{SEM}\.jsonl:1: the state is damaged: the line does not match its "
        r"checksum .*; the state branch keeps every apply: push back its last good commit",
        str(caught.value),
    ), caught.value


def unsettled_branch(repo: Repo) -> Path:
    """A state branch whose tip holds log segments (a run that wrote, and was killed before its compaction),
    checked out for editing by hand in clone `a`: the work tree."""
    store = store_of(repo.clone("a"))
    store.lock()
    store.create(IDENT)
    store.open_journal(journal("tok-1"))
    store.record_batch(batch("tok-1", {"2": "60", "4": "1000"}))
    store.unlock()  # no compaction: the branch keeps the log
    work = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=work)
    git("checkout", "-q", "-b", "edit", "FETCH_HEAD", cwd=work)
    return work


def branch_paths(repo: Repo) -> list[str]:
    return git("ls-tree", "-r", "--name-only", "syncer-state", cwd=repo.bare).split("\n")


def test_a_format_2_branch_is_read_and_its_next_commit_lays_the_log_out_anew(repo: Repo) -> None:
    """A branch of format 2 holds its log segments as the working directory does (log.d/<serial // 10000>/
    <serial // 100 % 100>/<serial>.jsonl): it is read as it is, the next write commits them in format 3's
    layout, and the compaction writes format 3."""
    work = unsettled_branch(repo)
    for path in git("ls-files", "log.d", cwd=work).split("\n"):
        serial = branch_serial(path)
        assert serial is not None
        (work / files.segment_name(serial)).parent.mkdir(parents=True, exist_ok=True)
        git("mv", path, files.segment_name(serial), cwd=work)
    meta = files.meta_from_json((work / "meta.json").read_text(), where="meta.json")
    (work / "meta.json").write_text(files.meta_to_json(dataclasses.replace(meta, format=2)))
    git("commit", "-q", "-am", "format 2", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    assert {p.split("/")[1] for p in branch_paths(repo) if p.startswith("log.d/")} == {"00000"}  # format 2's

    state = store_of(repo.clone("b")).load()
    assert state is not None and state.meta.format == 2 and state.get((SEM, ALICE, REV, "4")) == ("1000", 1)
    store = store_of(repo.clone("c"))
    store.lock()
    store.record_batch(batch("tok-2", {"2": "70"}))
    segments = [p for p in branch_paths(repo) if p.startswith("log.d/")]
    assert segments and all(p.split("/")[1] in ("open", "closed") for p in segments), segments
    state = store_of(repo.clone("d")).load()
    assert state is not None and state.get((SEM, ALICE, REV, "2")) == ("70", 2) and "tok-1" not in state.journal
    store.compact()
    store.unlock()
    assert json.loads(git("show", "syncer-state:meta.json", cwd=repo.bare))["format"] == 3
    assert not [p for p in branch_paths(repo) if p.startswith("log.d/")]


def test_a_branch_holding_a_log_segment_twice_is_refused(repo: Repo) -> None:
    work = unsettled_branch(repo)
    path = git("ls-files", "log.d", cwd=work).split("\n")[0]
    serial = branch_serial(path)
    assert serial is not None and path != files.segment_name(serial)
    (work / files.segment_name(serial)).parent.mkdir(parents=True)
    (work / files.segment_name(serial)).write_bytes((work / path).read_bytes())
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "by hand", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    with pytest.raises(StateError, match=rf"holds the log segment {serial} twice"):
        store_of(repo.clone("b")).load()


def test_refuses_the_checked_out_branch_and_a_root_outside_git(repo: Repo, tmp_path: Path) -> None:
    root = repo.clone("a")
    with pytest.raises(StateError, match="checked out here"):
        open_git_store(root, Settings(state=StateSettings(backend="git", branch="main")))
    (tmp_path / "plain").mkdir()
    with pytest.raises(StateError, match="not inside a git work tree"):
        open_git_store(tmp_path / "plain", GIT_SETTINGS)


# --- pushes: cadence, compare-and-swap, squashing ---------------------------------------------------------


def test_every_write_that_matters_is_pushed_and_compaction_squashes(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    assert len(repo.branch_commits()) == 1  # the first session: one commit
    store = store_of(repo.clone("b"))
    store.lock()
    base = repo.branch_commits()
    store.open_journal(journal("tok-2"))
    assert len(repo.branch_commits()) == len(base) + 1  # journaled before the send, on the remote
    fresh = store_of(repo.clone("c")).load()
    assert fresh is not None and "tok-2" in fresh.journal
    store.record_import_request(T0)
    assert len(repo.branch_commits()) == len(base) + 1  # a pacing mark waits for the next push
    store.record_batch(batch("tok-2", {"2": "70"}))
    assert len(repo.branch_commits()) == len(base) + 2
    fresh = store_of(repo.clone("d")).load()
    assert fresh is not None and fresh.journal == {} and fresh.meta.last_import_request is not None
    store.compact()
    commits = repo.branch_commits()
    assert len(commits) == len(base) + 1 and commits[1:] == base  # squashed onto the tip found at lock time
    message = git("log", "-1", "--format=%B", "syncer-state", cwd=repo.bare)
    assert "compact the state" in message and "batch 2" in message and "journal tok-2" in message
    assert git("show", "syncer-state:log.jsonl", cwd=repo.bare) == ""
    store.unlock()
    assert repo.ref("refs/syncer/lock/syncer-state") is None


def test_the_tracking_ref_follows_the_pushes_once_the_lock_is_released(repo: Repo) -> None:
    """Pushes leave the clone's tracking ref alone (one git process less a write); releasing the lock moves it
    to the branch's tip, so that the next read finds the tip here and fetches nothing."""
    clone = repo.clone("a")
    seed_state(clone)
    tip = git("rev-parse", "refs/heads/syncer-state", cwd=repo.bare)
    assert git("rev-parse", "refs/syncer/state/syncer-state", cwd=clone) == tip
    store = store_of(clone)
    store.lock()
    store.open_journal(journal("tok-2"))
    pushed = git("rev-parse", "refs/heads/syncer-state", cwd=repo.bare)
    assert pushed != tip and git("rev-parse", "refs/syncer/state/syncer-state", cwd=clone) == tip
    store.unlock()
    assert git("rev-parse", "refs/syncer/state/syncer-state", cwd=clone) == pushed


def test_a_compaction_with_nothing_written_pushes_nothing(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    before = repo.branch_commits()
    store = store_of(repo.clone("b"))
    with store.locked():
        store.compact()
    assert repo.branch_commits() == before


def test_a_non_fast_forward_is_refused_and_nothing_is_overwritten(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    store = store_of(repo.clone("b"))
    store.lock()
    # Someone else writes the branch meanwhile (a forced unlock, a hand-made commit...).
    other = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=other)
    intruder = git("commit-tree", "-p", "FETCH_HEAD", "-m", "someone else", "FETCH_HEAD^{tree}", cwd=other)
    git("push", "-q", "origin", f"{intruder}:refs/heads/syncer-state", cwd=other)
    with pytest.raises(StateError, match=r"changed by someone else.*Stopping without overwriting"):
        store.open_journal(journal("tok-2"))
    assert repo.branch_commits()[0] == intruder
    with pytest.raises(StateError, match="could not be pushed"):
        store.record_batch(batch("tok-2", {"2": "70"}))
    store.unlock()  # our lock is still released
    assert repo.ref("refs/syncer/lock/syncer-state") is None
    assert repo.branch_commits()[0] == intruder


def test_a_branch_that_refuses_rewrites_keeps_its_history(repo: Repo) -> None:
    git("config", "receive.denyNonFastForwards", "true", cwd=repo.bare)  # as a protected branch would
    seed_state(repo.clone("a"))
    messages = git("log", "--format=%s", "syncer-state", cwd=repo.bare).splitlines()
    assert [m.split(":")[1].split()[0] for m in messages] == ["compact", "batch", "journal", "create"]
    state = store_of(repo.clone("b")).load()
    assert state is not None and state.meta.serial == 3
    assert git("show", "syncer-state:log.jsonl", cwd=repo.bare) == ""


# --- the lock ref ------------------------------------------------------------------------------------------


def test_one_lock_at_a_time_and_only_our_own_is_released(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    a, b = store_of(repo.tmp / "a" / "metrics"), store_of(repo.clone("b"))
    held = a.lock(command="apply")
    lock_sha = repo.ref("refs/syncer/lock/syncer-state")
    assert lock_sha is not None
    with pytest.raises(StateError, match=r"locked by apply \(pid \d+ on .*, alive\).*unlock --force"):
        b.lock()
    assert b.lock_holder() == (held, "alive")
    with pytest.raises(StateError, match="still running on this host"):
        b.break_lock()
    assert b.break_lock(force=True) == held  # `state unlock --force`
    taken = b.lock(command="state rm")
    a.unlock()  # a's lock is gone: releasing must not delete b's
    assert repo.ref("refs/syncer/lock/syncer-state") not in (None, lock_sha)
    assert store_of(repo.clone("c")).lock_holder() == (taken, "alive")
    b.unlock()
    assert repo.ref("refs/syncer/lock/syncer-state") is None


def test_the_loser_of_a_lock_race_the_server_refuses_is_told_who_holds_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pushes of the lock ref at once: a hosted remote may refuse the slower one as `[remote rejected]
    (cannot lock ref ...)` rather than as a stale lease. That is a lost race, not missing permissions."""
    from syncer.state.git.remote import PushResult, Remote

    seed_state(repo.clone("a"))
    a, b = store_of(repo.tmp / "a" / "metrics"), store_of(repo.clone("b"))
    real = Remote.push

    def racing(self: Remote, ref: str, sha: str, **kw: object) -> PushResult:
        if ref.startswith("refs/syncer/lock/") and kw.get("expect") is None and self is b_remote():
            a.lock(command="apply")  # the winner gets there first
            return PushResult("!", "[remote rejected] (cannot lock ref: reference already exists)")
        return real(self, ref, sha, **kw)  # type: ignore[arg-type]

    def b_remote() -> Remote:
        return b._lock.remote

    monkeypatch.setattr(Remote, "push", racing)
    with pytest.raises(StateError, match=r"locked by apply") as info:
        b.lock()
    assert "contents: write" not in str(info.value)


def test_a_dead_holder_on_this_host_is_cleared_without_force(repo: Repo) -> None:
    root = repo.clone("a")
    dead = store_of(root, pid=lambda: 999_999_999)
    dead.lock()
    dead._held = None  # the process was killed: nothing releases the ref
    survivor = store_of(repo.clone("b"), alive=lambda pid: pid != 999_999_999)
    holder = survivor.lock_holder()
    assert holder is not None and holder.status == "dead"
    survivor.lock()  # taken over at once: its process is gone from this host
    assert survivor.taken_over is not None and survivor.taken_over.pid == 999_999_999
    survivor.unlock()
    assert repo.ref("refs/syncer/lock/syncer-state") is None


def test_the_lock_names_the_ci_run(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/metrics")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    store = store_of(repo.clone("a"))
    info = store.lock()
    assert info.command == "apply (https://github.com/acme/metrics/actions/runs/42)"
    store.unlock()


# --- migration ----------------------------------------------------------------------------------------------


def test_migrate_local_to_git_and_back(repo: Repo, tmp_path: Path) -> None:
    local = LocalStateStore(tmp_path / "local", clock=lambda: T0)
    with local.locked():
        local.create(IDENT)
        local.open_journal(journal("tok-open"))  # an open entry travels too
        local.record_batch(batch("tok-1", {"2": "60"}))
    before = local.load()
    assert before is not None
    branch = store_of(repo.clone("a"))
    moved = migrate(local, branch, to="git")
    assert (moved.meta.lineage, moved.meta.serial) == (before.meta.lineage, before.meta.serial)
    assert set(moved.journal) == {"tok-open"} and dict(moved.rows) == dict(before.rows)
    with pytest.raises(StateError, match=r"already holds a state.*refusing"):
        migrate(local, store_of(repo.clone("b")), to="git")
    back = LocalStateStore(tmp_path / "back")
    again = migrate(store_of(repo.clone("c")), back, to="local")
    assert (again.meta.lineage, again.meta.serial) == (before.meta.lineage, before.meta.serial)
    assert set(again.journal) == {"tok-open"}
    with pytest.raises(StateError, match="already holds a state"):
        migrate(store_of(repo.tmp / "c" / "metrics"), back, to="local")


def test_migrate_git_to_postgres_and_back_is_lossless(repo: Repo, pg_dsn: str) -> None:
    """The state branch into the database and out again onto another branch: the same state, open journal
    entry and people cache included."""
    from syncer.state.postgres import open_postgres_store
    from tests.state.test_postgres import image

    source = seed_state(repo.clone("a"))
    with source.locked():
        source.open_journal(journal("tok-open"))
        source.record_people(PEOPLE)
    before = store_of(repo.clone("b")).load()
    database = open_postgres_store(Settings(state=StateSettings(backend="postgres", name="sales")))
    moved = migrate(store_of(repo.tmp / "b" / "metrics"), database, to="postgres")
    assert image(moved) == image(before) and database.read_people() == PEOPLE
    other = open_git_store(repo.clone("c"), Settings(state=StateSettings(backend="git", branch="other-state")))
    again = migrate(database, other, to="git")
    assert image(again) == image(before)
    assert json.loads(git("show", "other-state:people.json", cwd=repo.bare)) == PEOPLE
    with pytest.raises(StateError, match="already holds a state"):
        migrate(database, other, to="git")


# --- the people cache -----------------------------------------------------------------------------------------

PEOPLE = {
    "format": 1,
    "identity": IDENT._asdict(),
    "people": {
        "bob@example.com": {
            "email": "bob@example.com",
            "user_id": ALICE,
            "status": "active",
            "resolved": "2026-05-01T12:00:00.000Z",
        }
    },
}


def test_the_people_cache_is_committed_pushed_and_read_from_a_fresh_clone(repo: Repo, tmp_path: Path) -> None:
    seed_state(repo.clone("a"))  # a state written before the cache existed: no people.json
    fresh = store_of(repo.clone("b"))
    assert fresh.read_people() is None
    before = repo.branch_commits()
    writer = store_of(repo.tmp / "a" / "metrics")
    with pytest.raises(StateError, match="needs its lock"):
        writer.record_people(PEOPLE)
    with writer.locked(command="people resolve"):
        assert writer.record_people(PEOPLE) is True
        assert len(repo.branch_commits()) == len(before) + 1  # pushed at once, like any other write
        assert writer.read_people() == PEOPLE  # under the lock: the state being written
        assert writer.record_people(PEOPLE) is False  # unchanged: no commit
        assert len(repo.branch_commits()) == len(before) + 1
    assert repo.ref("refs/syncer/lock/syncer-state") is None
    assert git("log", "-1", "--format=%s", "syncer-state", cwd=repo.bare) == "syncer: people cache (1 addresses)"
    assert git("show", "syncer-state:people.json", cwd=repo.bare) == json.dumps(PEOPLE, indent=2, sort_keys=True)
    assert fresh.read_people() == PEOPLE  # read-only, from the fetched branch, without the lock
    assert repo.ref("refs/syncer/lock/syncer-state") is None
    state = fresh.load()
    assert state is not None and state.meta.serial == 4  # create, journal, batch; the cache bumped it
    assert state.get((SEM, ALICE, REV, "4")) == ("1000", 1)  # the rest of the state is untouched
    back = LocalStateStore(tmp_path / "back")
    migrate(store_of(repo.clone("c")), back, to="local")  # the cache travels with the state, both ways
    assert back.read_people() == PEOPLE
    other = open_git_store(repo.clone("d"), Settings(state=StateSettings(backend="git", branch="other-state")))
    migrate(back, other, to="git")
    assert json.loads(git("show", "other-state:people.json", cwd=repo.bare)) == PEOPLE


def test_a_damaged_cache_on_the_branch_names_it(repo: Repo) -> None:
    store = seed_state(repo.clone("a"))
    with store.locked():
        store.record_people(PEOPLE)
    work = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=work)
    git("checkout", "-q", "-b", "edit", "FETCH_HEAD", cwd=work)
    (work / "people.json").write_text("[1, 2]")
    git("commit", "-q", "-am", "by hand", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    with pytest.raises(StateError, match=r"git:origin/syncer-state/people\.json \(\w+\): the people cache is damaged"):
        store_of(repo.clone("b")).read_people()


def test_a_file_syncer_never_writes_is_refused_at_the_top_too(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    work = repo.tmp / "a"
    git("fetch", "-q", "origin", "syncer-state", cwd=work)
    git("checkout", "-q", "-b", "edit", "FETCH_HEAD", cwd=work)
    (work / "README.md").write_text("hi")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "by hand", cwd=work)
    git("push", "-q", "origin", "edit:syncer-state", cwd=work)
    fresh = store_of(repo.clone("b"))
    with pytest.raises(StateError, match=r"'README\.md', which syncer never writes there"):
        fresh.read_people()
    with pytest.raises(StateError, match="never writes there"):
        fresh.load()


# --- credentials --------------------------------------------------------------------------------------------


def _token_for(url: str, env: dict[str, str]) -> str | None:
    credential = credential_for(url, env)
    return None if credential is None else credential[1]


def test_gitlabs_job_token_goes_only_to_the_gitlab_server_of_the_job_as_gitlab_ci_token() -> None:
    env = {"CI_JOB_TOKEN": "job-token-value", "CI_SERVER_URL": "https://gitlab.example.com"}
    assert credential_for("https://gitlab.example.com/group/m.git", env) == ("gitlab-ci-token", "job-token-value")
    assert credential_for("https://github.com/acme/m.git", env) is None  # the job token stays on its GitLab
    assert credential_for("https://gitlab.example.com/m.git", {"CI_JOB_TOKEN": "job-token-value"}) is None
    project_token = {**env, "SYNCER_GIT_TOKEN": "glpat-project"}  # a project access token comes first
    assert credential_for("https://gitlab.example.com/m.git", project_token) == ("x-access-token", "glpat-project")
    header = auth_config("https://gitlab.example.com/m.git", env)[1][1]
    assert header == "AUTHORIZATION: basic " + base64.b64encode(b"gitlab-ci-token:job-token-value").decode()
    assert "job-token-value" not in scrub(f"fatal: {header} job-token-value", secrets_of(env))
    assert header.split()[-1] not in scrub(f"fatal: {header}", secrets_of(env))


def test_no_token_goes_over_plain_http_except_to_loopback() -> None:
    env = {
        "SYNCER_GIT_TOKEN": "glpat-project",
        "CI_JOB_TOKEN": "job-token-value",
        "CI_SERVER_URL": "http://gitlab.internal",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_SERVER_URL": "http://ghe.internal",
    }
    for url in ("http://gitlab.internal/group/m.git", "http://ghe.internal/acme/m.git", "HTTP://git.example/m.git"):
        assert credential_for(url, env) is None and auth_config(url, env) == [], url
        assert credential_for(url, {k: v for k, v in env.items() if k != "SYNCER_GIT_TOKEN"}) is None, url
    assert _token_for("http://127.0.0.1:9418/m.git", env) == "glpat-project"  # a test server on loopback
    assert _token_for("https://gitlab.internal/group/m.git", env) == "glpat-project"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://git.example/m.git", "sends none over plain http"),
        ("https://git.example/m.git", "pass a token in GITHUB_TOKEN"),
    ],
)
def test_an_auth_refusal_over_plain_http_says_to_use_https(tmp_path: Path, url: str, says: str) -> None:
    refused = GitError("git push failed", stderr="fatal: Authentication failed for '" + url + "'")
    explained = Remote(Git(tmp_path, environ={"SYNCER_GIT_TOKEN": "glpat-project"}), url).explain(refused)
    assert says in str(explained) and "glpat-project" not in str(explained)


def test_tokens_go_only_to_their_host_and_only_through_the_environment() -> None:
    env = {"GITHUB_TOKEN": TOKEN}
    token_for = _token_for
    assert token_for("https://github.com/acme/m.git", env) == TOKEN
    assert token_for("https://gitlab.example/acme/m.git", env) is None  # GITHUB_TOKEN stays on GitHub
    assert token_for("https://ghe.example/acme/m.git", {**env, "GITHUB_SERVER_URL": "https://ghe.example"}) == TOKEN
    assert token_for("git@github.com:acme/m.git", env) is None  # ssh: its own keys
    assert token_for("/srv/git/m.git", env) is None
    assert token_for("https://gitlab.example/m.git", {**env, "SYNCER_GIT_TOKEN": "other"}) == "other"
    entries = auth_config("https://github.com/acme/m.git", env)
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert entries == [
        ("http.https://github.com/.extraheader", ""),
        ("http.https://github.com/.extraheader", f"AUTHORIZATION: basic {basic}"),
    ]
    assert config_env(entries, {"GIT_CONFIG_COUNT": "1"}) == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_1": entries[0][0],
        "GIT_CONFIG_VALUE_1": "",
        "GIT_CONFIG_KEY_2": entries[1][0],
        "GIT_CONFIG_VALUE_2": entries[1][1],
    }
    text = f"fatal: https://x-access-token:{TOKEN}@github.com/ {TOKEN} {basic} https://u:p@h/"
    cleaned = scrub(text, secrets_of(env))
    assert TOKEN not in cleaned and basic not in cleaned and "u:p@" not in cleaned


def test_parse_push_porcelain() -> None:
    out = "To /r.git\n!\tabc:refs/heads/s\t[rejected] (stale info)\n*\tdef:refs/syncer/lock/s\t[new reference]\nDone"
    assert parse_push(out, "refs/heads/s") is not None and not parse_push(out, "refs/heads/s").ok  # type: ignore[union-attr]
    assert parse_push(out, "refs/syncer/lock/s").ok  # type: ignore[union-attr]
    assert parse_push(out, "refs/heads/other") is None


class GitHTTP:
    """`git http-backend` behind a loopback HTTP server. `auth`: the Authorization every request must carry
    (None: anonymous reads); `writable`: pushes are allowed."""

    def __init__(self, root: Path, *, auth: str | None, writable: bool) -> None:
        self.root, self.auth, self.writable = root, auth, writable
        self.seen: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._cgi()

            def do_POST(self) -> None:
                self._cgi()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                out = b""
                while size := int(self.rfile.readline().strip(), 16):
                    out += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
                return out

            def _cgi(self) -> None:
                got = self.headers.get("Authorization")
                outer.seen.append(got)
                body = self._body()
                if outer.auth is not None and got != outer.auth:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                env = {
                    "PATH": os.environ["PATH"],
                    "GIT_PROJECT_ROOT": str(outer.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": os.devnull,
                }
                if outer.writable:
                    env["REMOTE_USER"] = "syncer-test"
                out = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False, timeout=60
                ).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitHTTP:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_repo(repo: Repo) -> Iterator[tuple[Repo, GitHTTP]]:
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    with GitHTTP(repo.tmp, auth=f"basic {basic}", writable=True) as server:
        yield repo, server


def http_clone(repo: Repo, server: GitHTTP, name: str) -> Path:
    """A clone whose origin is the HTTP server (cloned from disk: the clone itself needs no credentials)."""
    root = repo.clone(name)
    git("remote", "set-url", "origin", f"{server.url}/remote.git", cwd=root.parent)
    return root


def test_push_credentials_come_from_the_environment_only(
    http_repo: tuple[Repo, GitHTTP], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, server = http_repo
    # A fake `git` records every command line it is given, then runs the real one.
    argv_log = tmp_path / "argv.log"
    fake = tmp_path / "fake-git"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{argv_log}"\nexec git "$@"\n')
    fake.chmod(0o755)
    root = http_clone(repo, server, "ci")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_SERVER_URL", server.url)
    store = open_git_store(root, GIT_SETTINGS, clock=lambda: T0, git_exe=str(fake))
    with store.locked():
        store.create(IDENT)
        store.record_batch(batch("tok-1", {"2": "60"}))
        store.compact()
    assert repo.branch_commits()  # pushed over HTTP with the header
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert f"basic {basic}" in server.seen
    config = (root.parent / ".git" / "config").read_text()
    assert TOKEN not in config and basic not in config and "extraheader" not in config
    argv = argv_log.read_text()
    assert "push" in argv and TOKEN not in argv and basic not in argv
    for path in (root.parent / ".git").rglob("*"):
        if path.is_file() and path.stat().st_size < 1 << 20:
            assert TOKEN.encode() not in path.read_bytes(), path


def test_a_wrong_token_fails_clearly_and_is_never_shown(
    http_repo: tuple[Repo, GitHTTP], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, server = http_repo
    root = http_clone(repo, server, "ci")
    wrong = "ghs_wrongWrongWrong0987654321"
    monkeypatch.setenv("SYNCER_GIT_TOKEN", wrong)
    store = open_git_store(root, GIT_SETTINGS)
    with pytest.raises(StateError) as err:
        store.lock()
    message = str(err.value)
    assert "needs credentials" in message and "SYNCER_GIT_TOKEN" in message
    assert wrong not in message and base64.b64encode(f"x-access-token:{wrong}".encode()).decode() not in message
    monkeypatch.delenv("SYNCER_GIT_TOKEN")
    with pytest.raises(StateError, match="needs credentials"):
        open_git_store(root, GIT_SETTINGS).load()


def test_reading_needs_no_write_access(repo: Repo) -> None:
    seed_state(repo.clone("a"))
    with GitHTTP(repo.tmp, auth=None, writable=False) as server:  # a public repository, anonymous
        root = http_clone(repo, server, "fork")
        state = open_git_store(root, GIT_SETTINGS).load()
        assert state is not None and state.get((SEM, ALICE, REV, "2")) == ("60", 1)
        with pytest.raises(StateError, match="taking the lock"):
            open_git_store(root, GIT_SETTINGS).lock()


def test_git_runs_quietly_and_never_prompts(tmp_path: Path) -> None:
    env = Git(tmp_path, environ={"PATH": "/usr/bin"}).env(remote_url="https://github.com/a/b")
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["LC_ALL"] == "C"
    keys = {env[f"GIT_CONFIG_KEY_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert {"gc.auto", "maintenance.auto"} <= keys and not any("extraheader" in k for k in keys)


def test_a_token_with_surrounding_whitespace_is_hidden_in_every_form() -> None:
    from syncer.state.git.cmd import auth_config, scrub, secrets_of

    env = {"SYNCER_GIT_TOKEN": "ghp_secretTOKEN123\n"}
    header = auth_config("https://git.example.com/r.git", env)[1][1]
    shown = scrub(f"fatal: header {header} raw ghp_secretTOKEN123", secrets_of(env))
    assert "ghp_secretTOKEN123" not in shown and header.split()[-1] not in shown


# --- the lock is a lease ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_dead_runners_lease_is_taken_over_once_it_ends(repo: Repo) -> None:
    seed_state(repo.clone("first"))
    t = Clock()
    runner = store_of(repo.clone("runner"), clock=t, hostname=lambda: "ci-runner-1", pid=lambda: 4242)
    runner.lock()
    runner._held = None  # the runner was lost: nothing renews or releases its lease
    t.advance(100)
    fresh = store_of(repo.clone("fresh"), clock=t)
    assert fresh.lock_holder().status == "other host"  # type: ignore[union-attr]
    with pytest.raises(StateError, match=r"locked by apply \(pid 4242 on ci-runner-1, other host\).*lease until"):
        fresh.lock()
    t.advance(801)  # past the lease (900 s from the lock)
    assert fresh.lock_holder().status == "dead"  # type: ignore[union-attr]
    with fresh.locked():
        assert fresh.taken_over is not None and fresh.taken_over.host == "ci-runner-1"
    assert repo.ref("refs/syncer/lock/syncer-state") is None


def test_the_holder_renews_its_lease_as_it_writes(repo: Repo) -> None:
    seed_state(repo.clone("first"))
    t = Clock()
    holder = store_of(repo.clone("holder"), clock=t)
    holder.lock()
    first = repo.ref("refs/syncer/lock/syncer-state")
    t.advance(400)  # more than a third of the lease: the next write renews it
    holder.open_journal(journal("tok-2"))
    renewed = repo.ref("refs/syncer/lock/syncer-state")
    assert renewed not in (None, first)
    t.advance(700)  # past the first lease, within the renewed one
    other = store_of(repo.clone("other"), clock=t, hostname=lambda: "elsewhere")
    with pytest.raises(StateError, match="locked by"):
        other.lock()
    holder.unlock()


def test_a_holder_whose_lease_was_taken_over_stops_before_writing(repo: Repo) -> None:
    seed_state(repo.clone("first"))
    t = Clock()
    slow = store_of(repo.clone("slow"), clock=t, hostname=lambda: "ci-runner-1", pid=lambda: 4242)
    slow.lock()
    t.advance(1000)  # it stalled past its lease
    taker = store_of(repo.clone("taker"), clock=t)
    taker.lock()
    with pytest.raises(StateError, match="no longer this run's"):
        slow.open_journal(journal("late"))
    taker.unlock()


def test_a_write_adds_only_its_own_objects_whatever_the_length_of_the_run(tmp_path: Path) -> None:
    """Each write of a first apply commits a small log segment, never a new copy of the whole log: the
    objects a batch adds (clone and remote, loose, before any gc) stay the same from the first batch to the
    last, a few KiB each, and no push sends older objects again (as one did when a tree of older segments
    moved to a path the remote's tip did not have: git's walk did not recognise what it held)."""
    from tests.bench.gitgrowth import first_apply

    g = first_apply(tmp_path / "growth", 40)  # 120 serials: tens and a hundred closed
    first = g.remote_bytes[9] / 10
    last = (g.remote_bytes[39] - g.remote_bytes[29]) / 10
    assert first < 16 << 10 and last < 16 << 10, (first, last)  # bytes a batch adds
    assert last < 1.2 * first, (first, last)  # no copy of what grows: the same cost late in the run
    per_batch = [b - a for a, b in zip([0, *g.remote_bytes], g.remote_bytes, strict=False)]
    assert max(per_batch) < 1.5 * sorted(per_batch)[20], per_batch  # nothing sent twice
    assert g.clone_bytes[39] < 1 << 20 and g.remote_bytes[39] < 1 << 20
