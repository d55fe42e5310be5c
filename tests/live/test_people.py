"""People given by email: `syncer people resolve` (users/batch_get_id, against the emulator), the cache kept
with the state, and what validation says before and after."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, EmulatorServer, EmulatorTransport, ManualClock
from syncer.feishu.auth import Credentials
from syncer.feishu.records import UserLookup
from syncer.live.people import resolve_people, write_cache
from syncer.live.reader import LiveReader
from syncer.load.catalog import load_catalog
from syncer.load.people import PeopleCache, PeopleSource, email_people, read_cache
from syncer.load.schema import check
from syncer.load.settings import Settings, load_settings
from syncer.load.validate import validate_root
from syncer.load.yamlparse import parse
from syncer.model import Identity, UserIdType
from syncer.state import open_store
from syncer.state.local.store import LocalStateStore
from tests.example import copy_example

CREDS = Credentials("cli_emulator", "emulator_secret")
GRACE = "ou_cfa146394857f3a805c1507aed93dd93"
DEV = "ou_bc51c45dcfc87c6dcbaa5014b32451a7"
TARGET = Identity("127.0.0.1", "cli_emulator", "open_id")


def _root(tmp: Path, *, failing: bool = True) -> Path:
    return email_root(tmp / "m", failing=failing)


def email_root(root: Path, *, failing: bool = True, backend: str = "local") -> Path:
    """The example root with grace.lead (a person value) and dev.patel (a reviewee) given by email only;
    bob's email is alice's (a mismatch); with `failing`, a resigned and an unknown address too."""
    copy_example(root, backend=backend)
    cat = root / "catalog.yaml"
    text = cat.read_text()
    text = text.replace(
        f"grace.lead: {{id: {GRACE}, email: grace.lead@example.com}}", "grace.lead: {email: Grace.Lead@example.com}"
    )
    text = text.replace(
        f"dev.patel: {{id: {DEV}, email: dev.patel@example.com}}", "dev.patel: {email: dev.patel@example.com}"
    )
    text = text.replace("email: bob@example.com}", "email: alice@example.com}")
    if failing:
        text += "  former: {email: former.employee@example.com}\n  ghost: {email: nobody@example.com}\n"
    cat.write_text(text)
    return root


def _resolve(root: Path, emu: Emulator, clock: ManualClock, *, refresh: bool = False) -> object:
    settings, _ = load_settings(root, "m")
    catalog, problems = load_catalog(root, "m", settings)
    assert not [p for p in problems if p.severity == "error"], problems
    store = open_store(root, settings)
    with LiveReader(
        base_url="http://127.0.0.1", credentials=CREDS, transport=EmulatorTransport(emu), clock=clock, sleep=clock.sleep
    ) as reader:
        report = resolve_people(catalog, reader, identity=TARGET, cache=read_cache(store), refresh=refresh)
    with store.locked(command="people resolve"):
        if store.load() is None:
            store.create(TARGET)
        write_cache(store, report.cache)
    return report


@pytest.fixture
def emu() -> tuple[Emulator, ManualClock]:
    clock = ManualClock()
    return Emulator(clock=clock, sleep=clock.sleep), clock


def _state_of(root: Path) -> Callable[[Settings], PeopleSource]:
    """Validation's people cache: the root's own (local) state, as the CLI hands it in."""
    return lambda settings: open_store(root, settings)


def test_the_schema_takes_an_email_alone_but_not_nothing() -> None:
    def errors(doc: str) -> list[str]:
        text = f"semesters: {{h2: '1'}}\nmetrics: {{m: {{id: '2', fields: {{f: {{id: '3', type: text}}}}}}}}\n{doc}"
        return [p.message for p in check("catalog", parse(text, "c.yaml"), "c.yaml")]

    assert errors("people: {bob: {email: bob@example.com}}") == []
    assert errors("people: {bob: {id: ou_x}}") == []
    assert errors("people: {bob: {}}") != []


def test_unresolved_people_are_reported_where_they_are_used(tmp_path: Path) -> None:
    root = _root(tmp_path, failing=False)
    result = validate_root(root, root_display="m", people=_state_of(root))
    unresolved = [(p.file, p.line, p.code) for p in result.problems if p.code == "unresolved-person"]
    assert ("m/teams/engineering.yaml", 5, "unresolved-person") in unresolved  # dev.patel as a reviewee
    files = [f for f, _, _ in unresolved]
    assert files.count("m/teams/sales.yaml") == 10  # grace.lead as the owner of ten revenue rows
    assert files.count("m/archive/2026-H1-sales.yaml") == 4  # closed semesters are checked too
    assert ("m/teams/sales.yaml", 11, "unresolved-person") in unresolved
    message = next(p.message for p in result.problems if p.code == "unresolved-person")
    assert "syncer people resolve" in message
    assert not result.ok


def test_resolve_found_resigned_unknown_then_validation_uses_the_cache(
    tmp_path: Path, emu: tuple[Emulator, ManualClock]
) -> None:
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

    result = validate_root(root, root_display="m", people=_state_of(root))
    lines = (root / "catalog.yaml").read_text().splitlines()
    former, ghost = lines.index("  former: {email: former.employee@example.com}") + 1, len(lines)
    assert [(p.code, p.line, p.col) for p in result.errors] == [
        ("resigned-person", former, 3),
        ("unknown-email", ghost, 3),
    ]
    assert all(p.file == "m/catalog.yaml" for p in result.errors)
    assert "former.employee@example.com" in result.errors[0].text(redact=False)

    cat = root / "catalog.yaml"
    cat.write_text("".join(cat.read_text().splitlines(keepends=True)[:-2]))
    result = validate_root(root, root_display="m", people=_state_of(root))
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
    cache = read_cache(LocalStateStore(root / ".syncer" / "state"))
    assert cache is not None and cache.get("GRACE.LEAD@example.com") is not None  # case-insensitive


def test_a_cache_for_another_user_id_type_is_not_used() -> None:
    from syncer.load.people import CachedPerson
    from syncer.model import Catalog, PersonDef

    catalog = Catalog(people={"g": PersonDef("g", None, "g@example.com")})
    cache = PeopleCache(
        Identity("h", None, "union_id"), {"g@example.com": CachedPerson("g@example.com", "on_1", "active", "t")}
    )
    seen = email_people(catalog, cache, user_id_type="open_id")
    assert seen.pending == {"g": "g@example.com"} and seen.note and "union_id" in seen.note
    assert email_people(catalog, cache, user_id_type="union_id").resolved == {"g": "on_1"}


def test_a_damaged_cache_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = _root(tmp_path, failing=False)
    path = root / ".syncer" / "state" / "people.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = validate_root(root, root_display="m", people=_state_of(root))
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


# --- the cache is part of the state (local backend) ---------------------------------------------------------


def _doc(user_id: str = GRACE) -> dict[str, object]:
    return {
        "format": 1,
        "identity": TARGET._asdict(),
        "people": {
            "grace.lead@example.com": {
                "email": "Grace.Lead@example.com",
                "user_id": user_id,
                "status": "active",
                "resolved": "2026-05-01T12:00:00.000Z",
            }
        },
    }


def test_the_local_store_records_the_cache_under_the_lock_and_bumps_the_serial(tmp_path: Path) -> None:
    from syncer.errors import StateError

    store = LocalStateStore(tmp_path / "state")
    assert store.read_people() is None  # no state at all: no cache, no error
    with pytest.raises(StateError, match="needs its lock"):
        store.record_people(_doc())
    with store.locked(command="people resolve"):
        with pytest.raises(StateError, match="create it first"):
            store.record_people(_doc())
        store.create(TARGET)
        assert store.read_people() is None  # a state without the cache (as every older state is)
        assert store.record_people(_doc()) is True
        assert store.record_people(_doc()) is False  # the same content: nothing written, serial kept
    state = store.load()
    assert state is not None and state.meta.serial == 2
    assert json.loads((tmp_path / "state" / "meta.json").read_text())["serial"] == 2  # compacted: meta records it
    text = (tmp_path / "state" / "people.json").read_text()
    assert text == json.dumps(_doc(), indent=2, sort_keys=True) + "\n"  # sorted, one key a line: diff-friendly
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [
        "batches.jsonl",
        "journal.jsonl",
        "log.jsonl",
        "meta.json",
        "people.json",
        "rejections.jsonl",
    ]
    assert LocalStateStore(tmp_path / "state").read_people() == _doc()  # a reader, without the lock
    cache = read_cache(LocalStateStore(tmp_path / "state"))
    assert cache is not None and cache.identity == TARGET and cache.get("grace.lead@example.com") is not None

    with store.locked(command="people resolve"):
        assert store.record_people(_doc(DEV)) is True
    state = store.load()
    assert state is not None and state.meta.serial == 3 and state.value_count == 0


def test_a_cache_of_a_newer_syncer_is_refused(tmp_path: Path) -> None:
    from syncer.errors import StateError

    store = LocalStateStore(tmp_path / "state")
    with store.locked():
        store.create(TARGET)
        store.record_people({**_doc(), "format": 9})
    with pytest.raises(StateError, match=r"people\.json: written by a newer syncer.*upgrade syncer"):
        read_cache(store)


@pytest.fixture
def served_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Emulator]]:
    """The root with email-only people that all resolve, the emulator served on loopback."""
    emu = Emulator()
    with EmulatorServer(emu) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        monkeypatch.chdir(tmp_path)
        yield _root(tmp_path, failing=False), emu


def test_cli_people_resolve_writes_the_state_and_plan_reads_it(
    served_ok: tuple[Path, Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, emu = served_ok
    runner = CliRunner()
    result = runner.invoke(cli, ["people", "resolve", "--root", "m"])
    assert result.exit_code == 0, result.output
    assert "Cache: m/.syncer/state/people.json" in result.output and "(unchanged)" not in result.output
    state = LocalStateStore(root / ".syncer" / "state").load()
    assert state is not None  # created for this target, so that the cache has its target
    assert state.identity.app_id == "cli_emulator" and state.identity.user_id_type == "open_id"
    serial = state.meta.serial
    assert not (root / ".syncer" / "state" / "lock").exists()  # released
    again = runner.invoke(cli, ["people", "resolve", "--root", "m"])
    assert again.exit_code == 0 and "(unchanged)" in again.output, again.output
    state = LocalStateStore(root / ".syncer" / "state").load()
    assert state is not None and state.meta.serial == serial  # nothing new: nothing written

    asked = len(emu.requests("users.batch_get_id"))
    for var in ("FEISHU_APP_ID", "FEISHU_APP_SECRET"):  # a fork's pull request: no credentials
        monkeypatch.delenv(var)
    result = runner.invoke(cli, ["validate", "--root", "m"])
    assert result.exit_code == 0 and "unresolved-person" not in result.output, result.output
    result = runner.invoke(cli, ["plan", "--root", "m", "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["state"]["serial"] == serial
    assert any(c["reviewee"] == DEV for c in plan["changes"])
    assert any(v[3] == GRACE for row in plan["changes"] for v in row["values"])  # a person value, by the cached ID
    assert len(emu.requests("users.batch_get_id")) == asked  # read from the state, not asked again


def test_cli_people_resolve_refuses_the_state_of_another_target(served_ok: tuple[Path, Emulator]) -> None:
    root, emu = served_ok
    store = LocalStateStore(root / ".syncer" / "state")
    with store.locked():
        store.create(Identity("open.feishu.cn", "cli_other", "open_id"))
    result = CliRunner().invoke(cli, ["people", "resolve", "--root", "m"])
    assert result.exit_code == 1 and "belongs to another target" in result.output, result.output
    assert emu.requests("users.batch_get_id") == []  # refused before any request
    assert store.read_people() is None


def test_a_user_id_the_state_could_not_record_is_not_kept(
    tmp_path: Path, emu: tuple[Emulator, ManualClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ID with U+0000 or another control character could be neither kept in the people cache (PostgreSQL
    # refuses U+0000) nor sent: the address stays unresolved, as one Feishu did not find.
    emulator, clock = emu
    root = _root(tmp_path, failing=False)
    settings, _ = load_settings(root, "m")
    catalog, _ = load_catalog(root, "m", settings)
    with LiveReader(
        base_url="http://127.0.0.1",
        credentials=CREDS,
        transport=EmulatorTransport(emulator),
        clock=clock,
        sleep=clock.sleep,
    ) as reader:
        asked = reader.client.batch_get_user_ids

        def hostile(*, emails: Sequence[str], include_resigned: bool, user_id_type: UserIdType) -> list[UserLookup]:
            found = asked(emails=emails, include_resigned=include_resigned, user_id_type=user_id_type)
            return [UserLookup(f"{a.user_id}\x00" if a.user_id == GRACE else a.user_id, a.email) for a in found]

        monkeypatch.setattr(reader.client, "batch_get_user_ids", hostile)
        report = resolve_people(catalog, reader, identity=TARGET, cache=None)
    statuses = {r.alias: (r.status, r.user_id) for r in report.resolved}
    assert statuses["grace.lead"] == ("unknown", None)
    assert statuses["dev.patel"] == ("active", DEV)
    assert all("\x00" not in (e.user_id or "") for e in report.cache.entries.values())
