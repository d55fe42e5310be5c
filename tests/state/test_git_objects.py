"""The git backend writes its blobs, trees and commits in-process: each object is the one git's own plumbing
(`hash-object -w`, `mktree`, `commit-tree`) would write, git reads it back, and `git fsck` finds nothing."""

from __future__ import annotations

import os
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncer.state.git.cmd import Git, GitError
from syncer.state.git.objects import ObjectStore, person, tree_bytes
from tests.state.gitrepo import git, isolate_git

WHEN = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sha1", "sha256"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(monkeypatch, tmp_path)
    path = tmp_path / "repo"
    git("init", "-q", f"--object-format={request.param}", str(path))
    return path


def store(repo: Path) -> ObjectStore:
    return ObjectStore(Git(repo, environ=dict(os.environ)))


def test_a_blob_is_the_one_hash_object_writes(repo: Path) -> None:
    data = "日本語 and bytes \x00\xff\n".encode("utf-8", "surrogateescape")
    (repo / "f").write_bytes(data)
    sha = store(repo).blob(data)
    assert sha == git("hash-object", "--no-filters", "f", cwd=repo)
    assert git("cat-file", "-t", sha, cwd=repo) == "blob"
    assert subprocess.run(["git", "cat-file", "blob", sha], cwd=repo, capture_output=True).stdout == data


def test_a_tree_is_the_one_mktree_writes_in_gits_order(repo: Path) -> None:
    objects = store(repo)
    blob = objects.blob(b"x\n")
    sub = objects.tree([("100644", "blob", blob, "leaf")])
    # git orders a directory as if its name ended in "/": "a.b" < "a/" < "a0", and "a-" < "a.b"
    entries = [
        ("100644", "blob", blob, "a0"),
        ("040000", "tree", sub, "a"),
        ("100644", "blob", blob, "a.b"),
        ("100644", "blob", blob, "a-"),
        ("100755", "blob", blob, "zz"),
        ("100644", "blob", blob, "中文.jsonl"),
    ]
    ours = objects.tree(entries)
    text = "".join(f"{m} {k} {s}\t{n}\0" for m, k, s, n in entries)
    theirs = subprocess.run(["git", "mktree", "-z"], cwd=repo, input=text.encode(), capture_output=True, check=True)
    assert ours == theirs.stdout.decode().strip()
    listed = git("-c", "core.quotepath=off", "ls-tree", ours, cwd=repo).splitlines()
    assert [line.split("\t")[1] for line in listed] == [
        "a-",
        "a.b",
        "a",
        "a0",
        "zz",
        "中文.jsonl",
    ]


def test_the_empty_tree_is_gits_empty_tree(repo: Path) -> None:
    assert store(repo).tree([]) == git("mktree", cwd=repo)


def test_a_commit_is_the_one_commit_tree_writes(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = store(repo)
    tree = objects.tree([("100644", "blob", objects.blob(b"state\n"), "meta.json")])
    first = objects.commit(tree, None, "syncer: create", when=WHEN)
    second = objects.commit(tree, first, "syncer: batch 1\n\n- a line\n", when=WHEN)
    stamp = {"GIT_AUTHOR_DATE": "@1796635800 +0000", "GIT_COMMITTER_DATE": "@1796635800 +0000"}
    env = {**os.environ, **stamp}
    run = subprocess.run
    want1 = run(["git", "commit-tree", tree], cwd=repo, input=b"syncer: create", capture_output=True, env=env)
    want2 = run(
        ["git", "commit-tree", tree, "-p", want1.stdout.decode().strip()],
        cwd=repo,
        input=b"syncer: batch 1\n\n- a line\n",
        capture_output=True,
        env=env,
    )
    assert (first, second) == (want1.stdout.decode().strip(), want2.stdout.decode().strip())
    assert git("log", "--format=%an <%ae> %s", second, cwd=repo).splitlines() == [
        "Test <test@example.com> syncer: batch 1",
        "Test <test@example.com> syncer: create",
    ]
    git("update-ref", "refs/heads/state", second, cwd=repo)
    git("fsck", "--strict", "--no-dangling", cwd=repo)


def test_without_an_identity_the_commit_is_by_syncer(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    objects = store(repo)
    commit = objects.commit(objects.tree([]), None, "m", when=WHEN)
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%at", commit, cwd=repo) == (
        "syncer <syncer@noreply.invalid>|syncer <syncer@noreply.invalid>|1796635800"
    )


def test_a_hostile_identity_cannot_add_a_header_or_break_the_line(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Eve\nparent 0000000000000000000000000000000000000000")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "e>ve@x\n<")
    objects = store(repo)
    commit = objects.commit(objects.tree([]), None, "m", when=WHEN)
    raw = git("cat-file", "commit", commit, cwd=repo).splitlines()
    assert [line for line in raw if line.startswith("parent")] == []
    assert raw[1] == "author Eveparent 0000000000000000000000000000000000000000 <eve@x> 1796635800 +0000"
    git("update-ref", "refs/heads/state", commit, cwd=repo)
    git("fsck", "--strict", "--no-dangling", cwd=repo)


def test_person_trims_what_git_trims() -> None:
    assert person(' "Ann Lee." ', "<ann@x.cn>", 5) == b"Ann Lee <ann@x.cn> 5 +0000"


def test_an_object_already_there_is_not_written_again(repo: Path) -> None:
    objects = store(repo)
    sha = objects.blob(b"same")
    path = next(p for p in (repo / ".git" / "objects" / sha[:2]).iterdir())
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    assert objects.blob(b"same") == sha
    assert path.stat().st_mtime_ns == before - 10**9
    assert zlib.decompress(path.read_bytes()) == b"blob 4\0same"
    assert oct(path.stat().st_mode & 0o777) == "0o444"


def test_a_failed_write_leaves_no_temporary_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = store(repo)
    objects.blob(b"warm up")  # the object directory is known

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        objects.blob(b"new")
    leftovers = [p.name for p in (repo / ".git" / "objects").rglob("tmp_obj_*")]
    assert leftovers == []


def test_objects_go_where_git_keeps_them_in_a_worktree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch, tmp_path)
    main = tmp_path / "main"
    git("init", "-q", "-b", "main", str(main))
    git("commit", "-q", "--allow-empty", "-m", "x", cwd=main)
    git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "other", cwd=main)
    sha = store(tmp_path / "wt").blob(b"from a worktree")
    assert git("cat-file", "-t", sha, cwd=main) == "blob"


def test_tree_bytes_writes_a_directory_mode_without_its_leading_zero() -> None:
    sha = "0" * 40
    assert tree_bytes([("040000", "tree", sha, "d")]) == b"40000 d\0" + bytes(20)


@pytest.fixture
def umask_077() -> Iterator[None]:
    """A private umask (as a service running syncer may have): what git's own objects get too."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def test_an_object_and_a_new_fan_out_directory_follow_the_umask_as_gits_do(repo: Path, umask_077: None) -> None:
    """The state's values are in these objects: under umask 077 git writes them 0400, never readable by others."""
    sha = store(repo).blob(b"a private value")
    ours = repo / ".git" / "objects" / sha[:2] / sha[2:]
    theirs_sha = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"another", capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    theirs = repo / ".git" / "objects" / theirs_sha[:2] / theirs_sha[2:]
    assert oct(ours.stat().st_mode & 0o777) == oct(theirs.stat().st_mode & 0o777) == "0o400"
    assert oct(ours.parent.stat().st_mode & 0o777) == "0o700"


def test_an_empty_object_file_left_by_a_power_cut_is_written_anew(repo: Path) -> None:
    """An object's file that exists but is empty (its rename reached the disk, its data did not) is no object:
    writing the object again repairs it, where trusting it would break every later read and push."""
    objects = store(repo)
    sha = objects.blob(b"warm up")
    sha = objects.blob(b"the state")
    path = repo / ".git" / "objects" / sha[:2] / sha[2:]
    path.chmod(0o644)
    path.write_bytes(b"")
    assert objects.blob(b"the state") == sha
    assert subprocess.run(["git", "cat-file", "blob", sha], cwd=repo, capture_output=True).stdout == b"the state"


def test_an_object_is_fsynced_before_it_is_renamed_into_place(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Else a power cut may keep the name and lose the data: an empty object, which git calls corrupt."""
    objects = store(repo)
    objects.blob(b"warm up")  # the object directory is known
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    objects.blob(b"durable")
    assert "replace" in calls
    assert "fsync" in calls[: calls.index("replace")], calls


def _fresh_fan_out(repo: Path, prefix: str) -> bytes:
    """Content whose blob lands in an object directory `objects/<2 hex>` that does not exist yet."""
    taken = {p.name for p in (repo / ".git" / "objects").iterdir()}
    for i in range(100000):
        data = f"{prefix} {i}".encode()
        sha = subprocess.run(
            ["git", "hash-object", "--stdin"], cwd=repo, input=data, capture_output=True, check=True
        ).stdout.decode()
        if sha[:2] not in taken:
            return data
    raise AssertionError("no free fan-out directory")  # pragma: no cover


@pytest.mark.parametrize(
    ("umask", "shared", "file_mode", "dir_mode"),
    [
        (0o077, "group", "0o440", "0o2770"),
        (0o077, "all", "0o444", "0o2775"),
        (0o077, "0640", "0o440", "0o2750"),
        (0o077, "false", "0o400", "0o700"),
        # An explicit mode is the whole mode, not bits added: the others' read bits the umask gave go.
        (0o022, "0640", "0o440", "0o2750"),
        (0o022, "0660", "0o440", "0o2770"),
        # Set-group-ID only where the group gains access by it.
        (0o022, "0600", "0o400", "0o700"),
        (0o022, "group", "0o444", "0o2775"),
    ],
)
def test_a_shared_repository_gets_the_permissions_git_gives_its_objects(
    repo: Path, umask: int, shared: str, file_mode: str, dir_mode: str
) -> None:
    """core.sharedRepository: the other members of the group (or everybody) read syncer's objects and write
    beside them, as they do git's own; else their next git command in the clone is refused. Git itself is
    the witness: its object and syncer's, each in a new fan-out directory, get the same modes."""
    git("config", "core.sharedRepository", shared, cwd=repo)
    old = os.umask(umask)
    try:
        data = _fresh_fan_out(repo, "git's")
        theirs = (
            subprocess.run(
                ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=data, capture_output=True, check=True
            )
            .stdout.decode()
            .strip()
        )
        ours = store(repo).blob(_fresh_fan_out(repo, "syncer's"))
    finally:
        os.umask(old)
    for sha in (theirs, ours):
        path = repo / ".git" / "objects" / sha[:2] / sha[2:]
        assert (oct(path.stat().st_mode & 0o7777), oct(path.parent.stat().st_mode & 0o7777)) == (file_mode, dir_mode)


@pytest.mark.parametrize(("value", "said"), [("sometimes", "not a value git takes"), ("0400", "read and write")])
def test_a_shared_repository_setting_git_does_not_take_is_refused(repo: Path, value: str, said: str) -> None:
    """As git refuses it (`fatal: bad boolean config value`, `the owner of files must always have read and write
    permissions`): no object is written with permissions nobody asked for."""
    git("config", "core.sharedRepository", "0640", cwd=repo)
    (repo / ".git" / "config").write_text((repo / ".git" / "config").read_text().replace("0640", value))
    with pytest.raises(GitError, match=f"core.sharedRepository '{value}'.*{said}"):
        store(repo).blob(b"x")
    assert not list((repo / ".git" / "objects").rglob("tmp_obj_*"))
