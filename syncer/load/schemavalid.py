"""Whether a tree is valid under one of syncer's JSON Schemas, without importing jsonschema (40-55 ms of
imports with `referencing` and `attrs`, paid by every `syncer validate` a pre-commit hook or an editor runs).

`is_valid` answers exactly as jsonschema's Draft 2020-12 validator with its format checker would, for the
keywords syncer's schemas use; a keyword or a case it does not know raises `Unsure`, and the caller asks
jsonschema. Only the verdict is made here: the messages of an invalid tree are jsonschema's
(`syncer.load.schema.check`). tests/load/test_schemavalid.py holds the two verdicts equal on the example,
the fixtures and their mutations, and holds that the shipped schemas use no keyword unknown here."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

#: Keywords that say nothing about validity.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "markdownDescription", "default", "examples"}
)


class Unsure(Exception):
    """The schema or the instance is outside what is_valid knows: ask jsonschema."""


def is_valid(schema: Any, instance: Any) -> bool:
    if schema is True or schema == {}:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise Unsure("a schema that is neither an object nor a boolean")
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS or keyword in ("then", "else"):  # then/else: read with "if"
            continue
        check = KEYWORDS.get(keyword)
        if check is None:
            raise Unsure(f"the keyword {keyword!r}")
        if not check(value, instance, schema):
            return False
    return True


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "null":
        return instance is None
    if name == "boolean":
        return isinstance(instance, bool)
    if isinstance(instance, bool):  # a bool is never a number in JSON Schema
        return False
    if name == "number":
        return isinstance(instance, int | float)
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    raise Unsure(f"the type {name!r}")


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's equality for scalars: a string equals only a string, a bool only a bool."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list | dict) or isinstance(two, list | dict):
        raise Unsure("an enum or const of arrays or objects")
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return bool(one == two)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type(want: Any, instance: Any, _: dict[str, Any]) -> bool:
    return any(_is_type(instance, name) for name in (want if isinstance(want, list) else [want]))


def _properties(props: dict[str, Any], instance: Any, _: dict[str, Any]) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(is_valid(sub, instance[key]) for key, sub in props.items() if key in instance)


def _additional(extra: Any, instance: Any, schema: dict[str, Any]) -> bool:
    if not isinstance(instance, dict):
        return True
    if "patternProperties" in schema:
        raise Unsure("patternProperties")
    known = schema.get("properties", {})
    return all(is_valid(extra, value) for key, value in instance.items() if key not in known)


def _unique(flag: Any, instance: Any, _: dict[str, Any]) -> bool:
    if not flag or not isinstance(instance, list):
        return True
    if not all(isinstance(item, str) for item in instance):
        raise Unsure("uniqueItems over items that are not strings")
    return len(set(instance)) == len(instance)


def _if(test: Any, instance: Any, schema: dict[str, Any]) -> bool:
    branch = schema.get("then", True) if is_valid(test, instance) else schema.get("else", True)
    return is_valid(branch, instance)


def _format(name: Any, instance: Any, _: dict[str, Any]) -> bool:
    if name not in ("email", "idn-email"):
        raise Unsure(f"the format {name!r}")
    return not isinstance(instance, str) or "@" in instance


def _number(instance: Any) -> bool:
    return isinstance(instance, int | float) and not isinstance(instance, bool)


KEYWORDS: dict[str, Callable[[Any, Any, dict[str, Any]], bool]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda names, inst, _: not isinstance(inst, dict) or all(n in inst for n in names),
    "minProperties": lambda n, inst, _: not isinstance(inst, dict) or len(inst) >= n,
    "propertyNames": lambda sub, inst, _: not isinstance(inst, dict) or all(is_valid(sub, k) for k in inst),
    "items": lambda sub, inst, _: not isinstance(inst, list) or all(is_valid(sub, i) for i in inst),
    "uniqueItems": _unique,
    "minItems": lambda n, inst, _: not isinstance(inst, list) or len(inst) >= n,
    "anyOf": lambda subs, inst, _: any(is_valid(sub, inst) for sub in subs),
    "if": _if,
    "enum": lambda values, inst, _: any(_equal(v, inst) for v in values),
    "const": lambda value, inst, _: _equal(value, inst),
    "pattern": lambda p, inst, _: not isinstance(inst, str) or _regex(p).search(inst) is not None,
    "format": _format,
    "minLength": lambda n, inst, _: not isinstance(inst, str) or len(inst) >= n,
    "maxLength": lambda n, inst, _: not isinstance(inst, str) or len(inst) <= n,
    "minimum": lambda n, inst, _: not _number(inst) or inst >= n,
    "maximum": lambda n, inst, _: not _number(inst) or inst <= n,
    "exclusiveMinimum": lambda n, inst, _: not _number(inst) or inst > n,
}
