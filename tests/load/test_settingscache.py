"""syncer.yaml's settings kept between runs (syncer.load.settingscache): a run whose syncer.yaml, settings
schema and syncer are the same does not parse it and gets the settings a cold run reads; settings with
problems, a changed file and a damaged entry are never used; and a warm `validate` imports no YAML parser."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncer.fsio import read_sealed, write_sealed
from syncer.load.settings import Settings, load_settings
from syncer.load.settingscache import SETTINGS_MAGIC, SettingsCache, settings_path
from syncer.load.validate import validate_root
from syncer.load.yamlnodes import Node
from syncer.problems import Problem
from tests.example import copy_example
from tests.paths import REPO

#: Every kind of setting away from its default: an entry that lost or shuffled one reads back otherwise.
EVERYTHING = """target:
  base_url: https://feishu.example.com/
  user_id_type: user_id
  import_per_minute: 7
  percentage_format: "40"
import_record_name: "sync {short_sha}"
exclude: [drafts/**, old.yaml]
max_file_bytes: 1000000
language: zh-CN
state:
  backend: git
  path: st
  branch: b
  remote: up
  lock_lease: 60
safety: {max_update_ratio: 0.5, max_forget_ratio: 0.25, min_existing: 3}
notify: {webhook_env: HOOK, secret_env: SECRET, chat_id: oc_abc, events: [drift], timeout_seconds: 2.5}
rules:
  - name: small-target
    scope: {fields: [target]}
    condition: 'true'
    severity: warn
    message: small
"""


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """syncer.yaml's parses from now on (counted, then done as usual)."""
    from syncer.load import yamlparse

    done: list[str] = []
    parse_tree = yamlparse.parse_tree

    def parsed(data: bytes, display: str) -> tuple[Node | None, list[Problem]]:
        if display.endswith("syncer.yaml"):
            done.append(display)
        return parse_tree(data, display)

    monkeypatch.setattr(yamlparse, "parse_tree", parsed)
    return done


def read(root: Path, cache: Path) -> tuple[Settings, list[Problem]]:
    return load_settings(root, "m", cache=SettingsCache(settings_path(cache, root)))


def test_a_warm_read_is_the_cold_read_without_a_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syncer.yaml").write_text(EVERYTHING, encoding="utf-8")
    cold = load_settings(tmp_path, "m")
    assert cold[1] == [] and cold[0].has_rules and cold[0] != Settings(has_rules=True)
    done = _parses(monkeypatch)
    assert read(tmp_path, tmp_path / "cache") == cold
    assert len(done) == 1
    assert read(tmp_path, tmp_path / "cache") == cold
    assert len(done) == 1  # from the entry


def test_a_changed_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tmp_path / "syncer.yaml"
    settings.write_text("language: en\n", encoding="utf-8")
    assert read(tmp_path, tmp_path / "cache")[0].language == "en"
    done = _parses(monkeypatch)
    settings.write_text("language: zh-CN\n", encoding="utf-8")
    assert read(tmp_path, tmp_path / "cache") == (Settings(language="zh-CN"), [])
    assert len(done) == 1


def test_settings_with_problems_are_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syncer.yaml").write_text("target:\n  base_url: http://feishu.example.com\n", encoding="utf-8")
    first = read(tmp_path, tmp_path / "cache")
    assert [p.code for p in first[1]] == ["insecure-url"]
    done = _parses(monkeypatch)
    assert read(tmp_path, tmp_path / "cache") == first  # the problem is said again: the file was read again
    assert len(done) == 1


def test_a_damaged_or_foreign_entry_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syncer.yaml").write_text("language: en\n", encoding="utf-8")
    cache = SettingsCache(settings_path(tmp_path / "cache", tmp_path))
    assert load_settings(tmp_path, "m", cache=cache)[0].language == "en"
    payload = read_sealed(cache.path, SETTINGS_MAGIC)
    assert payload is not None
    doc = marshal.loads(payload)
    done = _parses(monkeypatch)
    garbage = ("h", "n", (), 1, "s", "s", "abcde", "en", False)  # would build, from strings where tuples belong
    for settings in (doc["settings"][:-1], garbage):
        write_sealed(cache.path, SETTINGS_MAGIC, marshal.dumps({**doc, "settings": settings}))
        assert load_settings(tmp_path, "m", cache=cache) == (Settings(language="en"), [])
    for payload in (marshal.dumps({**doc, "key": "other"}), marshal.dumps({}), b""):
        write_sealed(cache.path, SETTINGS_MAGIC, payload)
        assert load_settings(tmp_path, "m", cache=cache) == (Settings(language="en"), [])
    cache.path.write_bytes(cache.path.read_bytes()[:-1])  # torn
    assert load_settings(tmp_path, "m", cache=cache) == (Settings(language="en"), [])
    assert len(done) == 6


def test_an_entry_others_may_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syncer.yaml").write_text("language: en\n", encoding="utf-8")
    assert read(tmp_path, tmp_path / "cache")[0].language == "en"
    (tmp_path / "cache").chmod(0o777)
    done = _parses(monkeypatch)
    assert read(tmp_path, tmp_path / "cache") == (Settings(language="en"), [])
    assert len(done) == 1


def test_rules_in_syncer_yaml_are_found_with_the_settings_warm(tmp_path: Path) -> None:
    """`has_rules` comes back from the entry: the rules in syncer.yaml are still loaded on a warm run, and a
    syncer.yaml without them is not parsed again for them."""
    from syncer.rules.check import with_rules

    pytest.importorskip("cel_expr_python")
    (tmp_path / "syncer.yaml").write_text(EVERYTHING, encoding="utf-8")
    for _ in range(2):
        result = validate_root(tmp_path, root_display="m", cache_dir=tmp_path / "cache")
        assert result.settings.has_rules
        assert [r.name for r in with_rules(result, root_display="m", judge_values=False)[1].rules] == ["small-target"]
    (tmp_path / "syncer.yaml").write_text("language: en\n", encoding="utf-8")
    assert not validate_root(tmp_path, root_display="m", cache_dir=tmp_path / "cache").settings.has_rules


def test_a_warm_validate_imports_no_yaml_parser_nor_the_rules_machinery(tmp_path: Path) -> None:
    """What makes a pre-commit hook's `validate` fast: with every cache warm, nothing is parsed (a root with
    company rules parses rules.yaml on every run: they are not cached), and a root without rules imports
    neither their model, their compiler nor their judge."""
    root = copy_example(tmp_path / "m")
    (root / "rules.yaml").unlink()
    env = {**os.environ, "SYNCER_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    env.pop("SYNCER_CACHE", None)
    code = (
        "import sys; from syncer.cli.main import main; sys.argv = ['syncer', 'validate', '--root', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m == 'yaml' or m.startswith(('yaml.', 'syncer.load.yamlparse'))))\n"
        "print(sorted(m for m in sys.modules if m.startswith('syncer.rules.') and m not in RULES_NEEDED))"
    ).replace("RULES_NEEDED", "('syncer.rules.check', 'syncer.rules.load')")
    runs = [
        subprocess.run([sys.executable, "-c", code, str(root)], env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert "yaml" in runs[0].stdout  # cold: everything parsed
    assert runs[1].stdout.strip().splitlines()[-2:] == ["[]", "[]"]
