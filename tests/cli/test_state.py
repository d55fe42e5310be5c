"""`syncer state show|rm|unlock|settle` with click's CliRunner."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syncer.cli import cli
from syncer.model import Identity, RowKey, ValueKey
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord, JournalEntry, Rejection
from tests.paths import GOLDEN

ROOT = GOLDEN / "plan" / "root"
IDENT = Identity("open.feishu.cn", "cli_a1b2", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SEM, CLOSED = "7293040702907514899", "7250000000000000001"
ALICE, BOB = "ou_3245842393d09e9428ad4655da6e30b3", "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REV, NPS = "7272580325522276372", "7272580325522276401"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "metrics"
    shutil.copytree(ROOT, dest)
    store = LocalStateStore(dest / ".syncer" / "state", clock=lambda: T0)
    with store.locked():
        store.create(IDENT)
        store.record_batch(
            BatchRecord(
                SEM,
                "tok-1",
                "7300000000000000001",
                "a" * 40,
                "syncer aaaaaaa",
                T0,
                {
                    RowKey(SEM, ALICE, REV): {"2": "60", "4": "1000000"},
                    RowKey(SEM, ALICE, NPS): {"2": "40"},
                    RowKey(SEM, BOB, REV): {"2": "60"},
                },
            )
        )
        store.record_batch(
            BatchRecord(
                CLOSED,
                "tok-2",
                "7300000000000000002",
                "a" * 40,
                "syncer aaaaaaa",
                T0,
                {RowKey(CLOSED, ALICE, NPS): {"2": "100"}},
            )
        )
        store.record_rejected(
            [
                Rejection(
                    RowKey(SEM, BOB, NPS),
                    1580304,
                    "2026-04-30T08:00:00.000Z",
                    "d",
                    "sum of weights over 100%",
                )
            ]
        )
    return dest


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_show_text(root: Path) -> None:
    r = run("state", "show", "--root", str(root))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "target:      open.feishu.cn, app cli_a1b2, user_id_type open_id" in out
    assert "serial:      4" in out
    assert "managed:     5 values in 2 semesters, 2 batches" in out
    assert "2026-H2 (7293040702907514899): 4 values, 3 rows, 2 reviewees" in out
    assert "2026-H1 (7250000000000000001): 1 value, 1 row, 1 reviewee, closed" in out
    assert (
        "bob (ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9) nps (7272580325522276401): "
        "rejected on 2026-04-30 with 1580304" in out
    )
    assert "1000000" not in out  # values are never shown


def test_show_json(root: Path) -> None:
    doc = json.loads(run("state", "show", "--root", str(root), "--format", "json").output)
    assert doc["values"] == 5 and doc["serial"] == 4 and doc["identity"]["app_id"] == "cli_a1b2"
    assert doc["last_apply"]["batch"] == 2 and doc["last_batch"]["import_record_id"] == "7300000000000000002"
    assert [s["values"] for s in doc["semesters"]] == [1, 4]
    assert doc["rejected_rows"][0]["code"] == 1580304 and doc["lock"] is None


def test_show_without_state(tmp_path: Path) -> None:
    r = run("state", "show", "--root", str(tmp_path), "--state", str(tmp_path / "none"))
    assert r.exit_code == 0 and "No state at" in r.output


def test_rm_by_alias_with_yes(root: Path) -> None:
    r = run("state", "rm", "--root", str(root), "--reviewee", "alice", "--semester", "2026-H2", "--yes")
    assert r.exit_code == 0, r.output
    assert "3 values in 2 rows will no longer be managed (Feishu is not touched)" in r.output
    state = LocalStateStore(root / ".syncer" / "state").load()
    assert state is not None and state.value_count == 2
    assert state.get((CLOSED, ALICE, NPS, "2")) is not None  # another semester: kept
    assert (root / ".syncer" / "state" / "log.jsonl").read_text() == ""  # compacted
    assert state.meta.serial == 5


def test_rm_by_id_and_metric(root: Path) -> None:
    r = run("state", "rm", "--root", str(root), "--metric", REV, "--yes")
    assert r.exit_code == 0 and "3 values in 2 rows" in r.output


def test_rm_needs_a_selector_and_a_confirmation(root: Path) -> None:
    assert run("state", "rm", "--root", str(root), "--yes").exit_code == 1
    r = run("state", "rm", "--root", str(root), "--reviewee", "bob")  # CliRunner's stdin is not a TTY
    assert r.exit_code == 1 and "pass --yes" in r.output
    assert LocalStateStore(root / ".syncer" / "state").load().value_count == 5  # type: ignore[union-attr]
    r = run("state", "rm", "--root", str(root), "--reviewee", "nobody", "--yes")
    assert r.exit_code == 0 and "Nothing selected" in r.output


def test_unlock(root: Path) -> None:
    state = root / ".syncer" / "state"
    assert "is not locked" in run("state", "unlock", "--root", str(root)).output
    holder = LocalStateStore(state)
    holder.lock()  # alive: this very process
    r = run("state", "unlock", "--root", str(root))
    assert r.exit_code == 1 and "still running on this host" in r.output
    assert "locked by pid" in run("state", "show", "--root", str(root)).output
    r = run("state", "unlock", "--root", str(root), "--force")
    assert r.exit_code == 0 and "Cleared the lock" in r.output
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    (state / "lock").write_text(
        json.dumps({"pid": p.pid, "host": socket.gethostname(), "time": "t", "command": "apply", "id": "x"})
    )
    assert "(dead)" in run("state", "show", "--root", str(root)).output
    r = run("state", "unlock", "--root", str(root))
    assert r.exit_code == 0 and f"Cleared the lock of pid {p.pid}" in r.output


def test_help_on_every_state_command() -> None:
    for cmd in ("show", "list", "rm", "unlock"):
        out = run("state", cmd, "--help").output
        assert "--root" in out and "--state" in out
    assert "--semester" in run("state", "rm", "--help").output


# --- state list ----------------------------------------------------------------------------------------------


def test_list_shows_every_managed_value_with_aliases_and_its_batch(root: Path) -> None:
    r = run("state", "list", "--root", str(root))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[-1] == "5 managed values in 4 rows."
    assert (
        '2026-H2  alice  revenue.target = "1000000"  (batch 1 on 2026-05-01T12:00:00.000Z at commit aaaaaaaaaaaa, '
        "import record 7300000000000000001)" in lines
    )
    assert any(line.startswith('2026-H1  alice  nps.weight = "100"  (batch 2 ') for line in lines)  # closed: listed


def test_list_selects_by_alias_or_id_and_combines_selectors(root: Path) -> None:
    by_alias = run("state", "list", "--root", str(root), "--semester", "2026-H2", "--reviewee", "alice").output
    by_id = run("state", "list", "--root", str(root), "--semester", SEM, "--reviewee", ALICE).output
    assert by_alias == by_id
    assert by_alias.splitlines()[-1] == "3 managed values in 2 rows."
    assert "bob" not in by_alias and "2026-H1" not in by_alias
    only_nps = run("state", "list", "--root", str(root), "--metric", "nps").output
    assert only_nps.splitlines()[-1] == "2 managed values in 2 rows."
    assert run("state", "list", "--root", str(root), "--reviewee", "nobody").output == "No managed value matches.\n"


def test_list_redacts_values(root: Path) -> None:
    out = run("state", "list", "--root", str(root), "--redact-values").output
    assert "1000000" not in out and '"60"' not in out
    assert "revenue.target = (redacted)" in out


def test_list_json(root: Path) -> None:
    doc = json.loads(run("state", "list", "--root", str(root), "--format", "json", "--reviewee", "bob").output)
    assert doc["count"] == 1 and doc["redacted"] is False
    (value,) = doc["values"]
    assert value == {
        "semester": SEM,
        "reviewee": BOB,
        "metric": REV,
        "field": "2",
        "names": {"semester": "2026-H2", "reviewee": "bob", "metric": "revenue", "field": "weight"},
        "value": "60",
        "batch": 1,
        "applied_at": "2026-05-01T12:00:00.000Z",
        "commit": "a" * 40,
        "import_record_id": "7300000000000000001",
    }
    hidden = json.loads(run("state", "list", "--root", str(root), "--format", "json", "--redact-values").output)
    assert hidden["count"] == 5 and {v["value"] for v in hidden["values"]} == {None}


def test_list_without_state(tmp_path: Path) -> None:
    r = run("state", "list", "--root", str(tmp_path), "--state", str(tmp_path / "none"))
    assert r.exit_code == 0 and "No state at" in r.output
    doc = json.loads(
        run("state", "list", "--root", str(tmp_path), "--state", str(tmp_path / "x"), "--format", "json").output
    )
    assert doc["values"] == [] and doc["count"] == 0


# --- state show: the people cache ----------------------------------------------------------------------------


def test_show_describes_the_people_cache(root: Path) -> None:
    from syncer.live.people import write_cache
    from syncer.load.people import CachedPerson, PeopleCache

    assert "people cache: none" in run("state", "show", "--root", str(root)).output
    assert json.loads(run("state", "show", "--root", str(root), "--format", "json").output)["people_cache"] is None
    store = LocalStateStore(root / ".syncer" / "state", clock=lambda: T0)
    entries = {
        "bob@example.com": CachedPerson("bob@example.com", BOB, "active", "2026-05-01T12:00:00.000Z"),
        "eve@example.com": CachedPerson("eve@example.com", None, "resigned", "2026-05-03T09:00:00.000Z"),
    }
    with store.locked():
        assert write_cache(store, PeopleCache(IDENT, entries))
    out = run("state", "show", "--root", str(root)).output
    assert (
        "people cache: 2 people (1 active, 1 resigned), resolved 2026-05-01T12:00:00.000Z to "
        f"2026-05-03T09:00:00.000Z, for open_id on open.feishu.cn, in {root / '.syncer' / 'state'}/people.json"
    ) in out
    assert "eve@example.com" not in out and "bob@example.com" not in out  # counts only
    doc = json.loads(run("state", "show", "--root", str(root), "--format", "json").output)["people_cache"]
    assert (doc["people"], doc["active"], doc["resigned"], doc["unknown"]) == (2, 1, 1, 0)
    assert doc["last_resolved"] == "2026-05-03T09:00:00.000Z"


def _open_entries(root: Path, *tokens: str) -> LocalStateStore:
    store = LocalStateStore(root / ".syncer" / "state", clock=lambda: T0)
    with store.locked():
        for token in tokens:
            body = '{"semester_id":"x"}'
            store.open_journal(
                JournalEntry(token, SEM, "2026-05-01T12:00:00.000Z", body, ((ValueKey(SEM, BOB, NPS, "2"), "30"),))
            )
    return store


def test_state_settle_closes_one_open_entry_by_its_token_prefix(root: Path) -> None:
    """The hand's way out of an entry no apply can settle: it is closed as not landed, so the next apply sends
    its rows again; the other entries stay open."""
    store = _open_entries(root, "abcdef0123456789", "fedcba9876543210")
    result = run("state", "settle", "abcdef01", "--not-landed", "--yes", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "abcdef0123456789 (1 row of semester" in result.output and "Closed." in result.output
    state = store.load()
    assert state is not None and sorted(state.journal) == ["fedcba9876543210"]


@pytest.mark.parametrize(
    ("prefix", "says"),
    [("0000", "no open journal entry with a client_token starting '0000'"), ("abcdef", "2 open journal entries")],
)
def test_state_settle_refuses_a_token_that_names_no_single_entry(root: Path, prefix: str, says: str) -> None:
    store = _open_entries(root, "abcdef0123456789", "abcdef9876543210")
    result = run("state", "settle", prefix, "--not-landed", "--yes", "--root", str(root))
    assert result.exit_code == 1 and says in result.output
    state = store.load()
    assert state is not None and len(state.journal) == 2


def test_state_settle_needs_the_judgement_and_a_confirmation(root: Path) -> None:
    store = _open_entries(root, "abcdef0123456789")
    missing = run("state", "settle", "abcdef", "--yes", "--root", str(root))
    assert missing.exit_code == 1 and "Missing option '--not-landed'" in missing.output
    result = run("state", "settle", "abcdef", "--not-landed", "--root", str(root))
    assert result.exit_code == 1 and "pass --yes" in result.output
    state = store.load()
    assert state is not None and list(state.journal) == ["abcdef0123456789"]
