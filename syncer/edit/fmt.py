"""`syncer fmt`: the catalog and the data files of a root in one layout (syncer.edit.layout), values kept.

What the layout fixes, beyond indentation and spacing:
- key order: the catalog's sections and entries in the schema's order (`semesters`, `metrics`, `people`;
  `id` first...); in data files `semester` then `reviewees`, and the fields of each metric in the catalog's
  order (fields the catalog does not know keep their place, after those it knows; reviewees and metrics
  keep the order their author chose);
- quoting: IDs made of digits are quoted (they are 64-bit integers: a YAML reader that takes them for
  numbers loses digits), and so are keys and data values that YAML 1.1 or 1.2 would read as something
  other than their text (`no`, `on`, `0123`, `12:30`, `1e3`, `2026-01-01`);
- the fields of a catalog metric: their `{...}` start in one column (as `syncer catalog pull` writes them).

Every file is written only after it reads back as the same values, keys and all; a file that does not
load is refused with its location and nothing at all is written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from syncer.edit.formatted import is_formatted
from syncer.edit.layout import Path as KeyPath
from syncer.edit.layout import Rules, render
from syncer.edit.scalars import digits, key_needs_quotes, misread
from syncer.edit.scan import scan_layout
from syncer.errors import LoadError, SyncerError
from syncer.fieldtypes import FIELD_TYPES
from syncer.fsio import atomic_write
from syncer.load.files import CATALOG_FILE, NOT_DATA, display_path, walk_files
from syncer.load.settings import load_settings
from syncer.load.yamlnodes import MapNode, Node, Scalar, to_plain
from syncer.load.yamlparse import parse
from syncer.load.yamlread import problem_of, read_text_bytes, symlink_problem
from syncer.model import Source
from syncer.problems import Problem, sort_problems

# The schema's order of properties (a test holds them to schemas/catalog.schema.json and data.schema.json).
CATALOG_ORDER = ("semesters", "metrics", "templates", "people")
SEMESTER_ORDER = ("id", "closed", "start", "end")
METRIC_ORDER = ("id", "fields")
FIELD_ORDER = ("id", "type", "role", "max_length", "required", "input_setting")
PERSON_ORDER = ("id", "email")
TEMPLATE_ORDER = ("id", "weight_rule", "dimensions", "input_settings", "scores")
DIMENSION_ORDER = ("id", "weight", "metrics")
DATA_ORDER = ("semester", "reviewees")


def _key_needs_quotes(path: KeyPath, text: str) -> bool:
    return key_needs_quotes(text)


def catalog_rules() -> Rules:
    def order(path: KeyPath) -> Sequence[str]:
        if not path:
            return CATALOG_ORDER
        if len(path) == 2:
            orders = {"semesters": SEMESTER_ORDER, "metrics": METRIC_ORDER, "people": PERSON_ORDER}
            return {**orders, "templates": TEMPLATE_ORDER}.get(str(path[0]), ())
        if len(path) == 4 and path[0] == "metrics" and path[2] == "fields":
            return FIELD_ORDER
        if len(path) == 4 and path[0] == "templates" and path[2] == "dimensions":
            return DIMENSION_ORDER
        return ()

    def is_id(path: KeyPath) -> bool:
        section = path[0] if path else None
        if section in ("semesters", "people"):
            return len(path) == 2 or (len(path) == 3 and path[2] == "id")
        if section in ("metrics", "templates"):
            inner = "fields" if section == "metrics" else "dimensions"
            return (len(path) == 3 and path[2] == "id") or (len(path) == 5 and path[2] == inner and path[4] == "id")
        return False

    def quote(path: KeyPath, text: str) -> bool:
        return is_id(path) and digits(text)

    def aligned(path: KeyPath) -> bool:
        return len(path) == 3 and path[0] == "metrics" and path[2] == "fields"

    return Rules(order=order, quote=quote, quote_key=_key_needs_quotes, aligned=aligned)


@dataclass(frozen=True, slots=True)
class CatalogOrder:
    """What data files take from the catalog: each metric's fields in order, and which fields hold people
    (whose raw IDs are quoted)."""

    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    person_fields: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, tree: Node | None) -> CatalogOrder:
        metrics = tree.get("metrics") if isinstance(tree, MapNode) else None
        if not isinstance(metrics, MapNode):
            return cls()
        fields: list[tuple[str, tuple[str, ...]]] = []
        people: set[tuple[str, str]] = set()
        for mkey, mnode in metrics.items:
            alias = mkey.text or ""
            fnode = mnode.get("fields") if isinstance(mnode, MapNode) else None
            if not isinstance(fnode, MapNode):
                continue
            fields.append((alias, tuple(k.text or "" for k, _ in fnode.items)))
            for fkey, fdef in fnode.items:
                ftype = fdef.get("type") if isinstance(fdef, MapNode) else None
                known = FIELD_TYPES.get(ftype.text or "") if isinstance(ftype, Scalar) else None
                if known is not None and known.person:
                    people.add((alias, fkey.text or ""))
        return cls(tuple(fields), frozenset(people))


def data_rules(catalog: CatalogOrder) -> Rules:
    fields = dict(catalog.fields)

    def order(path: KeyPath) -> Sequence[str]:
        if not path:
            return DATA_ORDER
        if len(path) == 3 and path[0] == "reviewees":
            return fields.get(str(path[2]), ())
        return ()

    def quote(path: KeyPath, text: str) -> bool:
        if path == ("semester",) or (
            len(path) == 4 and path[0] == "reviewees" and (str(path[2]), str(path[3])) in catalog.person_fields
        ):
            return digits(text) or misread(text)
        return misread(text)

    return Rules(order=order, quote=quote, quote_key=_key_needs_quotes)


def format_text(text: str, display: str, rules: Rules) -> str:
    """`text` (a file's content, UTF-8 decoded, no BOM) in the canonical layout. Raises LoadError (located)
    when it does not load, or uses anchors, aliases or directives (which fmt leaves to the author).

    A file already in the layout is told in one pass (syncer.edit.formatted) and returned as it is."""
    return text if is_formatted(text, rules) else reformat(text, display, rules)


def reformat(text: str, display: str, rules: Rules) -> str:
    """format_text the long way, always: the tree, the layout's scan, the rendering and its read-back."""
    tree = parse(text, display)
    layout = scan_layout(text)
    if layout.references:
        line, col, what = layout.references[0]
        name = {"&": "an anchor", "*": "an alias", "%": "a directive"}[what]
        raise LoadError(
            f"syncer fmt does not rewrite files that use anchors, aliases or directives ({name} here); "
            "write the values out, or format this file by hand",
            source=Source(display, line, col),
            code="fmt-unsupported",
        )
    out = render(text, tree, layout, rules)
    if out == text:  # reads back as the tree it was read into
        return out
    try:
        same = to_plain(parse(out, display)) == to_plain(tree)
    except LoadError:
        same = False
    if not same:
        raise SyncerError(
            f"internal error: {display} would not read back as the same values once formatted; nothing was "
            "written. This is a bug in syncer: please report it"
        )
    return out


@dataclass(frozen=True, slots=True)
class FmtFile:
    path: Path
    display: str
    old: str
    new: str
    bom: bool

    @property
    def changed(self) -> bool:
        return self.bom or self.old != self.new


@dataclass(frozen=True, slots=True)
class FmtResult:
    files: tuple[FmtFile, ...]  # every file looked at, in order
    problems: tuple[Problem, ...]  # files refused (nothing is written when there is any)
    skipped: tuple[str, ...]  # paths named that are neither the catalog nor a data file of the root

    @property
    def changed(self) -> tuple[FmtFile, ...]:
        return tuple(f for f in self.files if f.changed)


def format_root(root: Path, *, root_display: str, paths: Sequence[Path] | None = None) -> FmtResult:
    """The catalog and data files of `root` formatted (all of them, or those of `paths` that are), nothing
    written. Paths that are no file of the root (another YAML file of the repository, the settings) are
    returned as skipped: pre-commit hands every staged YAML file."""
    settings, problems = load_settings(root, root_display)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        return FmtResult((), tuple(errors), ())
    data, linked = walk_files(root, exclude=settings.exclude, skip=NOT_DATA)
    catalog_path = root / CATALOG_FILE
    catalog_shown = display_path(root_display, CATALOG_FILE)
    candidates = ([catalog_path] if catalog_path.exists() or catalog_path.is_symlink() else []) + data
    found: list[Problem] = [
        symlink_problem(link, display_path(root_display, link.relative_to(root).as_posix()), "directory")
        for link in linked
    ]
    skipped: list[str] = []
    if paths is not None:
        by_name = {_absolute(c): c for c in candidates}
        chosen = {by_name[_absolute(p)] for p in paths if _absolute(p) in by_name}
        skipped = [p.as_posix() for p in paths if _absolute(p) not in by_name]
        candidates = [c for c in candidates if c in chosen]
        found = []
    catalog_tree: Node | None = None
    texts: list[tuple[Path, str, str, bool]] = []
    for path in candidates:
        display = display_path(root_display, path.relative_to(root).as_posix())
        loaded = _read(path, display, settings.max_file_bytes)
        if isinstance(loaded, Problem):
            found.append(loaded)
        else:
            texts.append((path, display, *loaded))
    read = next((text for path, _display, text, _bom in texts if path == catalog_path), None)
    if read is not None:  # being formatted: read above once (a problem of it is format_text's to report)
        with contextlib.suppress(LoadError):
            catalog_tree = parse(read, catalog_shown)
    elif catalog_path.is_file() and not catalog_path.is_symlink():
        try:  # the order data files follow, even when only they are formatted
            body = read_text_bytes(catalog_path, catalog_shown, max_bytes=settings.max_file_bytes)
            catalog_tree = parse(body.decode("utf-8"), catalog_shown)
        except LoadError as exc:
            if catalog_path not in candidates:
                found.append(problem_of(exc, catalog_shown))
    crules = catalog_rules()
    drules = data_rules(CatalogOrder.of(catalog_tree))
    files: list[FmtFile] = []
    for path, display, text, bom in texts:
        try:
            new = format_text(text, display, crules if path == catalog_path else drules)
        except LoadError as exc:
            found.append(problem_of(exc, display))
            continue
        files.append(FmtFile(path, display, text, new, bom))
    return FmtResult(tuple(files), tuple(sort_problems(found)), tuple(skipped))


def _absolute(path: Path) -> Path:
    """A path made absolute without following links (a link is a file of its own under a root)."""
    return Path(os.path.abspath(path))


def _read(path: Path, display: str, max_bytes: int) -> tuple[str, bool] | Problem:
    """A file's text and whether it starts with a byte order mark (fmt drops it), or why it cannot be read."""
    if path.is_symlink():
        return symlink_problem(path, display)
    try:
        body = read_text_bytes(path, display, max_bytes=max_bytes)
        size = path.stat().st_size
    except (LoadError, OSError) as exc:
        if isinstance(exc, LoadError):
            return problem_of(exc, display)
        return Problem(display, 1, 1, "error", "load", f"cannot read: {exc.strerror or exc}")
    return body.decode("utf-8"), size != len(body)


def write_formatted(result: FmtResult) -> list[FmtFile]:
    """Write the files that change (each atomically); refuses to write anything when a file was refused."""
    if result.problems:
        raise SyncerError("some files could not be formatted (listed above); nothing was written")
    written = []
    for f in result.changed:
        atomic_write(f.path, f.new)
        written.append(f)
    return written
