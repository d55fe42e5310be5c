"""The whole flow through the real CLI under each of the four `user_id_type`s and both readings of the user
object (docs/emulator.md, "Two readings"), against the emulator's default tenant served on loopback.

The metrics root is the example's with its people named by the type under test (tests/example.py,
`copy_example_as`). Under each: `validate`; `plan` lists the changes; `apply` lands every value (read back
through the emulator's `/_emulator/values`), after which a plan has nothing to do and `plan --refresh-all`
finds no drift, and finds the one value changed in Feishu by hand; after an edit, `plan --refresh` reads the
row and finds no drift, and `apply --preflight` lands it; an answer lost after its import landed, settled on
the rerun by reading the rows back, no row imported twice; `import` of one reviewee into a root that has
none; `doctor` exits 0; a person given by email only is resolved by `people resolve`, or (people_admin_id,
which the contact API cannot answer) asked for by ID.

Pacing: the emulator runs on the real clock, with the import limit raised (as the settings say) so that no
case waits for a slot; the reads stay within their real quotas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, Tenant, load_tenant
from syncer.load.validate import validate_root
from syncer.model import UserIdType
from tests.emulated import import_by_hand, served_example
from tests.example import copy_example_as

H2 = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TYPES: list[UserIdType] = ["open_id", "union_id", "user_id", "people_admin_id"]
READINGS = ["documented", "typed_key"]
Key = tuple[str, str, str, str]


@dataclass
class Served:
    root: Path
    tenant: Tenant
    emu: Emulator
    url: str
    uid: UserIdType

    def as_uid(self, open_id: str) -> str:
        return self.tenant.users[open_id].id_of(self.uid)

    def held(self) -> dict[Key, str]:
        """What Feishu holds (imported values), read through the emulator's admin path, with people named
        by the type under test and percentages without their sign."""
        values = httpx.get(f"{self.url}/_emulator/values", params={"semester_id": H2}).json()["values"]
        users = self.tenant.users
        out = {}
        for v in values:
            if v["source"] == "import":
                person = v["field_value_person"]
                value = users[person].id_of(self.uid) if person else (v["field_value"] or "").removesuffix("%")
                out[(v["semester_id"], self.as_uid(v["reviewee_user_id"]), v["metric_id"], v["field_id"])] = value
        return out

    def expected(self) -> dict[Key, str]:
        """What the root says for the open semester, keyed and formed like `held`."""
        result = validate_root(self.root)
        assert result.ok and result.desired is not None, result.problems
        return {(k[0], k[1], k[2], k[3]): v.value.removesuffix("%") for k, v in result.desired.open_values().items()}


@pytest.fixture(params=READINGS)
def reading(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=TYPES)
def served(
    request: pytest.FixtureRequest, reading: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    uid: UserIdType = request.param
    tenant = load_tenant().with_switches(user_object=reading)
    root = copy_example_as(tmp_path / "metrics", uid, tenant=tenant)
    with served_example(tmp_path, monkeypatch, root=root, emulator=Emulator(tenant, import_per_minute=1000)) as s:
        yield Served(s.root, tenant, s.emu, s.url, uid)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def apply(*args: str) -> str:
    code, out = run("apply", "--auto-approve", *args)
    assert code == 0, out
    return out


def edit_alice_revenue_actual(s: Served, old: str, new: str) -> None:
    sales = s.root / "teams" / "sales.yaml"
    text = sales.read_text()
    assert text.count(f"      actual: {old}\n") == 1  # alice's revenue actual
    sales.write_text(text.replace(f"      actual: {old}\n", f"      actual: {new}\n"))


def test_validate_plan_apply_refresh_preflight_and_a_lost_answer(served: Served) -> None:
    s = served
    code, out = run("validate")
    assert code == 0, out
    code, out = run("plan", "--detailed-exitcode")
    assert code == 2 and "215 to create" in out and f"alice ({s.as_uid(ALICE)})" in out, out

    apply()
    assert s.held() == s.expected() and len(s.held()) == 215
    code, out = run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out

    n = len(s.emu.requests("metric_details.query"))
    code, out = run("plan", "--refresh-all", "--detailed-exitcode")
    assert code == 0 and "Drift: 0 values changed" in out, out
    assert len(s.emu.requests("metric_details.query")) > n  # the rows were read

    edit_alice_revenue_actual(s, "1055000", "1100000")
    n = len(s.emu.requests("metric_details.query"))
    code, out = run("plan", "--refresh")  # reads the row the plan touches
    assert code == 0 and "Drift: 0 values changed" in out and "1 to update" in out, out
    assert len(s.emu.requests("metric_details.query")) > n
    n = len(s.emu.requests("reviewees.query"))
    out = apply("--preflight")
    assert len(s.emu.requests("reviewees.query")) > n  # the pre-flight ran, and held nobody back
    assert "Applied 1 value change (1 update)" in out, out
    assert s.held() == s.expected()

    edit_alice_revenue_actual(s, "1100000", "1200000")  # the import lands, its answer is lost, the retry cannot tell
    s.emu.faults.inject("lost_response")
    s.emu.faults.add_commit_hook(lambda _record: s.emu.faults.inject("refuse", code=1234567))
    code, out = run("apply", "--auto-approve")
    assert code == 1 and "may have landed" in out, out
    s.emu.faults.clear()
    records, reads = len(s.emu.import_records()), len(s.emu.requests("metric_details.query"))
    out = apply()
    assert "1 landed-earlier (1 row, 5 values recorded, with 1 request)" in out, out
    assert len(s.emu.import_records()) == records  # settled by reading the row back: not imported again
    assert len(s.emu.requests("metric_details.query")) > reads  # the row read back, by the type under test
    assert s.held() == s.expected()
    code, out = run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def test_drift_names_the_value_changed_in_feishu_by_its_reviewee(served: Served) -> None:
    s = served
    apply()
    # someone changes alice's revenue target in Feishu
    import_by_hand(s.url, ALICE, field_id="4", value="7", params={"user_id_type": "open_id"})
    code, out = run("plan", "--refresh-all", "--detailed-exitcode")
    assert code == 2 and "Drift: 1 value changed" in out and f"alice ({s.as_uid(ALICE)})" in out, out


def test_import_writes_a_reviewee_into_a_root_without_data(served: Served, tmp_path: Path) -> None:
    s = served
    apply()
    fresh = copy_example_as(tmp_path / "fresh", s.uid, tenant=s.tenant, data=False)
    code, out = run("import", "--root", str(fresh), "--semester", "2026-H2", "--reviewees", "alice")
    assert code == 0, out
    written = Served(fresh, s.tenant, s.emu, s.url, s.uid).expected()
    alice = s.as_uid(ALICE)
    assert written and {k[1] for k in written} == {alice}
    assert written == {k: v for k, v in s.expected().items() if k[1] == alice}
    code, out = run("plan", "--root", str(fresh), "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def test_doctor_finds_nothing_to_fix(served: Served) -> None:
    code, out = run("doctor")
    assert code == 0 and "No problems" in out, out


def test_a_person_given_by_email_is_resolved_or_asked_for_by_id(served: Served) -> None:
    """`people resolve` looks an email-only person up by the type under test; contact cannot answer
    people_admin_id, so under it validate asks for the ID in catalog.yaml, and `people resolve` says why it
    cannot help, sending nothing."""
    s = served
    catalog = s.root / "catalog.yaml"
    bob = s.as_uid(BOB)
    quoted = f'"{bob}"' if s.uid == "people_admin_id" else bob  # as copy_example_as writes it
    given = f"bob: {{id: {quoted}, email: bob@example.com}}"
    text = catalog.read_text()
    assert text.count(given) == 1
    catalog.write_text(text.replace(given, "bob: {email: bob@example.com}"))
    code, out = run("validate")
    assert code == 1 and "'bob' is given by email only in catalog.yaml and its user ID is not resolved yet" in out
    code, resolved = run("people", "resolve")
    if s.uid == "people_admin_id":
        assert "give its id there (Feishu's contact API cannot look up a people_admin_id by email)" in out, out
        assert code == 1 and "cannot answer people_admin_id" in resolved and "Traceback" not in resolved, resolved
        assert s.emu.requests("users.batch_get_id") == []
        return
    assert "run `syncer people resolve`" in out, out
    assert code == 0 and f"bob  bob@example.com  {bob}" in resolved, resolved
    code, out = run("validate")
    assert code == 0, out
