"""The git backend's objects written in this process: blobs, trees and commits as loose objects in the
repository's object directory, byte for byte what `git hash-object -w`, `git mktree` and `git commit-tree`
would write, without a process for each (a batch of an apply writes about a dozen objects).

The object format is git's own (docs/state.md, "The git backend", names the rules kept here):
- an object is `<type> <size>\\0<content>`; its name is the SHA-1 (or SHA-256, in a repository made with
  `--object-format=sha256`) of those bytes; stored zlib-deflated at `objects/<2 hex>/<rest>`;
- a tree is its entries sorted by name, a directory's name compared as if it ended in `/`; an entry is
  `<mode> <name>\\0<binary object name>`, a directory's mode written `40000`;
- a commit is `tree`, `parent` lines, `author` and `committer` (`name <email> <seconds> +0000`), a blank line,
  then the message.

A new object is written to a temporary file beside its final name (read-only, mode 0444 less the umask, as
git makes its objects), fsynced, and renamed into place, so a reader never sees half an object, nor an empty
one after a power cut; an object already present is not written again."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from syncer.state.git.cmd import Git, GitError

#: The hashes of git's object formats, by the name `git rev-parse --show-object-format` prints.
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
AUTHOR = ("syncer", "syncer@noreply.invalid")
TREE_MODE = "040000"


def tree_bytes(entries: Sequence[tuple[str, str, str, str]]) -> bytes:
    """The content of a tree of (mode, type, hex name, file name) entries, in git's order."""

    def order(entry: tuple[str, str, str, str]) -> bytes:
        name = entry[3].encode("utf-8", "surrogateescape")
        return name + b"/" if entry[0] == TREE_MODE else name

    out = bytearray()
    for mode, _kind, sha, name in sorted(entries, key=order):
        out += mode.lstrip("0").encode("ascii") + b" " + name.encode("utf-8", "surrogateescape") + b"\0"
        out += bytes.fromhex(sha)
    return bytes(out)


def person(name: str, email: str, seconds: int) -> bytes:
    """An `author`/`committer` value: git drops what would break the line (`<`, `>` and line ends)."""

    def clean(text: str) -> str:
        return "".join(c for c in text if c not in "<>\n\r\0").strip(" \t.,:;\"'\\")

    return f"{clean(name)} <{clean(email)}> {seconds} +0000".encode()


def commit_bytes(tree: str, parent: str | None, author: bytes, committer: bytes, message: str) -> bytes:
    """The content of a commit (no signature, no encoding header: the message is UTF-8)."""
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    return head.encode("ascii") + b"author " + author + b"\ncommitter " + committer + b"\n\n" + message.encode()


def shared_permissions(value: str | None) -> int:
    """`core.sharedRepository` as git reads it: 0 (the umask decides), 0o660 (`group`, `true`), 0o664 (`all`,
    `world`, `everybody`), or minus an octal mode (`0640`). GitError for a value git refuses (it stops too)."""
    value = (value or "").strip()
    word = value.lower()
    if word in ("", "umask", "false", "no", "off", "0"):
        return 0
    if word in ("group", "true", "yes", "on", "1"):
        return 0o660
    if word in ("all", "world", "everybody", "2"):
        return 0o664
    try:
        mode = int(word, 8)
    except ValueError:
        raise GitError(
            f"core.sharedRepository {value!r} is not a value git takes: fix the repository's config"
        ) from None
    if mode & 0o600 != 0o600:
        raise GitError(
            f"core.sharedRepository {value!r}: the owner of files must always have read and write permissions"
        )
    return -(mode & 0o666)


def shared_mode(mode: int, shared: int) -> int:
    """The mode git gives a file or directory of mode `mode` in a repository shared as `shared`
    (shared_permissions): the group's (or everybody's) read and write bits added, or the explicit mode; read
    bits copied to execute bits where the owner's is set; write bits dropped where the owner's is not."""
    tweak = -shared if shared < 0 else shared
    if not mode & stat.S_IWUSR:
        tweak &= ~0o222
    if mode & stat.S_IXUSR:
        tweak |= (tweak & 0o444) >> 2
    return (mode & ~0o777) | tweak if shared < 0 else mode | tweak


def shared_dir_mode(mode: int, shared: int) -> int:
    """The mode git gives a directory it makes in a shared repository (adjust_shared_perm): shared_mode, read
    bits copied to execute bits, and set-group-ID only when the group gains access by it (a 0600 repository
    keeps its directories private and without it)."""
    new = shared_mode(mode, shared)
    new |= (new & 0o444) >> 2
    return new | stat.S_ISGID if new & 0o060 else new


def _create_temporary(directory: Path) -> tuple[Path, int]:
    """A new temporary object file in `directory`, open for writing, created read-only as git creates its
    objects: mode 0444 less the umask (a private umask keeps the state's values from other users)."""
    while True:
        path = directory / f"tmp_obj_{secrets.token_hex(6)}"
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o444)
        except FileExistsError:  # pragma: no cover - 48 random bits taken already
            continue


class ObjectStore:
    """The loose objects of the repository `git` runs in."""

    def __init__(self, git: Git) -> None:
        self._git = git
        self._dir: Path | None = None
        self._hash = hashlib.sha1
        self._shared = 0  # core.sharedRepository (shared_permissions)

    def _directory(self) -> Path:
        if self._dir is None:
            fmt = self._git.text("rev-parse", "--show-object-format")
            if fmt not in HASHES:
                raise GitError(f"git object format {fmt!r} is not one syncer can write (sha1, sha256)")
            self._hash = HASHES[fmt]
            objects = self._git.text("rev-parse", "--git-path", "objects")
            shared = self._git.run("config", "--get", "core.sharedRepository", check=False).stdout
            self._shared = shared_permissions(shared.decode("utf-8", "replace") or None)
            self._dir = (self._git.cwd / objects).resolve()
        return self._dir

    def write(self, kind: str, content: bytes) -> str:
        """Store an object (if it is not there yet) and return its name. An object file that is there but empty
        (a power cut kept its name, not its data) is written anew: git would call it corrupt."""
        directory = self._directory()
        raw = f"{kind} {len(content)}\0".encode("ascii") + content
        sha = self._hash(raw).hexdigest()
        final = directory / sha[:2] / sha[2:]
        with contextlib.suppress(FileNotFoundError):
            if final.stat().st_size > 0:
                return sha
        self._fan_out(final.parent)
        tmp, fd = _create_temporary(final.parent)
        try:
            if self._shared:
                os.fchmod(fd, shared_mode(os.fstat(fd).st_mode, self._shared))
            with os.fdopen(fd, "wb") as f:
                f.write(zlib.compress(raw, 1))
                f.flush()
                os.fsync(f.fileno())  # the data on disk before the name: never an empty object after a power cut
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return sha

    def _fan_out(self, directory: Path) -> None:
        """The directory `objects/<2 hex>`, made if missing; in a shared repository, made as git makes it
        (group bits and, when the group gets any, set-group-ID, so that its members write beside syncer's objects)."""
        try:
            directory.mkdir()
        except FileExistsError:
            return
        if self._shared:
            os.chmod(directory, shared_dir_mode(directory.stat().st_mode, self._shared))

    def blob(self, data: bytes) -> str:
        return self.write("blob", data)

    def tree(self, entries: Sequence[tuple[str, str, str, str]]) -> str:
        return self.write("tree", tree_bytes(entries))

    def commit(self, tree: str, parent: str | None, message: str, *, when: datetime) -> str:
        """A commit of `tree` on `parent` by syncer (or the identity the environment gives git), at `when`."""
        env = self._git.environ
        seconds = int(when.timestamp())
        author = person(env.get("GIT_AUTHOR_NAME") or AUTHOR[0], env.get("GIT_AUTHOR_EMAIL") or AUTHOR[1], seconds)
        committer = person(
            env.get("GIT_COMMITTER_NAME") or AUTHOR[0], env.get("GIT_COMMITTER_EMAIL") or AUTHOR[1], seconds
        )
        return self.write("commit", commit_bytes(tree, parent, author, committer, message))
