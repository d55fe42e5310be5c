"""Validation of a metrics root: settings, catalog, then every data file (syncer.load.data), then the rules
across files. Offline: the people cache is handed in, never fetched from a backend here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from syncer.errors import StateError, StateUnavailable
from syncer.load.cache import CheckCache, entries_dir
from syncer.load.catalog import load_catalog
from syncer.load.catalogcache import CatalogCache
from syncer.load.data import DataChecker, FileResult
from syncer.load.files import CATALOG_FILE, NOT_DATA, display_path, walk_files
from syncer.load.people import PeopleCache, PeopleSource, email_check, email_people, read_cache
from syncer.load.settings import Settings, load_settings
from syncer.load.settingscache import SettingsCache, settings_path
from syncer.load.yamlnodes import Node
from syncer.load.yamlread import read_tree_bytes, symlink_problem
from syncer.model import Catalog, DesiredState, PersonDef
from syncer.perf import paused_gc
from syncer.problems import Problem, sort_problems

#: Where validation reads the people cache from, given the settings (the CLI opens the state's store).
PeopleSourceFactory = Callable[[Settings], PeopleSource]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    root: Path
    settings: Settings
    catalog: Catalog
    desired: DesiredState | None  # None when there are errors
    problems: list[Problem]
    files: tuple[str, ...]  # data files read (display paths)
    value_count: int = 0
    closed_value_count: int = 0
    cached_files: int = 0  # data files whose checked contents came from the check cache
    cache_trouble: str | None = None  # why the check cache could not be written (a warning; the result is whole)
    #: With keep_parsed: each data file parsed, by path: its bytes as parsed (UTF-8, no BOM) and its tree.
    parsed: Mapping[Path, tuple[bytes, Node]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_root(
    root: Path,
    *,
    root_display: str | None = None,
    people: PeopleSourceFactory | None = None,
    cache_dir: Path | None = None,
    keep_parsed: bool = False,
) -> ValidationResult:
    """Load and check everything below `root`, offline. Never raises for a user mistake: problems are
    returned; `desired` is built only when there are no errors.

    People given by email only take their IDs from the people cache: `people(settings)` gives where to read
    it (the CLI hands in the state's store), and is called only when the catalog has such people. Without
    it, they are reported as unresolved. The catalog of the result carries the IDs found.

    With `cache_dir` (syncer.load.cache), each data file's checked contents are kept there and reused while
    the file and everything its meaning depends on stay the same; the result is the same either way.

    With `keep_parsed`, the result keeps each data file's bytes and tree as parsed (`parsed`; not a file the
    check cache answered for), for a caller that reads the files again (the sheet commands' index)."""
    with paused_gc():
        return _validate_root(root, root_display, people, cache_dir, {} if keep_parsed else None)


class _PeopleLookup:
    """The people cache, read once and only when asked for (a catalog without email-only people never asks
    for it). A cache that cannot be reached (no git work tree, the remote unreachable) is a warning:
    email-only people are then reported as unresolved. A damaged one is an error."""

    def __init__(self, shown: str, settings: Settings, people: PeopleSourceFactory | None) -> None:
        self.shown, self.settings, self.people = shown, settings, people
        self.problems: list[Problem] = []  # errors about the cache itself (they stop the data checks)
        self.warnings: list[Problem] = []
        self._loaded = False
        self._cache: PeopleCache | None = None

    def cache(self) -> PeopleCache | None:
        if not self._loaded:
            self._loaded = True
            self._cache = self._read()
        return self._cache

    def _read(self) -> PeopleCache | None:
        if self.people is None:
            return None
        where = display_path(self.shown, CATALOG_FILE)
        source: PeopleSource | None = None
        try:
            source = self.people(self.settings)
            return read_cache(source)
        except StateError as exc:
            if source is None or isinstance(exc, StateUnavailable):
                self.warnings.append(Problem(where, 1, 1, "warning", "people-cache", _unreachable(source, exc)))
            else:
                self.problems.append(Problem(where, 1, 1, "error", "people-cache", exc.message))
        return None

    def email_check(self, user_id_type: str) -> Callable[[str, str], tuple[str, str] | None]:
        """The check of an email-only person, reading the people cache when first asked (made once)."""
        made: list[Callable[[str, str], tuple[str, str] | None]] = []

        def check(alias: str, email: str) -> tuple[str, str] | None:
            if not made:
                made.append(email_check(self.cache(), user_id_type=user_id_type))
            return made[0](alias, email)

        return check


def _unreachable(source: PeopleSource | None, exc: Exception) -> str:
    where = f" of {source.location}" if source is not None else ""
    return f"could not read the people cache{where} ({exc}); people given by email only are reported as unresolved"


def _validate_root(
    root: Path,
    root_display: str | None,
    people: PeopleSourceFactory | None,
    cache_dir: Path | None,
    parsed: dict[Path, tuple[bytes, Node]] | None,
) -> ValidationResult:
    shown = root_display if root_display is not None else root.as_posix()
    if not root.is_dir():
        problem = Problem(
            shown,
            1,
            1,
            "error",
            "missing-root",
            "metrics root not found: pass --root DIR, or run `syncer init DIR` to create one",
        )
        return ValidationResult(root, Settings(), Catalog(), None, [problem], ())
    read = SettingsCache(settings_path(cache_dir, root)) if cache_dir is not None else None
    settings, problems = load_settings(root, shown, cache=read)
    uid = settings.target.user_id_type
    lookup = _PeopleLookup(shown, settings, people)
    built = CatalogCache(entries_dir(cache_dir, root, settings), settings) if cache_dir is not None else None
    if built is not None and read is not None and read.failure is not None:
        built.refused(read.failure)  # one refused write a run, said once
    catalog, catalog_problems = load_catalog(root, shown, settings, email_check=lookup.email_check(uid), cache=built)
    email_only = any(p.id is None and p.email for p in catalog.people.values())
    cache = lookup.cache() if email_only else None
    catalog_problems += lookup.problems
    problems += catalog_problems + lookup.warnings
    emails = email_people(catalog, cache, user_id_type=uid)
    if emails.resolved:  # the IDs of people given by email, as looked up by `syncer people resolve`
        catalog = replace(
            catalog,
            people={
                a: PersonDef(a, emails.resolved[a], p.email) if a in emails.resolved else p
                for a, p in catalog.people.items()
            },
        )
    if emails.note:
        problems.append(Problem(display_path(shown, CATALOG_FILE), 1, 1, "warning", "people-cache", emails.note))
    checker = DataChecker(settings=settings, catalog=catalog, emails=emails)
    paths, linked = walk_files(root, exclude=settings.exclude, skip=NOT_DATA)
    for link in linked:
        checker.problems.append(
            symlink_problem(link, display_path(shown, link.relative_to(root).as_posix()), "directory")
        )
    files: list[str] = []
    catalog_ok = not catalog_problems
    checks = None
    if cache_dir is not None and catalog_ok:
        assert built is not None and built.last_key is not None  # a catalog without problems was looked up
        checks = CheckCache.open(cache_dir, root, settings, built.last_key, emails)
        if built is not None and built.failure is not None:
            checks.refused(built.failure)
    for path in paths:
        display = display_path(shown, path.relative_to(root).as_posix())
        files.append(display)
        if catalog_ok:
            checker.merge(_checked(checker, checks, path, display, settings.max_file_bytes, parsed))
        else:  # the data cannot be checked without a catalog: only whether each file loads
            from syncer.load.yamlparse import load_tree

            checker.problems += load_tree(path, display, max_bytes=settings.max_file_bytes)[1]
    if catalog_ok:
        checker.finish()
    if checks is not None:
        checks.prune(files)
    problems += checker.problems
    problems = sort_problems(problems)
    ok = not any(p.severity == "error" for p in problems)
    closed = catalog.closed_semester_ids()
    desired = None
    if ok:
        desired = DesiredState(
            values=checker.values, rows=checker.rows, catalog=catalog, closed_semesters=closed, files=tuple(files)
        )
    closed_count = sum(1 for k in checker.values if k.semester in closed) if closed else 0
    return ValidationResult(
        root,
        settings,
        catalog,
        desired,
        problems,
        tuple(files),
        value_count=len(checker.values),
        closed_value_count=closed_count,
        cached_files=checks.hits if checks is not None else 0,
        cache_trouble=checks.trouble if checks is not None else None,
        parsed=parsed if parsed is not None else {},
    )


def _checked(
    checker: DataChecker,
    cache: CheckCache | None,
    path: Path,
    display: str,
    max_bytes: int,
    parsed: dict[Path, tuple[bytes, Node]] | None,
) -> FileResult:
    """One data file, checked on its own: from the cache when its bytes and context are known, else loaded
    and checked (and kept). A file that does not load is its load problem and is not checked further."""
    data = read_tree_bytes(path, display, max_bytes=max_bytes)
    if isinstance(data, Problem):
        return FileResult(display, problems=[data])
    digest = ""
    if cache is not None:
        digest = cache.digest(data)
        hit = cache.get(display, digest)
        if hit is not None:
            return hit
    from syncer.load.yamlparse import parse_tree  # the YAML parser: not on a run the cache answers for

    tree, problems = parse_tree(data, display)
    if problems and tree is None:  # it did not parse (an empty file is no tree and no problem)
        return FileResult(display, problems=problems)
    if parsed is not None and tree is not None:
        parsed[path] = (data, tree)
    result = checker.check_one(tree, display)
    result.problems[:0] = problems
    if cache is not None:
        cache.put(display, digest, result)
    return result
