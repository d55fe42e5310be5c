"""The verdict without jsonschema: on the shipped schemas it is jsonschema's own, on every example and
fixture file and on their mutations (each node replaced, each key removed, a key added); a keyword or a
case it does not know is left to jsonschema (Unsure), never guessed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from syncer.load import schema as schema_module
from syncer.load.schema import load_schema, typed, validator
from syncer.load.schemavalid import ANNOTATIONS, KEYWORDS, Unsure, is_valid
from syncer.load.yamlparse import parse
from tests.paths import REPO

SCHEMAS = ("syncer", "catalog", "data")
MUTANTS: list[Any] = [
    None,
    "",
    "x",
    "a b",
    "ou_1",
    "@",
    "a@b",
    0,
    -1,
    1.0,
    2.5,
    1e400,
    True,
    [],
    ["x", "x"],
    {},
    {"k": 1},
]


def _schema_of(path: Path) -> str:
    if path.name in ("syncer.yaml", "catalog.yaml", "rules.yaml"):
        return path.stem
    return {"settings": "syncer", "catalog": "catalog"}.get(path.parent.name, "data")


def _corpus() -> list[tuple[str, Path, Any]]:
    files = sorted([*(REPO / "metrics").rglob("*.yaml"), *(REPO / "tests" / "fixtures").rglob("*.yaml")])
    found = []
    for path in files:
        try:
            tree = parse(path.read_bytes(), path.name)
        except Exception:  # syntax-error fixtures and the like: nothing to check
            continue
        found.append((_schema_of(path), path, typed(tree)))
    return found


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, sub in node.items():
            yield from _paths(sub, (*at, key))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _paths(sub, (*at, i))


def _mutations(tree: Any) -> Iterator[Any]:
    yield tree
    for n, path in enumerate(_paths(tree)):
        for mutant in (MUTANTS[n % len(MUTANTS)], MUTANTS[(n * 7 + 3) % len(MUTANTS)]):
            yield _replaced(tree, path, lambda _old, m=mutant: copy.deepcopy(m))
        yield _replaced(tree, path, lambda old: {**old, "bad key": "v"} if isinstance(old, dict) else old)
        if path:
            yield _removed(tree, path)


def _replaced(tree: Any, path: tuple[Any, ...], change: Any) -> Any:
    if not path:
        return change(tree)
    out = copy.copy(tree)
    out[path[0]] = _replaced(tree[path[0]], path[1:], change)
    return out


def _removed(tree: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        out = copy.copy(tree)
        del out[path[0]]
        return out
    out = copy.copy(tree)
    out[path[0]] = _removed(tree[path[0]], path[1:])
    return out


def _keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, sub in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for each in sub.values():
                    found |= _keywords(each)
            elif key not in ANNOTATIONS and key not in ("enum", "const", "required"):
                found |= _keywords(sub)
    elif isinstance(schema, list):
        for sub in schema:
            found |= _keywords(sub)
    return found


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_shipped_schemas_use_only_keywords_it_knows(name: str) -> None:
    unknown = _keywords(load_schema(name)) - set(KEYWORDS) - ANNOTATIONS - {"then", "else"}
    assert unknown == set()


def test_its_verdict_is_jsonschemas_on_the_files_and_their_mutations() -> None:
    compared = {True: 0, False: 0}
    for name, path, tree in _corpus():
        schema, reference = load_schema(name), validator(name)
        for instance in _mutations(tree):
            expected = not any(reference.iter_errors(instance))
            try:
                verdict = is_valid(schema, instance)
            except Unsure:
                continue
            assert verdict == expected, (path, instance)
            compared[verdict] += 1
    assert compared[True] > 200 and compared[False] > 2000, compared


CASES: list[tuple[dict[str, Any], Any]] = [
    ({"const": 1}, True),
    ({"const": True}, 1),
    ({"const": 1}, 1.0),
    ({"enum": ["1", 1]}, 1.0),
    ({"enum": [False]}, 0),
    ({"const": None}, None),
    ({"maxLength": 2}, "abc"),
    ({"minItems": 1}, []),
    ({"minItems": 1}, ["a"]),
    ({"minItems": 1}, "a"),
    ({"maxLength": 2}, "ab"),
    ({"maxLength": 2}, 123),
    ({"uniqueItems": True}, ["a", "b", "a"]),
    ({"uniqueItems": True}, ["a", "b"]),
    ({"uniqueItems": False}, ["a", "a"]),
    ({"maximum": 5}, 5.5),
    ({"maximum": 5}, True),
    ({"exclusiveMinimum": 0}, 0),
    ({"exclusiveMinimum": 0}, 0.001),
    ({"exclusiveMinimum": 0}, "0"),
    ({"type": "integer"}, 2.0),
    ({"type": ["string", "null"]}, None),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {"c": 1}),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {"a": 1}),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {"b": 1}),
    ({"additionalProperties": {"type": "string"}, "properties": {"n": {}}}, {"n": 1, "m": 2}),
]


@pytest.mark.parametrize(("schema", "instance"), CASES)
def test_each_keyword_answers_as_jsonschema(schema: dict[str, Any], instance: Any) -> None:
    expected = jsonschema.Draft202012Validator(schema).is_valid(instance)
    assert is_valid(schema, instance) == expected


def test_what_it_does_not_know_is_left_to_jsonschema() -> None:
    for schema, instance in (
        ({"not": {"type": "string"}}, 1),
        ({"format": "uri"}, "x"),
        ({"enum": [[1]]}, [1]),
        ({"uniqueItems": True}, [1, True]),
        ({"type": "decimal"}, 1),
        ({"patternProperties": {}, "additionalProperties": False}, {"a": 1}),
    ):
        with pytest.raises(Unsure):
            is_valid(schema, instance)


def test_check_asks_jsonschema_when_unsure(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsure(schema: Any, instance: Any) -> bool:
        raise Unsure("a keyword of the future")

    monkeypatch.setattr(schema_module, "is_valid", unsure)
    text = (REPO / "metrics" / "syncer.yaml").read_bytes()
    assert schema_module.check("syncer", parse(text, "syncer.yaml"), "syncer.yaml") == []
    (problem,) = schema_module.check("syncer", parse(text + b"surplus: 1\n", "syncer.yaml"), "syncer.yaml")
    assert problem.code == "schema" and "unknown key(s) 'surplus'" in problem.message
