"""People given by email: `syncer people resolve` (users/batch_get_id, against the emulator), the cache kept
with the state, and what validation says before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.config import load_catalog, load_settings
from syncer.emulator import Emulator, EmulatorServer, EmulatorTransport, ManualClock
from syncer.feishu.auth import Credentials
from syncer.live import LiveReader
from syncer.people import PeopleCache, cache_path, email_people, load_cache, resolve_people, save_cache
from syncer.schema import check
from syncer.state import Identity, state_path
from syncer.validate import validate_root
from syncer.yamlio import parse
from tests.example import copy_example

REPO = Path(__file__).resolve().parent.parent
CREDS = Credentials("cli_emulator", "emulator_secret")
GRACE = "ou_cfa146394857f3a805c1507aed93dd93"
DEV = "ou_bc51c45dcfc87c6dcbaa5014b32451a7"
TARGET = Identity("127.0.0.1", "cli_emulator", "open_id")


def _root(tmp: Path, *, failing: bool = True) -> Path:
    """The example root with grace.lead (a person value) and dev.patel (a reviewee) given by email only;
    bob's email is alice's (a mismatch); with `failing`, a resigned and an unknown address too."""
    root = tmp / "m"
    copy_example(root)
    cat = root / "catalog.yaml"
    text = cat.read_text()
    text = text.replace(f"grace.lead: {{id: {GRACE}, email: grace.lead@example.com}}",
                        "grace.lead: {email: Grace.Lead@example.com}")
    text = text.replace(f"dev.patel: {{id: {DEV}, email: dev.patel@example.com}}",
                        "dev.patel: {email: dev.patel@example.com}")
    text = text.replace("email: bob@example.com}", "email: alice@example.com}")
    if failing:
        text += "  former: {email: former.employee@example.com}\n  ghost: {email: nobody@example.com}\n"
    cat.write_text(text)
    return root


def _resolve(root: Path, emu: Emulator, clock: ManualClock, *, refresh: bool = False) -> object:
    settings, _ = load_settings(root, "m")
    catalog, problems = load_catalog(root, "m", settings)
    assert not [p for p in problems if p.severity == "error"], problems
    path = cache_path(state_path(root, settings))
    with LiveReader(base_url="http://127.0.0.1", credentials=CREDS, transport=EmulatorTransport(emu),
                    clock=clock, sleep=clock.sleep) as reader:
        report = resolve_people(catalog, reader, identity=TARGET, cache=load_cache(path), refresh=refresh)
    save_cache(path, report.cache)
    return report


@pytest.fixture
def emu() -> tuple[Emulator, ManualClock]:
    clock = ManualClock()
    return Emulator(clock=clock, sleep=clock.sleep), clock


def test_the_schema_takes_an_email_alone_but_not_nothing() -> None:
    def errors(doc: str) -> list[str]:
        text = f"semesters: {{h2: '1'}}\nmetrics: {{m: {{id: '2', fields: {{f: {{id: '3', type: text}}}}}}}}\n{doc}"
        return [p.message for p in check("catalog", parse(text, "c.yaml"), "c.yaml")]

    assert errors("people: {bob: {email: bob@example.com}}") == []
    assert errors("people: {bob: {id: ou_x}}") == []
    assert errors("people: {bob: {}}") != []


def test_unresolved_people_are_reported_where_they_are_used(tmp_path: Path) -> None:
    root = _root(tmp_path, failing=False)
    result = validate_root(root, root_display="m")
    unresolved = [(p.file, p.line, p.code) for p in result.problems if p.code == "unresolved-person"]
    assert ("m/teams/engineering.yaml", 5, "unresolved-person") in unresolved  # dev.patel as a reviewee
    files = [f for f, _, _ in unresolved]
    assert files.count("m/teams/sales.yaml") == 10  # grace.lead as the owner of ten revenue rows
    assert files.count("m/archive/2026-H1-sales.yaml") == 4  # closed semesters are checked too
    assert ("m/teams/sales.yaml", 11, "unresolved-person") in unresolved
    message = next(p.message for p in result.problems if p.code == "unresolved-person")
    assert "syncer people resolve" in message
    assert not result.ok


def test_resolve_found_resigned_unknown_then_validation_uses_the_cache(tmp_path: Path,
                                                                      emu: tuple[Emulator, ManualClock]) -> None:
    emulator, clock = emu
    root = _root(tmp_path)
    report = _resolve(root, emulator, clock)
    statuses = {r.alias: (r.status, r.user_id) for r in report.resolved}  # type: ignore[attr-defined]
    assert statuses["grace.lead"] == ("active", GRACE)
    assert statuses["dev.patel"] == ("active", DEV)
    assert statuses["former"] == ("resigned", None)
    assert statuses["ghost"] == ("unknown", None)
    assert [r.alias for r in report.mismatches] == ["bob"]  # type: ignore[attr-defined]
    assert report.requests == 2  # type: ignore[attr-defined]  # all addresses, then the two misses
    calls = emulator.requests("users.batch_get_id")
    assert [json.loads(c.body)["include_resigned"] for c in calls] == [False, True]

    result = validate_root(root, root_display="m")
    lines = (root / "catalog.yaml").read_text().splitlines()
    former, ghost = lines.index("  former: {email: former.employee@example.com}") + 1, len(lines)
    assert [(p.code, p.line, p.col) for p in result.errors] == [("resigned-person", former, 3),
                                                                ("unknown-email", ghost, 3)]
    assert all(p.file == "m/catalog.yaml" for p in result.errors)
    assert "former.employee@example.com" in result.errors[0].text(redact=False)

    cat = root / "catalog.yaml"
    cat.write_text("".join(cat.read_text().splitlines(keepends=True)[:-2]))
    result = validate_root(root, root_display="m")
    assert result.ok, result.problems
    assert result.catalog.people["grace.lead"].id == GRACE  # the cached ID, for plans and names
    assert result.desired is not None
    assert any(k.reviewee == DEV for k in result.desired.values)


def test_the_cache_is_reused_until_refresh(tmp_path: Path, emu: tuple[Emulator, ManualClock]) -> None:
    emulator, clock = emu
    root = _root(tmp_path)
    _resolve(root, emulator, clock)
    again = _resolve(root, emulator, clock)
    assert again.requests == 0 and again.resolved == ()  # type: ignore[attr-defined]
    assert again.cached == 12  # type: ignore[attr-defined]
    refreshed = _resolve(root, emulator, clock, refresh=True)
    assert refreshed.requests == 2 and len(refreshed.resolved) == 12  # type: ignore[attr-defined]
    cache = load_cache(root / ".syncer" / "state" / "people.json")
    assert cache is not None and cache.get("GRACE.LEAD@example.com") is not None  # case-insensitive


def test_a_cache_for_another_user_id_type_is_not_used() -> None:
    from syncer.model import Catalog, PersonDef
    from syncer.people import CachedPerson

    catalog = Catalog(people={"g": PersonDef("g", None, "g@example.com")})
    cache = PeopleCache(Identity("h", None, "union_id"),
                        {"g@example.com": CachedPerson("g@example.com", "on_1", "active", "t")})
    seen = email_people(catalog, cache, user_id_type="open_id")
    assert seen.pending == {"g": "g@example.com"} and seen.note and "union_id" in seen.note
    assert email_people(catalog, cache, user_id_type="union_id").resolved == {"g": "on_1"}


def test_a_damaged_cache_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = _root(tmp_path, failing=False)
    path = root / ".syncer" / "state" / "people.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = validate_root(root, root_display="m")
    assert any(p.code == "people-cache" and "people.json" in p.message for p in result.problems)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with EmulatorServer(Emulator()) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        monkeypatch.chdir(tmp_path)
        yield _root(tmp_path)


def test_cli_people_resolve(served: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["people", "resolve", "--root", "m"])
    assert result.exit_code == 1, result.output
    assert "grace.lead  Grace.Lead@example.com  " + GRACE in result.output
    assert "former  former.employee@example.com  (resigned)" in result.output
    assert "ghost  nobody@example.com  (not found)" in result.output
    assert "could not be resolved" in result.output and "Traceback" not in result.output
    assert (served / ".syncer" / "state" / "people.json").is_file()
    result = runner.invoke(cli, ["validate", "--root", "m"])
    assert result.exit_code == 1 and "resigned-person" in result.output and "unresolved-person" not in result.output
    result = runner.invoke(cli, ["people", "resolve", "--root", "m", "--state", "elsewhere"])
    assert (served.parent / "elsewhere" / "people.json").is_file()
