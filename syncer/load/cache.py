"""The check cache: each data file's checked contents (a FileResult) kept between runs, so that a pull
request that touches one file of a hundred reads and checks one file.

An entry is used only when everything its result depends on is the same: the file's bytes (sha256), its
name as shown, and a context digest over syncer's version, this format, the settings and the catalog (with
the people the people cache resolved). The rules across files (rows written twice, weight sums) are applied
to the whole on every run (DataChecker.merge), cached or not. A result is a pure function of those inputs,
which is what makes a cached run give the same problems, the same desired state and the same plan as a cold
one.

The catalog itself, built, is kept beside the entries (syncer.load.catalogcache).

Where: `$SYNCER_CACHE_DIR`, else `$XDG_CACHE_HOME/syncer`, else `~/.cache/syncer`; below it one directory
per metrics root (by absolute path) and target (base URL and user ID type), never shared between two; a
file per data file. Never inside the repository: a cache that a pull request could commit would let it
show one value in the YAML and plan another. Deleting the directory at any time is safe (the next run is
cold); a damaged, foreign or unreadable entry is ignored and rewritten. `SYNCER_CACHE=0` or `--no-cache`
turns it off.

Trust: whoever can write the cache directory decides what a plan shows, so syncer uses only a directory
that is its user's own and that nobody else may write to (0700), and entries are 0600. An entry is a
sha256 of its payload and the payload, stdlib `marshal` data (lists, strings and integers: four times faster
to read than JSON at a million values); a payload whose digest does not match, being torn or damaged, is
never handed to marshal. In CI, restore a saved cache only from runs of the trusted branch.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import Any

from syncer import __version__
from syncer.fieldtypes import FIELD_TYPES
from syncer.fsio import os_error_text, private_dir, read_sealed, write_sealed
from syncer.load.data import FileResult
from syncer.load.people import EmailPeople
from syncer.load.settings import Settings
from syncer.model import DesiredValue, RowKey, Source, ValueKey
from syncer.problems import Problem

#: Bump when FileResult, its encoding or what a check computes changes in a way the version would not show
#: (the version is in the context too).
CACHE_FORMAT = 3  # 2: a value's type by its fixed code (syncer.fieldtypes); 3: bad-character refuses values
ENTRY_MAGIC = b"syncer-check-cache\n"
_SEVERITIES = ("error", "warning")
_CODE_OF = {name: t.code for name, t in FIELD_TYPES.items()}
_TYPE_OF = {t.code: name for name, t in FIELD_TYPES.items()}
_ROW_COLUMNS = ("reviewee", "metric", "line", "col", "typed_reviewee", "typed_metric")
_VALUE_COLUMNS = ("row", "field", "value", "line", "col", "type")


def cache_base(env: Mapping[str, str]) -> Path | None:
    """The cache's top directory from the environment; None when the cache is turned off."""
    if env.get("SYNCER_CACHE", "").strip().lower() in ("0", "off", "false", "no"):
        return None
    if env.get("SYNCER_CACHE_DIR"):
        return Path(env["SYNCER_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "syncer"
    home = env.get("HOME")
    return Path(home) / ".cache" / "syncer" if home else None


def context_digest(settings: Settings, catalog_key: str, emails: EmailPeople, *, version: str = __version__) -> str:
    """What every entry of a run depends on besides its file. The catalog is given by what it was built from
    (syncer.load.catalogcache.CatalogCache.key: its bytes, the settings, its schema, syncer's version), not
    walked: a repr of 50,000 people took a quarter of a cached run. Frozen dataclasses, dicts and strings
    have a deterministic repr; the email lookups are sorted."""
    h = hashlib.sha256()
    for part in (
        f"syncer-check-cache {CACHE_FORMAT} {version} {sys.implementation.cache_tag} {marshal.version}",
        repr(settings),
        catalog_key,
        repr(sorted(emails.resolved.items())),
        repr(sorted(emails.pending.items())),
        repr(sorted(emails.failed.items())),
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def entries_dir(base: Path, root: Path, settings: Settings) -> Path:
    """The directory of one metrics root and target under the cache's top directory."""
    where = f"{root.resolve()}\0{settings.target.base_url}\0{settings.target.user_id_type}"
    return base / hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class CheckCache:
    """The entries of one metrics root and target. `get` and `put` never raise: the cache only ever saves
    time, so anything wrong with it makes a run cold, not a failure."""

    def __init__(self, directory: Path, context: str) -> None:
        self.directory = directory
        self.context = context
        self.hits = 0
        self.misses = 0
        #: Why the cache could not be used (its directory could not be made, an entry could not be written):
        #: said once as a warning; the run goes on cold.
        self.trouble: str | None = None
        failures: list[OSError] = []
        self._usable = private_dir(directory, failures=failures)
        if failures:
            self._failed(failures[0])

    def refused(self, exc: OSError) -> None:
        """Another write of this run was refused (the built catalog): said once, and no entry is written."""
        self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self._usable = False
        if self.trouble is None:
            self.trouble = (
                f"the check cache in {self.directory} cannot be written ({os_error_text(exc)}); this run goes on "
                "without it (set SYNCER_CACHE_DIR to another directory, or SYNCER_CACHE=0 to turn it off)"
            )

    @classmethod
    def open(cls, base: Path, root: Path, settings: Settings, catalog_key: str, emails: EmailPeople) -> CheckCache:
        return cls(entries_dir(base, root, settings), context_digest(settings, catalog_key, emails))

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def _path(self, display: str) -> Path:
        return self.directory / (hashlib.sha256(display.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".entry")

    def get(self, display: str, digest: str) -> FileResult | None:
        result = self._read(display, digest) if self._usable else None
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def _read(self, display: str, digest: str) -> FileResult | None:
        payload = read_sealed(self._path(display), ENTRY_MAGIC)  # torn, damaged or not ours: never unmarshalled
        if payload is None:
            return None
        try:
            doc = marshal.loads(payload)
            if type(doc) is not dict:
                return None
            if doc["context"] != self.context or doc["sha256"] != digest or doc["file"] != display:
                return None
            return self._decode(display, doc)
        except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError, ArithmeticError):
            return None  # absent, damaged or foreign: the file is checked again and the entry rewritten

    def put(self, display: str, digest: str, result: FileResult) -> None:
        if not self._usable or any(p.file != display for p in result.problems):
            return
        doc = {"context": self.context, "sha256": digest, "file": display, **self._encode(result)}
        try:
            payload = marshal.dumps(doc)
            write_sealed(self._path(display), ENTRY_MAGIC, payload)
        except OSError as exc:  # a full disk or a read-only home: stop trying, say so once, the run goes on cold
            self._failed(exc)
        except ValueError:  # marshal cannot hold it: stop trying
            self._usable = False

    def prune(self, displays: Iterable[str]) -> None:
        """Remove the entries of files that are gone (a renamed or deleted data file)."""
        if not self._usable:
            return
        keep = {self._path(d).name for d in displays}
        try:
            for entry in os.scandir(self.directory):
                if entry.name.endswith((".entry", ".tmp")) and entry.name not in keep:
                    os.unlink(entry.path)
        except OSError:
            pass

    # --- encoding ----------------------------------------------------------------------------------------
    # Columns, so that decoding is a few C-level passes rather than a Python loop per value:
    # {"semester": S|null, "problems": [[line, col, severity, code, message, value, detail], ...],
    #  "rows": {"reviewee", "metric", "line", "col", "typed_reviewee", "typed_metric": [...]},
    #  "values": {"row": [row index], "field", "value", "line", "col": [...], "type": [the type's code]},
    #  "weights": [value index, ...]}
    # The file and the semester are written once, each row's IDs once.

    @staticmethod
    def _encode(result: FileResult) -> dict[str, Any]:
        index = {row: i for i, row in enumerate(result.rows)}
        for k in result.keys:
            if k.semester != result.semester or k.row not in index:
                raise ValueError("a file's values are all of its semester and its rows")
        for sem, _reviewee in result.weights:
            if sem != result.semester:
                raise ValueError("a file's weights are all of its semester")
        return {
            "semester": result.semester,
            "problems": [[p.line, p.col, p.severity, p.code, p.message, p.value, p.detail] for p in result.problems],
            "rows": {
                "reviewee": [r.reviewee for r in result.rows],
                "metric": [r.metric for r in result.rows],
                "line": [at.line for at in result.rows.values()],
                "col": [at.col for at in result.rows.values()],
                "typed_reviewee": [t[0] for t in result.typed.values()],
                "typed_metric": [t[1] for t in result.typed.values()],
            },
            "values": {
                "row": [index[k.row] for k in result.keys],
                "field": [k.field for k in result.keys],
                "value": [dv.value for dv in result.values],
                "line": [dv.line for dv in result.values],
                "col": [dv.col for dv in result.values],
                "type": [_CODE_OF[dv.type] for dv in result.values],
            },
            "weights": {"reviewee": [r for _s, r in result.weights], "sum": [str(t) for t in result.weights.values()]},
        }

    def _decode(self, display: str, doc: dict[str, Any]) -> FileResult:
        semester = doc["semester"]
        out = FileResult(display, semester)
        for line, col, severity, code, message, value, detail in doc["problems"]:
            if severity not in _SEVERITIES:
                raise ValueError(severity)
            out.problems.append(Problem(display, line, col, severity, code, message, value, detail))
        rows, values, weights = doc["rows"], doc["values"], doc["weights"]
        if semester is None:
            if rows["reviewee"] or values["row"] or weights["reviewee"]:
                raise ValueError("rows without a semester")
            return out
        n = len(rows["reviewee"])
        if not all(len(rows[c]) == n for c in _ROW_COLUMNS):
            raise ValueError("ragged rows")
        m = len(values["row"])
        if not all(len(values[c]) == m for c in _VALUE_COLUMNS):
            raise ValueError("ragged values")
        keys = list(map(tuple.__new__, repeat(RowKey), zip(repeat(semester), rows["reviewee"], rows["metric"])))
        where = map(tuple.__new__, repeat(Source), zip(repeat(display), rows["line"], rows["col"]))
        out.rows = dict(zip(keys, where, strict=True))
        out.typed = dict(zip(keys, zip(rows["typed_reviewee"], rows["typed_metric"], strict=True), strict=True))
        if len(out.rows) != n:
            raise ValueError("a row twice")
        # Each key from one zip: its reviewee and metric the very objects of its row's key (make_plan compares
        # them by identity), one tuple made a key (a row's prefix plus the field would be two).
        at = values["row"]
        if at and not 0 <= min(at) <= max(at) < n:
            raise IndexError("a value of a row that is not there")
        reviewees, metrics = rows["reviewee"], rows["metric"]
        out.keys = list(
            map(
                tuple.__new__,
                repeat(ValueKey),
                zip(repeat(semester), map(reviewees.__getitem__, at), map(metrics.__getitem__, at), values["field"]),
            )
        )
        types = map(_TYPE_OF.__getitem__, values["type"])  # KeyError on a code no type has
        out.values = list(
            map(
                tuple.__new__,
                repeat(DesiredValue),
                zip(values["value"], types, repeat(display), values["line"], values["col"]),
            )
        )
        out.weights = dict(zip(zip(repeat(semester), weights["reviewee"]), map(Decimal, weights["sum"]), strict=True))
        if not all(t.is_finite() for t in out.weights.values()):
            raise ValueError("a weight sum that is not a number")
        return out
