"""JSON Schema loading (schemas/), validators built once, errors mapped to file:line:col.

The schemas ship inside the wheel as `syncer/schemas/`; in a source checkout they live at the repository's
top-level `schemas/`."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer import __version__
from syncer.load.schemavalid import Unsure, is_valid
from syncer.load.yamlnodes import MapNode, Node, Scalar, SeqNode, locate
from syncer.problems import Problem

if TYPE_CHECKING:
    import jsonschema

#: Where a release's schemas can be read: the repository's files at the release's tag (`v` + the version).
#: Each schema's `$id` is its own address there; a test holds them to syncer's version.
SCHEMA_URL = "https://raw.githubusercontent.com/feishu-syncer/syncer/v{version}/schemas/{name}"

SCHEMA_FILES = {
    "syncer": "syncer.schema.json",
    "catalog": "catalog.schema.json",
    "data": "data.schema.json",
}


def schema_url(name: str, *, version: str = __version__) -> str:
    """The address of the schema file `name` as released with syncer `version`."""
    return SCHEMA_URL.format(version=version, name=name)


def schema_dir() -> Path:
    """Beside the package when installed, else the checkout's; importlib.resources (8 ms of imports) only
    for a package that is not files on disk (a zip)."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "schemas", package.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    from importlib import resources

    return Path(str(resources.files("syncer") / "schemas"))


def schema_files() -> list[Path]:
    """Every JSON Schema syncer ships (settings, catalog, data files, and any others in schemas/)."""
    return sorted(schema_dir().glob("*.schema.json"))


@cache
def schema_bytes(name: str) -> bytes:
    """The schema file `name` as shipped (what a cache of a check against it is keyed by: no JSON read)."""
    return (schema_dir() / SCHEMA_FILES.get(name, f"{name}.schema.json")).read_bytes()


@cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_bytes(name).decode("utf-8"))
    return data


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """jsonschema's validator, imported only for a tree found invalid (for its messages): see schemavalid."""
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_MAX_INT_DIGITS = 4000
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def typed(node: Node | None) -> Any:
    """The tree as an editor reads it (YAML 1.2 core schema: plain ints, floats and booleans typed), so that
    our schema checks agree with what VS Code shows. Only used for checking; syncer keeps the text."""
    if node is None:
        return None
    if isinstance(node, Scalar):
        t = node.text
        if t is None or node.quoted:
            return t
        if t in _BOOL:
            return _BOOL[t]
        if _INT.match(t):
            # Past Python's limit on int conversion an int is only "too big": as a float (inf) the
            # schema says so without syncer converting 4300 digits.
            return int(t) if len(t) <= _MAX_INT_DIGITS else float(t)
        if _FLOAT.match(t):
            return float(t)
        return t
    if isinstance(node, SeqNode):
        return [typed(n) for n in node.items]
    return {k.text: typed(v) for k, v in node.items}


def check(name: str, tree: Node | None, display: str) -> list[Problem]:
    """Validate a tree against schema `name`; every error located at the node it concerns."""
    instance = typed(tree)
    try:
        if is_valid(load_schema(name), instance):
            return []
    except Unsure:
        pass  # jsonschema decides
    problems = []
    for err in validator(name).iter_errors(instance):
        path = list(err.absolute_path)
        line, col = locate(tree, path)
        where = ".".join(str(p) for p in path) or "(top level)"
        if "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
            # A key (an alias) of the wrong shape: point at the key itself and name it (keys are not values).
            key = _key_node(tree, path, err.instance)
            if key is not None:
                line, col = key.line, key.col
            problems.append(
                Problem(
                    display,
                    line,
                    col,
                    "error",
                    "bad-alias",
                    f"{where}: {err.instance!r} is not a valid alias: an alias has no spaces",
                )
            )
            continue
        message, value = _describe(err)
        problems.append(Problem(display, line, col, "error", "schema", f"{where}: {message}", value))
    return problems


def _key_node(tree: Node | None, path: list[Any], key: str) -> Scalar | None:
    node = tree
    for part in path:
        if isinstance(node, MapNode) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, SeqNode) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
        else:
            return None
    return node.key(key) if isinstance(node, MapNode) else None


def _describe(err: jsonschema.ValidationError) -> tuple[str, str | None]:
    """A message for a schema error, with the offending value behind the {value} slot (redactable)."""
    inst = err.instance
    value = None if isinstance(inst, dict | list) or inst is None else str(inst)
    v = err.validator
    if v == "type":
        if inst is None:
            return "is empty (null); write a value", None
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return f"{{value}} must be of type {want}", value
    if v in ("pattern", "format", "minLength", "maxLength", "minimum", "maximum"):
        what = {
            "pattern": f"must match {err.validator_value!r}",
            "format": f"is not a valid {err.validator_value}",
            "minLength": f"must be at least {err.validator_value} character(s) long",
            "maxLength": f"must be at most {err.validator_value} characters long",
            "minimum": f"must be at least {err.validator_value}",
            "maximum": f"must be at most {err.validator_value}",
        }[str(v)]
        return f"{{value}} {what}", value
    return _describe_structure(err), None


def _describe_structure(err: jsonschema.ValidationError) -> str:
    v = err.validator
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
        extra = sorted(set(err.instance) - set(allowed))
        return f"unknown key(s) {', '.join(map(repr, extra))}; allowed: {', '.join(allowed) or 'none'}"
    if v == "required":
        return f"{err.message}; add it"
    if v == "enum":
        return f"must be one of {', '.join(map(repr, err.validator_value))}"  # type: ignore[arg-type]
    if v == "anyOf":
        return "is not of a form allowed here; see the schema's description"
    if v == "minProperties":
        return "is empty; add at least one entry or remove it"
    if v == "propertyNames":
        return "a key here is not a valid alias (an alias has no spaces)"
    return f"fails the schema's {v!r} rule; see the schema"
