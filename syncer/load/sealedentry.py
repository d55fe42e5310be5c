"""One entry kept between runs beside the check cache (syncer.load.cache): stdlib `marshal` data behind a
sha256 seal (syncer.fsio.read_sealed), in a directory used only when it is private (0700, this user's), and
valid only for the key it was written with. What the catalog cache and the settings cache share; each says
what its key covers and how its value is encoded. Never raises: anything wrong is a miss."""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from syncer import __version__
from syncer.fsio import private_dir, read_sealed, write_sealed


def entry_key(kind: str, entry_format: int, *parts: bytes) -> str:
    """The key of an entry of `kind`: syncer's version, the entry's format, Python's bytecode and marshal
    tags, then each of `parts` (what the value depends on besides syncer's code)."""
    tags = f"{entry_format} {__version__} {sys.implementation.cache_tag} {marshal.version}"
    h = hashlib.sha256(f"syncer-{kind} {tags}\0".encode())
    for part in parts[:-1]:
        h.update(part + b"\0")
    if parts:
        h.update(parts[-1])
    return h.hexdigest()


class SealedEntry:
    """The entry at `path`, sealed with `magic`."""

    def __init__(self, path: Path, magic: bytes) -> None:
        self.path = path
        self._magic = magic
        self._usable: bool | None = None  # the directory is made and checked when first needed
        self.failure: OSError | None = None  # a refused write: the check cache says it, and stays off for the run

    def refused(self, exc: OSError) -> None:
        """Another write of this run was refused: nothing is written, the check cache says it."""
        self._usable = False
        self.failure = exc

    def _ready(self) -> bool:
        """The directory is this user's own and nobody else may write to it: an entry is trusted from there."""
        if self._usable is None:
            self._usable = private_dir(self.path.parent)
        return self._usable

    def read(self, key: str) -> dict[Any, Any] | None:
        """The entry's document if it was written with `key` (None: none, another key, damaged, foreign)."""
        payload = read_sealed(self.path, self._magic) if self._ready() else None
        if payload is None:
            return None
        try:
            doc = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None
        if type(doc) is not dict or doc.get("key") != key:
            return None
        return doc

    def write(self, key: str, doc: dict[str, Any]) -> None:
        """Keep `doc` under `key`; a refused write turns the entry off for the run (and is said once)."""
        if not self._ready():
            return
        try:
            write_sealed(self.path, self._magic, marshal.dumps({"key": key, **doc}))
        except OSError as exc:  # the check cache says so once (CheckCache.refused), and writes nothing more
            self.refused(exc)
        except ValueError:  # marshal cannot hold it
            self._usable = False
