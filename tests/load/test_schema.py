from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.load.data import DataChecker
from syncer.load.schema import check, schema_files, schema_url, typed, validator
from syncer.load.validate import validate_root
from syncer.load.yamlparse import parse
from tests.paths import REPO, SCHEMAS


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_each_schema_is_valid_against_its_metaschema(path: Path) -> None:
    schema = json.loads(path.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema["$id"] == schema_url(path.name)  # resolvable once the version's tag is pushed
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _walk_properties(node: Any, path: str) -> list[str]:
    missing = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if not (isinstance(sub, dict) and sub.get("title") and sub.get("description")):
                missing.append(f"{path}.{name}")
        for key, sub in node.items():
            missing += _walk_properties(sub, f"{path}.{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            missing += _walk_properties(sub, f"{path}[{i}]")
    return missing


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_every_property_has_a_title_and_description(path: Path) -> None:
    assert _walk_properties(json.loads(path.read_text()), path.name) == []


def test_example_files_pass_their_schemas_as_an_editor_reads_them() -> None:
    for name, rel in [("syncer", "syncer.yaml"), ("catalog", "catalog.yaml"), ("rules", "rules.yaml")]:
        tree = parse((REPO / "metrics" / rel).read_bytes(), rel)
        assert check(name, tree, rel) == []
    for path in (REPO / "metrics").rglob("*.yaml"):
        if path.name not in ("syncer.yaml", "catalog.yaml", "rules.yaml"):
            assert list(validator("data").iter_errors(typed(parse(path.read_bytes(), "x")))) == []


# The data-file checks are hand-written for speed; they must refuse every document the data schema refuses.
SCALARS = st.sampled_from(["1", "40%", "x", "~", "'q'", "[]", "{}", "[1]", "{a: 1}", "true"])
KEYS = st.sampled_from(["alice", "revenue", "target", "semester", "reviewees", "other"])


def _doc(draw: Any, depth: int) -> str:
    if depth == 0:
        return str(draw(SCALARS))
    n = draw(st.integers(0, 3))
    items = []
    for _ in range(n):
        items.append(f"{draw(KEYS)}: {_doc(draw, depth - 1)}")
    return "{" + ", ".join(items) + "}"


@st.composite
def documents(draw: Any) -> str:
    top = [f"semester: {draw(st.sampled_from(['2026-H2', '[]', '~', '{}']))}"]
    if draw(st.booleans()):
        top.append(f"reviewees: {_doc(draw, draw(st.integers(0, 3)))}")
    if draw(st.booleans()):
        top.append(f"{draw(KEYS)}: 1")
    return "\n".join(draw(st.permutations(top)))


@settings(max_examples=300, deadline=None)
@given(documents())
def test_hand_written_data_checks_refuse_what_the_schema_refuses(text: str) -> None:
    from syncer.errors import LoadError

    try:
        tree = parse(text.encode(), "d.yaml")
    except LoadError:
        return
    schema_errors = list(validator("data").iter_errors(typed(tree)))
    result = validate_root(REPO / "tests" / "fixtures" / "root")
    checker = DataChecker(settings=result.settings, catalog=result.catalog)
    checker.check_file(tree, "d.yaml")
    errors = [p for p in checker.problems if p.severity == "error"]
    if schema_errors:
        assert errors, f"schema refuses {text!r} ({schema_errors[0].message}) but the checks accept it"


def test_a_rule_is_the_same_in_syncer_yaml_and_rules_yaml() -> None:
    """The rules may be in either file: one definition, copied (editors read each schema file alone)."""
    settings = json.loads((SCHEMAS / "syncer.schema.json").read_text())["properties"]["rules"]
    assert json.loads((SCHEMAS / "rules.schema.json").read_text())["properties"]["rules"] == settings
