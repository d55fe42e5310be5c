"""The built catalog kept between runs (syncer.load.catalogcache): a run whose catalog.yaml, settings, schema
and syncer are the same neither parses the catalog nor walks it against its schema, and gets what a cold
run gets; the checks that depend on the people cache run every time; a changed, invalid, damaged, foreign or
shared entry is never used."""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

import pytest

from syncer.fsio import read_sealed, write_sealed
from syncer.load.catalogcache import CATALOG_MAGIC
from syncer.load.people import CachedPerson, PeopleCache, cache_document
from syncer.load.schema import check
from syncer.load.settings import Settings
from syncer.load.validate import ValidationResult, validate_root
from syncer.load.yamlnodes import Node
from syncer.model import Identity
from syncer.problems import Problem
from tests.example import copy_example
from tests.load.test_cache import outcome

GRACE = "ou_cfa146394857f3a805c1507aed93dd93"


class People:
    """A people cache handed to validation, as the state's store would: grace.lead's email, as `status`."""

    location = "test-state"

    def __init__(self) -> None:
        self.status = "active"

    def read_people(self) -> dict[str, Any]:
        person = CachedPerson("grace.lead@example.com", GRACE if self.status == "active" else None, self.status, "t")  # type: ignore[arg-type]
        return cache_document(PeopleCache(Identity("h", None, "open_id"), {"grace.lead@example.com": person}))


@pytest.fixture
def people() -> People:
    return People()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The example root with grace.lead (a reviewer's person value and a reviewee) given by email only."""
    root = copy_example(tmp_path / "m")
    cat = root / "catalog.yaml"
    text = cat.read_text(encoding="utf-8")
    before = f"grace.lead: {{id: {GRACE}, email: grace.lead@example.com}}"
    assert before in text
    cat.write_text(text.replace(before, "grace.lead: {email: grace.lead@example.com}"), encoding="utf-8")
    return root


def run(root: Path, people: People, cache: Path | None = None) -> ValidationResult:
    return validate_root(root, root_display="m", people=lambda _settings: people, cache_dir=cache)


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The catalog's parses and schema walks that happen from now on (counted, then done as usual)."""
    import syncer.load.catalog as catalog_module
    from syncer.load import yamlparse

    done: list[str] = []
    from syncer.load.yamlparse import parse_tree

    def walked(name: str, tree: Node | None, display: str) -> list[Problem]:
        done.append("walk")
        return check(name, tree, display)

    def parsed(data: bytes, display: str) -> Any:
        if display.endswith("catalog.yaml"):  # the one parser parses the data files and syncer.yaml too
            done.append("parse")
        return parse_tree(data, display)

    monkeypatch.setattr(catalog_module, "check", walked)
    monkeypatch.setattr(yamlparse, "parse_tree", parsed)
    return done


def _filled(root: Path, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """tmp_path/cache filled by one run, and the catalog's parses and walks counted from then on."""
    cache = tmp_path / "cache"
    run(root, people, cache)
    return cache, _counted(monkeypatch)


def _entry(cache: Path) -> Path:
    (entry,) = cache.glob("*/catalog.built")
    return entry


def test_a_valid_catalog_is_neither_parsed_nor_walked_again(
    root: Path, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    want = run(root, people)
    assert want.ok and want.catalog.people["grace.lead"].id == GRACE  # from the people cache
    done = _counted(monkeypatch)
    first = run(root, people, cache)
    assert done == ["parse", "walk"]
    second = run(root, people, cache)
    assert done == ["parse", "walk"]  # the catalog was kept
    assert outcome(first) == outcome(second) == outcome(want)
    assert first.catalog == second.catalog == want.catalog
    assert _entry(cache).stat().st_mode & 0o777 == 0o600
    run(root, people)
    assert done == ["parse", "walk", "parse", "walk"]  # without the cache, always


def test_what_the_people_cache_says_is_checked_on_every_run(
    root: Path, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, done = _filled(root, people, tmp_path, monkeypatch)
    people.status = "resigned"
    got = run(root, people, cache)
    assert done == []  # from the entry
    assert "resigned-person" in [p.code for p in got.errors]
    assert outcome(got) == outcome(run(root, people))


def test_a_changed_catalog_or_settings_are_built_again_and_an_invalid_catalog_every_time(
    root: Path, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, done = _filled(root, people, tmp_path, monkeypatch)
    settings = root / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "exclude: []" in text
    settings.write_text(text.replace("exclude: []", "exclude: [nothing.yaml]"), encoding="utf-8")
    assert outcome(run(root, people, cache)) == outcome(run(root, people))
    assert done == ["parse", "walk"] * 2
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + "surplus: 1\n", encoding="utf-8")
    for _ in range(2):
        assert [p.code for p in run(root, people, cache).errors] == ["schema"]
    assert done == ["parse", "walk"] * 4


def test_an_entry_of_another_syncer_version_or_from_a_shared_directory_is_not_used(
    root: Path, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syncer.load.sealedentry as sealedentry  # where the key takes the version

    cache, done = _filled(root, people, tmp_path, monkeypatch)
    monkeypatch.setattr(sealedentry, "__version__", "0.0.0-other")
    run(root, people, cache)
    run(root, people, cache)
    assert done == ["parse", "walk"]  # and it keeps the entry of its own version
    entries = _entry(cache).parent
    entries.chmod(0o777)
    run(root, people, cache)
    assert done == ["parse", "walk"] * 2
    entries.chmod(0o700)


def _forge(cache: Path, change: Any) -> None:
    """Rewrite the entry, sealed as syncer seals it, with `change` applied to its document."""
    payload = read_sealed(_entry(cache), CATALOG_MAGIC)
    assert payload is not None
    doc = marshal.loads(payload)
    change(doc)
    write_sealed(_entry(cache), CATALOG_MAGIC, marshal.dumps(doc))


def _field_type(doc: dict[str, Any]) -> None:
    doc["metrics"][0][2][0][2] = "date"


def _weight_rule(doc: dict[str, Any]) -> None:
    doc["templates"][0][2] = "average"


def _ghost(doc: dict[str, Any]) -> None:
    doc["email_only"].append(["ghost", 1, 1])


def _not_by_email(doc: dict[str, Any]) -> None:
    aliases = doc["people"][0]
    doc["email_only"].append([aliases[0], 1, 1])
    doc["people"][2][0] = None


def _damaged(doc: dict[str, Any]) -> None:
    doc["people"][1].pop()


@pytest.mark.parametrize("change", [_field_type, _weight_rule, _ghost, _not_by_email, _damaged])
def test_an_entry_that_no_catalog_could_have_given_is_not_used(
    root: Path, people: People, tmp_path: Path, change: Any
) -> None:
    cache = tmp_path / "cache"
    want = run(root, people, cache)
    assert want.catalog.templates and want.catalog.people
    _forge(cache, change)
    got = run(root, people, cache)
    assert got.catalog == want.catalog and outcome(got) == outcome(want)
    assert run(root, people, cache).catalog == want.catalog  # and the entry was written again


def test_a_torn_entry_is_not_used(root: Path, people: People, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    want = run(root, people, cache)
    entry = _entry(cache)
    entry.write_bytes(entry.read_bytes()[:-5])
    assert outcome(run(root, people, cache)) == outcome(want)


def test_the_bytes_the_settings_and_the_schema_are_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import syncer.load.catalogcache as catalogcache

    one = catalogcache.CatalogCache(Path("x"), Settings()).key(b"people: {}")
    assert catalogcache.CatalogCache(Path("x"), Settings(exclude=("a.yaml",))).key(b"people: {}") != one
    assert catalogcache.CatalogCache(Path("x"), Settings()).key(b"people: {a: b}") != one
    monkeypatch.setattr(catalogcache, "schema_bytes", lambda name: b'{"title": "another schema"}')
    assert catalogcache.CatalogCache(Path("x"), Settings()).key(b"people: {}") != one
