"""Shell completion as the README documents it: `_SYNCER_COMPLETE=bash_source syncer` prints a script, and
bash completes commands and choices with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SYNCER = [sys.executable, "-m", "syncer"]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _syncer_completion syncer"),
        ("zsh", "#compdef syncer"),
        ("fish", "function _syncer_completion"),
    ],
)
def test_each_shell_gets_a_script(shell: str, marker: str) -> None:
    done = subprocess.run(SYNCER, env=_env(_SYNCER_COMPLETE=f"{shell}_source"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("syncer f", "1", {"fmt"}), ("syncer validate --format ", "3", {"text", "json", "github", "gitlab"})],
)
def test_commands_and_choices_complete(words: str, cword: str, expected: set[str]) -> None:
    env = _env(_SYNCER_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword)
    done = subprocess.run(SYNCER, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {line.split(",", 1)[1] for line in done.stdout.splitlines() if line.startswith("plain,")} == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_with_the_script() -> None:
    bindir = Path(sys.executable).parent  # the script runs `syncer` by name: the one installed with this Python
    if not (bindir / "syncer").exists():
        pytest.skip(f"no syncer command next to {sys.executable}")
    env = _env(PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    script = subprocess.run(SYNCER, env=_env(_SYNCER_COMPLETE="bash_source"), capture_output=True, text=True).stdout
    probe = script + 'COMP_WORDS=(syncer st); COMP_CWORD=1; _syncer_completion syncer; echo "${COMPREPLY[@]}"\n'
    done = subprocess.run(["bash", "--norc", "--noprofile"], input=probe, env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["state"], done.stderr
