"""Decoded state shards kept between runs, for `plan`, which only reads the state.

A million-value state is one shard of some 30 MB: parsing its JSON and building its rows takes longer than
all the rest of a cached one-file plan but the diff itself. An entry holds one shard's rows as stdlib
`marshal` data, with the sha256 of the shard's bytes it was decoded from: it is used only for those very
bytes (and this syncer version, Python and entry format), so a hit is exactly what decoding the shard would give,
and an apply that rewrites the shard makes the next plan decode it again (and replace the entry: one entry
per semester of a state). Writers never use it: under the lock the state is always read from its files.

Where: below the check cache's directory (syncer.load.cache: `$SYNCER_CACHE_DIR`, ...), in `state/` and a
directory per state (by its location); the same trust and the same rules: used only when the directory is
its user's own and nobody else may write to it, entries 0600, a payload whose digest does not match never
unmarshalled, anything wrong with an entry a miss, deleting it always safe, `--no-cache` turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from pathlib import Path
from typing import Any

from syncer import __version__
from syncer.fsio import os_error_text, private_dir, read_sealed, write_sealed
from syncer.state.model import RKey, Row

ENTRY_MAGIC = b"syncer-state-cache\n"
#: Bump when what a shard decodes to changes in a way the version would not show.
ENTRY_FORMAT = 1
#: The syncer and the Python that wrote an entry (marshal's format is Python's own).
_VERSION = f"{__version__} {sys.implementation.cache_tag} {marshal.version}"


class ShardCache:
    """The decoded shards of one state. `get` and `put` never raise: the cache only ever saves time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._usable: bool | None = None  # checked at the first use
        #: Why the cache could not be used (its directory could not be made, an entry could not be written): for
        #: the command to say once as a warning; the run goes on without it.
        self.trouble: str | None = None

    @classmethod
    def under(cls, base: Path, location: str) -> ShardCache:
        """The cache of the state at `location` (an absolute path, or a repository and its state branch)."""
        return cls(base / "state" / hashlib.sha256(location.encode("utf-8", "surrogatepass")).hexdigest()[:24])

    def _ready(self) -> bool:
        if self._usable is None:
            failures: list[OSError] = []
            self._usable = private_dir(self.directory, failures=failures)
            if failures:
                self._failed(failures[0])
        return self._usable

    def _failed(self, exc: OSError) -> None:
        self._usable = False
        self.trouble = (
            f"the state's read cache in {self.directory} cannot be written ({os_error_text(exc)}); this run goes "
            "on without it (set SYNCER_CACHE_DIR to another directory, or SYNCER_CACHE=0 to turn it off)"
        )

    def _path(self, semester: str) -> Path:
        return self.directory / (hashlib.sha256(semester.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".entry")

    def get(self, semester: str, digest: str) -> tuple[dict[RKey, Row], int] | None:
        """The rows and value count of the semester's shard whose bytes have this sha256, or None."""
        found = self._read(semester, digest) if self._ready() else None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def _read(self, semester: str, digest: str) -> tuple[dict[RKey, Row], int] | None:
        payload = read_sealed(self._path(semester), ENTRY_MAGIC)
        if payload is None:
            return None
        try:
            doc: Any = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None
        if (
            type(doc) is not dict
            or doc.get("format") != ENTRY_FORMAT
            or doc.get("version") != _VERSION
            or doc.get("semester") != semester
            or doc.get("sha256") != digest
            or type(doc.get("rows")) is not dict
            or type(doc.get("count")) is not int
        ):
            return None
        return doc["rows"], doc["count"]

    def put(self, semester: str, digest: str, rows: dict[RKey, Row], count: int) -> None:
        if not self._ready():
            return
        doc = {
            "format": ENTRY_FORMAT,
            "version": _VERSION,
            "semester": semester,
            "sha256": digest,
            "rows": rows,
            "count": count,
        }
        try:
            write_sealed(self._path(semester), ENTRY_MAGIC, marshal.dumps(doc))
        except OSError as exc:  # a full disk or a read-only home: the run goes on without it, and says so
            self._failed(exc)
        except ValueError:
            self._usable = False
