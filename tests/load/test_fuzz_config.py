"""Broken syncer.yaml and catalog.yaml: whatever the files say, loading them gives settings and problems
located at file:line:col, never an exception. Hypothesis changes one node of the example's files at a time,
to scalars a YAML editor would type (unquoted huge integers, URLs with bad ports, IPv6 hosts, floats that
overflow) or to other shapes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.load.catalog import load_catalog
from syncer.load.settings import load_settings
from syncer.load.validate import validate_root
from tests.example import EXAMPLE

RAW_SCALARS = [
    "9" * 5000,  # past Python's int-conversion limit
    "-" + "9" * 4400,
    "1e999",
    "0x10",
    "0o17",
    ".inf",
    "-.nan",
    "~",
    "yes",
    "https://open.feishu.cn:abc",
    "https://[::1",
    "http://[::1]:99999",
    "http://example.com",
    "https://user:pw@open.feishu.cn",
    '"\\e[31m::warning::x"',
    "'40'",
    "0",
    "-1",
    "1.5",
    "{}",
    "[]",
    "[1, [2, {a: b}]]",
]


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


@st.composite
def broken_yaml(draw: Callable[[Any], Any], text: str) -> str:
    """`text` (a YAML mapping) with one node replaced by a raw scalar, or a key dropped or renamed."""
    doc = yaml.safe_load(text)
    path = draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    action = draw(st.sampled_from(["raw", "raw", "drop", "rename"]))
    last = path[-1]
    if action == "drop" and isinstance(parent, dict):
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["typo", "", "id", "9" * 30]))] = parent.pop(last)
    else:
        parent[last] = "__RAW__"
    dumped = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return dumped.replace("__RAW__", draw(st.sampled_from(RAW_SCALARS)))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fuzz") / "metrics"
    shutil.copytree(EXAMPLE, dest)
    return dest


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_broken_syncer_yaml_gives_located_problems(root: Path, data: st.DataObject) -> None:
    (root / "syncer.yaml").write_text(data.draw(broken_yaml((EXAMPLE / "syncer.yaml").read_text())))
    shown = "metrics"
    _, problems = load_settings(root, shown)
    for p in problems:
        assert p.file == "metrics/syncer.yaml" and p.line >= 1 and p.col >= 1, p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_broken_catalog_gives_located_problems(root: Path, data: st.DataObject) -> None:
    shutil.copy(EXAMPLE / "syncer.yaml", root / "syncer.yaml")
    (root / "catalog.yaml").write_text(data.draw(broken_yaml((EXAMPLE / "catalog.yaml").read_text())))
    settings_, _ = load_settings(root, "metrics")
    _, problems = load_catalog(root, "metrics", settings_)
    for p in problems:
        assert p.file == "metrics/catalog.yaml" and p.line >= 1 and p.col >= 1, p


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_broken_catalog_or_settings_never_breaks_validation(root: Path, data: st.DataObject) -> None:
    which = data.draw(st.sampled_from(["syncer.yaml", "catalog.yaml"]))
    other = "catalog.yaml" if which == "syncer.yaml" else "syncer.yaml"
    shutil.copy(EXAMPLE / other, root / other)
    (root / which).write_text(data.draw(broken_yaml((EXAMPLE / which).read_text())))
    result = validate_root(root, root_display="metrics")
    assert all(p.line >= 1 for p in result.problems)
