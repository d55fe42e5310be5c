"""One fixture file per problem kind, each declaring the problems it must produce:

# expect: LINE:COL SEVERITY CODE | substring of the message
# expect: nothing
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from syncer.load.validate import validate_root
from syncer.problems import Problem
from tests.paths import FIXTURES

EXPECT = re.compile(r"# expect: (?:(nothing)|(\d+):(\d+) (error|warning) ([a-z0-9-]+) \| (.+))$")


def expectations(path: Path) -> list[tuple[int, int, str, str, str]] | None:
    found: list[tuple[int, int, str, str, str]] = []
    nothing = False
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if m:
            if m.group(1):
                nothing = True
            else:
                found.append((int(m.group(2)), int(m.group(3)), m.group(4), m.group(5), m.group(6)))
    assert nothing or found, f"{path.name} declares no expectation"
    return found


def check(result_problems: list[Problem], expected: list[tuple[int, int, str, str, str]], file: str) -> None:
    got = [(p.line, p.col, p.severity, p.code, p.text(redact=False)) for p in result_problems if p.file == file]
    others = [p for p in result_problems if p.file != file]
    assert not others, f"problems outside {file}: {others}"
    assert len(got) == len(expected), f"expected {expected}, got {got}"
    for (line, col, sev, code, msg), (eline, ecol, esev, ecode, esub) in zip(got, expected, strict=True):
        assert (line, col, sev, code) == (eline, ecol, esev, ecode), f"got {(line, col, sev, code, msg)}"
        assert esub in msg, f"{esub!r} not in {msg!r}"


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "data").glob("*.yaml")))
def test_data_fixture(name: str, fixture_root: Path) -> None:
    src = FIXTURES / "data" / name
    shutil.copy(src, fixture_root / name)
    result = validate_root(fixture_root, root_display="m")
    check(result.problems, expectations(src) or [], f"m/{name}")
    assert result.ok == all(e[2] != "error" for e in expectations(src) or [])


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "templates" / "data").glob("*.yaml")))
def test_template_fixture(name: str, tmp_path: Path) -> None:
    # The root of these fixtures has metric templates: weights follow each reviewee's template.
    root = tmp_path / "m"
    shutil.copytree(FIXTURES / "templates" / "root", root)
    src = FIXTURES / "templates" / "data" / name
    shutil.copy(src, root / name)
    result = validate_root(root, root_display="m")
    check(result.problems, expectations(src) or [], f"m/{name}")
    assert result.ok == all(e[2] != "error" for e in expectations(src) or [])


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "catalog").glob("*.yaml")))
def test_catalog_fixture(name: str, tmp_path: Path) -> None:
    src = FIXTURES / "catalog" / name
    shutil.copy(src, tmp_path / "catalog.yaml")
    result = validate_root(tmp_path, root_display="m")
    check(result.problems, expectations(src) or [], "m/catalog.yaml")
    assert not result.ok


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "settings").glob("*.yaml")))
def test_settings_fixture(name: str, fixture_root: Path) -> None:
    src = FIXTURES / "settings" / name
    shutil.copy(src, fixture_root / "syncer.yaml")
    result = validate_root(fixture_root, root_display="m")
    check(result.problems, expectations(src) or [], "m/syncer.yaml")


def test_a_bad_character_is_redacted_with_its_value(fixture_root: Path) -> None:
    # The value is personal data: with --redact-values neither it nor its code point is shown.
    shutil.copy(FIXTURES / "data" / "bad-character.yaml", fixture_root / "bad-character.yaml")
    result = validate_root(fixture_root, root_display="m")
    found = [p for p in result.problems if p.code == "bad-character"]
    assert len(found) == 4
    for p in found:
        shown, hidden = p.text(redact=False), p.text(redact=True)
        assert "(U+00" in shown and "(U+00" not in hidden
        assert hidden.startswith("(redacted) in ") and "holds a control character:" in hidden
    assert "'a\\x00b'" in found[0].text(redact=False) and "a\\x00b" not in found[0].text(redact=True)
