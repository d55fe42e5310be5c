"""Every user mistake is a located message and exit 1, through the real CLI: never "internal error", which
is kept for syncer's own bugs. One test per mistake, named after it."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.apply.run import read_saved_plan
from syncer.cli import cli
from syncer.errors import RefusedError
from syncer.state.seal import seal_file
from tests.example import copy_example


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def refused(code: int, out: str, *expected: str) -> None:
    assert code == 1, out
    assert "internal error" not in out and "Traceback" not in out, out
    for text in expected:
        assert text in out, out


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example(tmp_path / "metrics")


def _set(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    new = re.sub(pattern, replacement, text, count=1, flags=re.M)
    assert new != text
    path.write_text(new)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://open.feishu.cn:abc", "Port could not be cast"),
        ("https://[::1", "Invalid IPv6 URL"),
        ("https://open.feishu.cn:70000", "Port out of range"),
    ],
)
def test_a_base_url_that_is_not_a_url_is_located_by_validate_and_refused_by_plan(
    root: Path, url: str, why: str
) -> None:
    _set(root / "syncer.yaml", r"base_url: .*$", f'base_url: "{url}"')
    code, out = run("validate")
    refused(code, out, "metrics/syncer.yaml:4:13: error:", why, "[bad-url]")
    refused(*run("plan"), "metrics/syncer.yaml:4:13")


def test_a_base_url_from_the_environment_that_is_not_a_url_is_one_line(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEISHU_BASE_URL", "https://[::1")
    refused(*run("plan"), "error: FEISHU_BASE_URL 'https://[::1' is not a URL")


def test_an_unquoted_integer_past_pythons_conversion_limit_is_located(root: Path) -> None:
    _set(root / "syncer.yaml", r"import_per_minute: \d+", "import_per_minute: " + "9" * 5000)
    refused(*run("validate"), "metrics/syncer.yaml:6:22: error:")
    _set(root / "catalog.yaml", r'2026-H2: \{id: "\d+"', "2026-H2: {id: " + "7" * 5000)
    refused(*run("state", "show"), "metrics/syncer.yaml:6:22")


def test_apply_plan_on_a_file_that_is_not_a_plan_is_refused_before_any_credential(root: Path, tmp_path: Path) -> None:
    for text, why in [
        ("[1, 2]", "JSON an array, not an object"),
        ("{", "not JSON"),
        ('{"plan_format": 2}', "no checksum"),
        ('{"plan_format": 7, "checksum": "x"}', "plan_format 7"),
    ]:
        saved = tmp_path / "plan.json"
        saved.write_text(text)
        refused(*run("apply", "--plan", str(saved), "--auto-approve"), f"--plan {saved}: not a plan file", why)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["plan_format", "checksum", "state", "x"]), inner, max_size=4)
        ),
        max_leaves=6,
    )
)
def test_any_json_given_as_a_saved_plan_is_accepted_or_refused_in_words(doc: object) -> None:
    try:
        read_saved_plan(json.dumps(doc), display="--plan p.json")
    except RefusedError as exc:
        assert "--plan p.json: not a plan file" in str(exc)


def test_the_emulator_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(*run("emulator", "--port", str(port)), f"cannot listen on 127.0.0.1:{port}", "another --port")


def test_state_commands_refuse_a_typo_in_the_settings_instead_of_running_on_defaults(root: Path) -> None:
    _set(root / "syncer.yaml", r"^  branch:", "  brnch:")
    for args in (["state", "show"], ["state", "rm", "--semester", "2026-H2", "--yes"], ["state", "unlock"]):
        refused(*run(*args), "metrics/syncer.yaml:", "unknown key(s) 'brnch'", "syncer.yaml is invalid")


def test_state_commands_refuse_a_broken_catalog(root: Path) -> None:
    _set(root / "catalog.yaml", r"^semesters:", "semesterz:")
    refused(*run("state", "show"), "metrics/catalog.yaml:", "catalog.yaml is invalid")


def _applied(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from syncer.emulator import Emulator, EmulatorServer

    _set(root / "syncer.yaml", r"import_per_minute: \d+", "import_per_minute: 1000")
    with EmulatorServer(Emulator(import_per_minute=1000)) as server:
        monkeypatch.setenv("FEISHU_BASE_URL", server.url)
        monkeypatch.setenv("FEISHU_APP_ID", "cli_emulator")
        monkeypatch.setenv("FEISHU_APP_SECRET", "emulator_secret")
        code, out = run("apply", "--auto-approve")
        assert code == 0, out
    return root / ".syncer" / "state"


def test_a_state_directory_whose_meta_json_is_gone_is_damaged_not_new(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _applied(root, monkeypatch)
    (state / "meta.json").unlink()
    for args in (["plan"], ["state", "show"]):
        refused(*run(*args), "meta.json: the state is damaged: missing, though", "log.jsonl", "docs/state.md")


@pytest.mark.parametrize(
    ("file", "damage", "where"),
    [
        ("log.jsonl", '{"s": 99, "op": "forget", "keys": [["7293040702907514899", "ou_x"]]}\n', "log.jsonl:1"),
        ("log.jsonl", '{"s": 99, "op": "paced", "at": "yesterday"}\n', "log.jsonl:1"),
        ("rejections.jsonl", '{"row": "not a list"}\n', "rejections.jsonl:1"),
        ("semesters/7293040702907514899.jsonl", '["ou_x", "7272580325522276372", 1, {"2": 60}]\n', "jsonl:1"),
    ],
    ids=["a-log-key-too-short", "a-garbage-pacing-time", "a-rejection-not-a-list", "a-value-not-text"],
)
def test_a_damaged_state_file_is_named_with_its_line_and_advice(
    root: Path, monkeypatch: pytest.MonkeyPatch, file: str, damage: str, where: str
) -> None:
    state = _applied(root, monkeypatch)
    target = state / file
    target.write_text(damage + (target.read_text() if target.exists() and file != "log.jsonl" else ""))
    for args in (["plan"], ["state", "show"]):
        refused(*run(*args), where, "the state is damaged", "restore the state directory")


@pytest.mark.parametrize("url", ["https://xn--", "https://[v1.x]", "https://" + "a" * 300 + ".cn", "https://h.cn:0"])
def test_a_base_url_whose_host_cannot_be_reached_is_located_too(root: Path, url: str) -> None:
    _set(root / "syncer.yaml", r"base_url: .*$", f'base_url: "{url}"')
    refused(*run("validate"), "metrics/syncer.yaml:4:13: error:", "[bad-url]")
    refused(*run("apply", "--base-url", url, "--auto-approve"), "is not a URL")


def test_json_nested_too_deeply_in_a_state_file_is_damage(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = _applied(root, monkeypatch)
    (state / "batches.jsonl").write_text(seal_file(["[" * 100_000 + "]" * 100_000]))
    refused(*run("state", "show"), "batches.jsonl:1: the state is damaged", "nested too deeply")


def test_an_emptied_shard_is_damage_not_a_state_with_nothing_applied(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _applied(root, monkeypatch)
    shard = state / "semesters" / "7293040702907514899.jsonl"
    shard.write_text("")
    for args in (["plan"], ["state", "show"]):
        refused(*run(*args), "7293040702907514899.jsonl:1: the state is damaged: the end line is missing")
    shard.write_text(seal_file([]))  # emptied by someone who knows the format: meta.json's counts tell
    for args in (["plan"], ["state", "show"]):
        refused(*run(*args), "7293040702907514899.jsonl: the state is damaged: it holds 0 values", "meta.json says")


def test_a_shard_digit_edited_to_equal_the_new_yaml_value_is_damage_not_no_changes(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _applied(root, monkeypatch)
    _set(root / "teams" / "sales.yaml", "actual: 1055000", "actual: 1055001")  # alice's revenue, one digit
    shard = state / "semesters" / "7293040702907514899.jsonl"
    lines = shard.read_text().split("\n")
    [n] = [i for i, line in enumerate(lines, 1) if '"1055000"' in line]
    lines[n - 1] = lines[n - 1].replace('"1055000"', '"1055001"')  # the state edited by hand to match
    shard.write_text("\n".join(lines))
    code, out = run("plan", "--detailed-exitcode")
    refused(code, out, f"7293040702907514899.jsonl:{n}: the state is damaged: the line does not match its checksum")
    assert "No changes" not in out and "restore the state directory from a backup" in out


def test_a_lock_file_that_is_not_text_is_shown_and_cleared(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = _applied(root, monkeypatch)
    (state / "lock").write_bytes(b"\xff\xfe{")
    code, out = run("state", "show")
    assert code == 0 and "internal error" not in out
    code, out = run("state", "unlock", "--force")
    assert code == 0 and "internal error" not in out


def test_the_emulator_on_a_host_that_is_no_host_name_says_so() -> None:
    refused(*run("emulator", "--host", ".ü"), "--host '.ü' is not an address to listen on")


def test_an_alias_ending_in_a_line_break_is_refused(root: Path) -> None:
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("  alice: ou_", '  "alice\\n": ou_'))
    refused(*run("validate"), "metrics/catalog.yaml:", "'alice\\n' is not a valid alias")


def test_a_symlinked_state_directory_under_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    import os

    (tmp_path / "elsewhere").mkdir()
    (root / ".syncer").mkdir()
    os.symlink(tmp_path / "elsewhere", root / ".syncer" / "state")
    refused(*run("state", "show"), "metrics/.syncer/state is a symbolic link")
