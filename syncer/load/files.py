"""Which files make up a metrics root, and how they are named in messages.

Every `*.yaml` / `*.yml` below the root is a data file, except `syncer.yaml` and `catalog.yaml`, files in
dot-directories (`.syncer/`, `.git/`, ...) and paths matching an `exclude:` glob.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path, PurePosixPath

SETTINGS_FILE = "syncer.yaml"
CATALOG_FILE = "catalog.yaml"
RULES_FILE = "rules.yaml"  # company rules (syncer.rules), when not in syncer.yaml
#: The files of a root that are not data files.
NOT_DATA = frozenset({SETTINGS_FILE, CATALOG_FILE, RULES_FILE})


def display_path(root_display: str, rel: str) -> str:
    """How a file is named in messages: the root as the user gave it, joined with the relative path."""
    if root_display in ("", "."):
        return rel
    return f"{root_display.rstrip('/')}/{rel}"


def relative_path(root_display: str, display: str) -> str:
    """The inverse of `display_path`: a file's path relative to the root, from its name in messages."""
    if root_display in ("", "."):
        return display
    return display.removeprefix(f"{root_display.rstrip('/')}/")


def glob_matches(rel: str, pattern: str) -> bool:
    """Whether a path relative to the root (POSIX) matches a glob as `exclude:` reads it: fnmatch's, or
    with `**` standing for any number of directories."""
    return fnmatch.fnmatchcase(rel, pattern) or _glob_match(rel, pattern)


def walk_files(
    root: Path, *, exclude: tuple[str, ...] = (), skip: frozenset[str] = frozenset()
) -> tuple[list[Path], list[Path]]:
    """The data files below `root`: every *.yaml / *.yml except in dot-directories, except paths (relative,
    POSIX) in `skip`, and except those matching an `exclude` glob; sorted. And the symlinked directories
    met on the way (not followed, not excluded): the caller reports them, as it reports a symlinked file
    when it loads it, so that no link is ever skipped silently."""
    found: list[Path] = []
    linked: list[Path] = []

    def excluded(rel: str) -> bool:
        return any(glob_matches(rel, pat) for pat in exclude)

    for dirpath, dirnames, filenames in os.walk(root):
        kept = []
        for d in sorted(d for d in dirnames if not d.startswith(".")):
            full = Path(dirpath) / d
            if full.is_symlink():
                if not excluded(full.relative_to(root).as_posix()):
                    linked.append(full)
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in filenames:
            if not name.endswith((".yaml", ".yml")) or name.startswith("."):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if rel in skip:
                continue
            if excluded(rel):
                continue
            found.append(full)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix()), linked


def _glob_match(rel: str, pattern: str) -> bool:
    """`**` matching any number of directories, as users expect from .gitignore-style globs."""
    try:
        return PurePosixPath(rel).full_match(pattern)  # type: ignore[attr-defined,no-any-return]
    except AttributeError:  # Python < 3.13
        regex = ""
        i = 0
        while i < len(pattern):
            c = pattern[i]
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
                continue
            if pattern.startswith("**", i):
                regex += ".*"
                i += 2
                continue
            regex += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
            i += 1
        return re.fullmatch(regex, rel) is not None
