"""Hostile names and values, through the real CLI in every output format: nothing a file name, an alias, a
value or a message from Feishu holds can open a GitHub workflow command or put a raw control character in
the output. The only `::` lines are the annotations syncer writes itself, with the hostile text escaped
inside them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syncer.cli import cli
from syncer.emulator import Emulator, envelope
from syncer.text import WORKFLOW_COMMAND_LINE
from tests.emulated import served_example
from tests.example import copy_example, fast_imports

# What a hostile pull request or server would write: a line break then a command, a lone CR (the runner
# breaks lines there too), the legacy `##[` prefix, a terminal escape, a Unicode line separator and a bidi
# override. Every forged command names FORGED in its properties or as its command.
PAYLOAD = "\n::error file=FORGED::x\r::warning::FORGED ##[add-mask]FORGED \x1b[2J\u2028\u202e\ud800"
# In the root, the terminal escape is the 8-bit CSI (U+009B): a C0 control (ESC) is no value syncer takes
# (bad-character: the state could not record it), so a valid root cannot hold one.
YAML_PAYLOAD = "\\n::error file=FORGED::x\\r::warning::FORGED ##[add-mask]FORGED \\x9b2J\\u2028\\u202e"
EVIL_ALIAS = "::warning::FORGED-alias##[add-mask]\x9b31m"
EVIL_ALIAS_YAML = '"::warning::FORGED-alias##[add-mask]\\x9b31m"'
EVIL_FILE = "x\n::warning file=FORGED::forged ##[add-mask]y.yaml"
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
LINES = re.compile(r"\r\n|\r|\n")


def assert_inert(output: str) -> None:
    """No forged workflow command and no raw control character anywhere in `output`."""
    assert "##[" not in output, "a legacy ##[ command reached the output"
    found = RAW_CONTROLS.search(output)
    assert found is None, f"raw control character {found.group()!r} in the output" if found else ""
    for line in LINES.split(output):
        if line.lstrip().startswith("::"):
            assert WORKFLOW_COMMAND_LINE.match(line), f"a line opens a command syncer did not write: {line!r}"
            command, _, _ = line[2:].partition("::")
            _, _, props = command.partition(" ")
            pairs = dict(p.split("=", 1) for p in props.split(",")) if props else {}
            assert set(pairs) <= {"file", "line", "col", "title"}, f"a forged property: {line!r}"
            if "file" in pairs:  # hostile text in a file name stays inside the property, escaped
                assert Path(unescape_property(pairs["file"])).exists(), f"an annotation on a forged file: {line!r}"


def unescape_property(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text.replace("##\\u005b", "##[")


def hostile_root(root: Path) -> Path:
    copy_example(root)
    (root / "archive" / "2026-H1-sales.yaml").unlink()
    fast_imports(root)
    for path in [root / "catalog.yaml", *(root / "teams").glob("*.yaml")]:
        text = path.read_text()
        path.write_text(
            text.replace("  alice: ou_", f"  {EVIL_ALIAS_YAML}: ou_").replace("  alice:\n", f"  {EVIL_ALIAS_YAML}:\n")
        )
    (root / "teams" / EVIL_FILE).write_text(
        "semester: 2026-H2\n"
        "reviewees:\n"
        f"  {EVIL_ALIAS_YAML}:\n"
        "    incidents:\n"
        "      weight: 0\n"
        "      target: 3\n"
        f'      note: "{YAML_PAYLOAD}"\n'
    )
    return root


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Emulator]]:
    with served_example(tmp_path, monkeypatch, root=hostile_root(tmp_path / "metrics")) as s:
        yield s.root, s.emu


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_the_hostile_root_is_valid_so_every_command_renders_it(served: tuple[Path, Emulator]) -> None:
    code, out = run("validate")
    assert code == 0, out
    assert (served[0] / "teams" / EVIL_FILE).exists()


@pytest.mark.parametrize("fmt", ["text", "json", "github", "gitlab"])
def test_hostile_file_names_and_values_forge_nothing_in_validate(served: tuple[Path, Emulator], fmt: str) -> None:
    evil = served[0] / "teams" / EVIL_FILE
    # an ESC in a value and in a key is refused (bad-character), and quoted escaped in the refusal
    text = (
        evil.read_text().replace("\\x9b2J", "\\e[2J").replace(EVIL_ALIAS_YAML, EVIL_ALIAS_YAML.replace("\\x9b", "\\e["))
    )
    evil.write_text(text + f"  nobody{YAML_PAYLOAD[:2]}x:\n    csat: {{weight: 1}}\n")
    code, out = run("validate", "--format", fmt)
    assert code == 1
    assert "bad-character" in out
    assert_inert(out)
    if fmt == "github":
        assert any(line.startswith("::error file=") for line in out.splitlines())


@pytest.mark.parametrize("fmt", ["text", "json", "github", "markdown", "gitlab"])
def test_hostile_file_names_aliases_and_values_forge_nothing_in_plan(served: tuple[Path, Emulator], fmt: str) -> None:
    code, out = run("plan", "--format", fmt)
    assert code == 0, out
    assert_inert(out)
    if fmt in ("text", "markdown"):
        assert "FORGED-alias" in out and "line1" not in out  # shown, escaped


def test_hostile_values_forge_nothing_in_apply_state_and_drift(served: tuple[Path, Emulator]) -> None:
    code, out = run("apply", "--auto-approve")
    assert code in (0, 4), out
    assert_inert(out)
    for args in (["state", "show"], ["state", "show", "--format", "json"]):
        code, out = run(*args)
        assert code == 0
        assert_inert(out)
    for fmt in ("text", "github", "markdown", "json"):
        code, out = run("plan", "--refresh-all", "--format", fmt)
        assert code == 0, out
        assert_inert(out)


def test_hostile_feishu_messages_forge_nothing(served: tuple[Path, Emulator], monkeypatch: pytest.MonkeyPatch) -> None:
    real = envelope.error

    def hostile(seq: int, status: int, code: int, msg: str, *rest: Any) -> Any:
        return real(seq, status, code, msg + PAYLOAD, *(r + PAYLOAD if r else r for r in rest))

    monkeypatch.setattr("syncer.emulator.app.error", hostile)  # the name app answers errors through
    code, out = run("apply", "--auto-approve")  # alice's rows are refused: the refusal carries the payload
    assert code == 4, out
    assert_inert(out)
    served[1].faults.inject("error", endpoint="metric_details.query", times=20)  # a failing read
    code, out = run("plan", "--refresh-all")
    assert code == 1 and "1580101" in out, out
    assert_inert(out)


def test_a_hostile_name_in_an_error_message_forges_nothing(tmp_path: Path) -> None:
    root = tmp_path / f"r{PAYLOAD}"
    code, out = run("validate", "--root", str(root))
    assert code == 1
    assert_inert(out)


def test_an_error_quoting_a_path_with_a_line_break_stays_one_line(tmp_path: Path) -> None:
    saved = tmp_path / "p\n::warning::x\rplan.json"
    saved.write_text("[1]")
    root = hostile_root(tmp_path / "m")
    result = CliRunner().invoke(cli, ["apply", "--root", str(root), "--plan", str(saved), "--auto-approve"])
    errors = [line for line in LINES.split(result.output) if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "p\\n::warning::x\\rplan.json" in errors[0]
    assert_inert(result.output)


def test_click_usage_errors_and_debug_tracebacks_are_escaped(tmp_path: Path) -> None:
    code, out = run("plan", "--root", str(tmp_path), f"extra{PAYLOAD}")
    assert code == 1 and "unexpected extra argument" in out
    assert_inert(out)
    code, out = run("--debug", "validate", "--root", str(tmp_path / f"r{PAYLOAD}"))
    assert code == 1
    assert_inert(out)


def test_a_file_name_that_is_not_utf8_is_escaped(tmp_path: Path) -> None:
    import os

    root = hostile_root(tmp_path / "m")
    os.rename(root / "teams" / "sales.yaml", os.fsencode(root / "teams") + b"/sales-\xff.yaml")
    _, out = run("plan", "--root", str(root))
    assert "internal error" not in out and "sales-\\udcff.yaml" in out, out
    assert_inert(out)
