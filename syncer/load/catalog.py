"""catalog.yaml: semesters, metrics with their fields, people aliases and metric templates. Schema checks, then
the catalog's own rules (aliases that look like IDs, duplicate IDs, one weight field, `max_length` on text,
templates naming known metrics: syncer.load.templates)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from syncer.errors import LoadError
from syncer.fieldtypes import field_type, unstorable_refusal
from syncer.load.catalogcache import BuiltCatalog
from syncer.load.files import CATALOG_FILE, display_path
from syncer.load.schema import check
from syncer.load.settings import Settings
from syncer.load.templates import load_templates
from syncer.load.yamlnodes import MapNode, Node, Scalar, text_of
from syncer.load.yamlread import problem_of, read_tree_bytes
from syncer.model import Catalog, FieldDef, MetricDef, PersonDef, SemesterDef
from syncer.problems import Problem

if TYPE_CHECKING:
    from syncer.load.catalogcache import CatalogCache

#: Checks an email-only person of the catalog: (alias, email) -> (problem code, message) or None when fine.
EmailCheck = Callable[[str, str], "tuple[str, str] | None"]

SEMESTER_ID = re.compile(r"[0-9]{1,19}\Z")
RAW_ID = {"open_id": re.compile(r"ou_[0-9a-f]{32}\Z"), "union_id": re.compile(r"on_[0-9a-f]{32}\Z")}
ANY_RAW_ID = re.compile(r"o[un]_[0-9a-f]{32}\Z")


def load_catalog(
    root: Path,
    root_display: str,
    settings: Settings,
    *,
    email_check: EmailCheck | None = None,
    cache: CatalogCache | None = None,
) -> tuple[Catalog, list[Problem]]:
    """catalog.yaml. `email_check` looks at people given by email only (see syncer.people): its answer
    becomes a problem at the person's line. With `cache`, the catalog an earlier run built from the same
    bytes (and found without problems) is used as it is, and a catalog without problems is kept there; the
    email check runs either way."""
    path = root / CATALOG_FILE
    display = display_path(root_display, CATALOG_FILE)
    if not path.is_file() and not path.is_symlink():  # a link, even a dangling one, is reported as a link
        return Catalog(), [
            Problem(
                display,
                1,
                1,
                "error",
                "missing-catalog",
                "catalog.yaml not found; run `syncer init` or create it (see the README)",
            )
        ]
    data = read_tree_bytes(path, display, max_bytes=settings.max_file_bytes)
    if isinstance(data, Problem):
        return Catalog(), [data]
    built = cache.get(data) if cache is not None else None
    if built is not None:
        return built.catalog, email_problems(built, display, email_check)
    from syncer.load.yamlparse import parse_tree  # the YAML parser: not on a run the cache answers for

    tree, problems = parse_tree(data, display)
    if problems:
        return Catalog(), problems
    catalog, problems, email_only = _catalog_from_tree(tree, display, settings)
    built = BuiltCatalog(catalog, tuple(email_only))
    if cache is not None and not problems:
        cache.put(data, built)
    return catalog, problems + email_problems(built, display, email_check)


def email_problems(built: BuiltCatalog, display: str, email_check: EmailCheck | None) -> list[Problem]:
    """What `email_check` says of each person given by email only, at the person's alias."""
    if email_check is None:
        return []
    found = []
    people = built.catalog.people
    for alias, line, col in built.email_only:
        email = people[alias].email
        assert email is not None
        said = email_check(alias, email)
        if said is not None:
            found.append(Problem(display, line, col, "error", said[0], said[1], email))
    return found


def catalog_from_text(text: str, display: str, settings: Settings) -> tuple[Catalog, list[Problem]]:
    """The catalog a text would give, with its problems (for checking an edit before it is written)."""
    from syncer.load.yamlparse import parse

    duplicates: list[LoadError] = []
    try:
        tree = parse(text, display, duplicates=duplicates)
    except LoadError as exc:
        return Catalog(), [problem_of(exc, display)]
    if duplicates:
        return Catalog(), [problem_of(d, display) for d in duplicates]
    catalog, problems, _email_only = _catalog_from_tree(tree, display, settings)
    return catalog, problems


#: Where each person given by email only is written: (alias, line, col) of the alias.
EmailOnly = list[tuple[str, int, int]]


def _catalog_from_tree(tree: Node | None, display: str, settings: Settings) -> tuple[Catalog, list[Problem], EmailOnly]:
    problems = check("catalog", tree, display) + unstorable_scalars(tree, display)
    if problems or not isinstance(tree, MapNode):
        if tree is None:
            problems = [
                Problem(display, 1, 1, "error", "empty-file", "catalog.yaml is empty; it needs semesters: and metrics:")
            ]
        return Catalog(), problems, []
    return _build_catalog(tree, display, settings, problems)


def unstorable_scalars(tree: Node | None, display: str) -> list[Problem]:
    """`bad-character` at every key and value of a file that holds a character no value may hold (see
    syncer.fieldtypes.UNSTORABLE): the catalog's aliases, IDs and emails are sent to Feishu or kept in the
    state (the people cache), so they are refused as a data file's values are."""
    found: list[Problem] = []
    todo: list[tuple[str, Node]] = [("this value", tree)] if tree is not None else []
    while todo:
        what, node = todo.pop()
        if isinstance(node, Scalar):
            bad = unstorable_refusal(node.text, what=what) if node.text is not None else None
            if bad is not None:
                found.append(
                    Problem(display, node.line, node.col, "error", bad.code, bad.message, node.text, bad.detail)
                )
        elif isinstance(node, MapNode):
            for key, value in node.items:
                todo += [("this key", key), ("this value", value)]
        else:
            todo += [("this value", item) for item in node.items]
    return sorted(found)


def _build_catalog(
    tree: MapNode, display: str, settings: Settings, problems: list[Problem]
) -> tuple[Catalog, list[Problem], EmailOnly]:
    def err(node: Node, code: str, message: str, value: str | None = None) -> None:
        problems.append(Problem(display, node.line, node.col, "error", code, message, value))

    semesters: dict[str, SemesterDef] = {}
    sem_node = tree.get("semesters")
    assert isinstance(sem_node, MapNode)
    seen_sem: dict[str, Scalar] = {}
    for key, node in sem_node.items:
        alias = key.text or ""
        id_node = node.get("id") if isinstance(node, MapNode) else node
        closed_node = node.get("closed") if isinstance(node, MapNode) else None
        sid = text_of(id_node) or ""
        if SEMESTER_ID.match(alias):
            err(
                key,
                "alias-looks-like-id",
                f"semester alias {alias!r} looks like a semester ID; "
                "use a name such as 2026-H2 so that data files can't confuse the two",
            )
        if sid in seen_sem:
            err(
                key,
                "duplicate-id",
                f"semester ID {sid} is also the ID of {seen_sem[sid].text!r} "
                f"(line {seen_sem[sid].line}); keep one alias per semester",
            )
        seen_sem[sid] = key
        dates = [_date(node.get(k), err) if isinstance(node, MapNode) else None for k in ("start", "end")]
        semesters[alias] = SemesterDef(alias, sid, text_of(closed_node) in ("true", "True", "TRUE"), *dates)

    metrics: dict[str, MetricDef] = {}
    seen_metric: dict[str, Scalar] = {}
    # Feishu's field library gives each field ID one type, whatever metric uses it: the first metric that
    # types a field ID sets it for the catalog.
    typed: dict[str, tuple[str, str, Scalar]] = {}  # field ID -> (type, metric alias, its field key)
    met_node = tree.get("metrics")
    assert isinstance(met_node, MapNode)
    for key, node in met_node.items:
        assert isinstance(node, MapNode) and key.text is not None
        mid = text_of(node.get("id")) or ""
        if mid in seen_metric:
            err(
                key,
                "duplicate-id",
                f"metric ID {mid} is also the ID of {seen_metric[mid].text!r} "
                f"(line {seen_metric[mid].line}); keep one alias per metric",
            )
        seen_metric[mid] = key
        fields: dict[str, FieldDef] = {}
        seen_field: dict[str, Scalar] = {}
        weights: list[Scalar] = []
        fnode = node.get("fields")
        assert isinstance(fnode, MapNode)
        for fkey, fdef in fnode.items:
            assert isinstance(fdef, MapNode) and fkey.text is not None
            fid = text_of(fdef.get("id")) or ""
            ftype = text_of(fdef.get("type")) or ""  # one of FIELD_TYPES: the schema allows no other
            if fid in seen_field:
                err(
                    fkey,
                    "duplicate-id",
                    f"field ID {fid} is also the ID of {seen_field[fid].text!r} "
                    f"(line {seen_field[fid].line}) in metric {key.text!r}; keep one alias per field",
                )
            seen_field[fid] = fkey
            if fid and ftype:
                first = typed.setdefault(fid, (ftype, key.text, fkey))
                if first[0] != ftype:
                    type_node = fdef.get("type")
                    err(
                        type_node if isinstance(type_node, Scalar) else fkey,
                        "field-type",
                        f"field ID {fid} is of type {first[0]} in metric {first[1]!r} (line {first[2].line}): "
                        "Feishu's field library gives a field one type in every metric that uses it; give this "
                        "one the same type, or use the ID of another field",
                    )
            role = text_of(fdef.get("role"))
            max_len_node = fdef.get("max_length")
            if role == "weight":
                weights.append(fkey)
                if not field_type(ftype).numeric:
                    err(fkey, "weight-type", f"the weight field {fkey.text!r} must be of type percentage")
            if max_len_node is not None and not field_type(ftype).limited:
                err(max_len_node, "max-length-type", "max_length applies to text fields only; remove it")
            fields[fkey.text] = FieldDef(
                alias=fkey.text,
                id=fid,
                type=ftype,
                role=role,
                max_length=_int(text_of(max_len_node) or "1000"),
                required=text_of(fdef.get("required")) in ("true", "True", "TRUE"),
                input_setting=text_of(fdef.get("input_setting")),
            )
        for extra in weights[1:]:
            err(
                extra,
                "two-weights",
                f"metric {key.text!r} has more than one field with role: weight "
                f"({weights[0].text!r} at line {weights[0].line}); keep one",
            )
        metrics[key.text] = MetricDef(key.text, mid, fields)

    people: dict[str, PersonDef] = {}
    email_only: EmailOnly = []
    ppl_node = tree.get("people")
    shape = RAW_ID.get(settings.target.user_id_type)
    if isinstance(ppl_node, MapNode):
        for key, node in ppl_node.items:
            assert key.text is not None
            id_node = node.get("id") if isinstance(node, MapNode) else node
            pid = text_of(id_node)
            email = text_of(node.get("email")) if isinstance(node, MapNode) else None
            if ANY_RAW_ID.match(key.text):
                err(
                    key,
                    "alias-looks-like-id",
                    "this alias looks like a raw user ID; data files could not "
                    "tell the two apart: use a name (e.g. the person's email name)",
                )
            if pid is not None and shape is not None and not shape.match(pid) and id_node is not None:
                err(
                    id_node,
                    "bad-user-id",
                    f"{{value}} is not a well-formed {settings.target.user_id_type} "
                    f"(expected {shape.pattern.removesuffix(chr(92) + 'Z')})",
                    pid,
                )
            if pid is None and email is not None:
                email_only.append((key.text, key.line, key.col))
            people[key.text] = PersonDef(key.text, pid, email)  # id None: given by email only
    templates, template_problems = load_templates(tree.get("templates"), metrics, display)
    problems += template_problems
    return Catalog(semesters=semesters, metrics=metrics, people=people, templates=templates), problems, email_only


def _int(text: str) -> int:
    """A whole number as an editor reads it (10, 10.0, 1e1); the schema has already refused fractions."""
    from decimal import Decimal

    return int(Decimal(text))


def _date(node: Node | None, err: Callable[[Node, str, str], None]) -> str | None:
    """A semester's start or end (the schema has checked its shape): a real date, or an error at it."""
    text = text_of(node)
    if text is None or node is None:
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        err(node, "bad-date", f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-07-01")
        return None
    return text
