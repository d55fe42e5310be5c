"""The composite action installs syncer from its own source at the commit it is pinned to, or a release
when given one, and leaves the job's Python alone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.paths import REPO
from tests.workflowfiles import load


def _run_install(tmp_path: Path, version: str, action_path: Path, extras: str = "") -> subprocess.CompletedProcess[str]:
    """The action's install step with a stand-in python3 that records what pip was asked to install."""
    action = load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "install"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    venv_python = bin_dir / "venv-python"  # records its last argument: what pip was asked to install
    venv_python.write_text('#!/bin/sh\nfor a; do last=$a; done\necho "$last" > "$(dirname "$0")/pip-asked"\n')
    venv_syncer = bin_dir / "venv-syncer"
    venv_syncer.write_text("#!/bin/sh\necho syncer 9.9.9\n")
    python3 = bin_dir / "python3"  # python3 -m venv DIR
    python3.write_text(
        f'#!/bin/sh\nmkdir -p "$3/bin"\ncp {venv_python} "$3/bin/python"\ncp {venv_syncer} "$3/bin/syncer"\n'
    )
    for script in (venv_python, venv_syncer, python3):
        script.chmod(0o755)
    source = step["env"]["SYNCER_SOURCE"].replace("${{ github.action_path }}", str(action_path))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_PATH": str(tmp_path / "github_path"),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "SYNCER_VERSION": version,
        "SYNCER_EXTRAS": extras,
        "SYNCER_SOURCE": source,
    }
    return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)


def _asked(tmp_path: Path) -> str:
    return (tmp_path / "syncer-venv" / "bin" / "pip-asked").read_text().strip()


def test_the_action_installs_the_source_of_the_commit_it_is_pinned_to(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _asked(tmp_path) == f"{REPO}[rules]"  # the repository the action came with, not the package index
    assert (tmp_path / "github_path").read_text() == f"{tmp_path}/syncer-bin\n"
    assert (tmp_path / "github_output").read_text() == "version=9.9.9\n"


def test_the_action_installs_a_release_when_given_one(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "0.1.0", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _asked(tmp_path) == "feishu-syncer[rules]==0.1.0"


def test_the_action_installs_the_extras_asked_for_with_the_source_or_a_release(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "", REPO / ".github" / "actions" / "syncer", extras="html,sheet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _asked(tmp_path) == f"{REPO}[rules,html,sheet]"
    done = _run_install(tmp_path, "0.1.0", REPO / ".github" / "actions" / "syncer", extras="html")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _asked(tmp_path) == "feishu-syncer[rules,html]==0.1.0"


def test_the_action_refuses_extras_that_are_not_names(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "", REPO / ".github" / "actions" / "syncer", extras="html] @ https://evil")
    assert done.returncode == 1
    assert "extras must be names of syncer's optional features" in done.stdout
    assert not (tmp_path / "syncer-venv").exists()


def test_the_action_refuses_a_version_that_is_not_a_release(tmp_path: Path) -> None:
    done = _run_install(tmp_path, "1.0; rm -rf /", REPO / ".github" / "actions" / "syncer")
    assert done.returncode == 1
    assert "must be empty (this action's own source) or a syncer release" in done.stdout
    assert not (tmp_path / "syncer-venv").exists()


def test_the_action_says_so_when_no_syncer_source_comes_with_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "a" / "b" / "c" / "d"
    elsewhere.mkdir(parents=True)
    done = _run_install(tmp_path, "", elsewhere)
    assert done.returncode == 1
    assert "no feishu-syncer source next to this action" in done.stdout
    assert not (tmp_path / "syncer-venv").exists()


def test_the_composite_action_leaves_python_alone() -> None:
    action = load(REPO / ".github" / "actions" / "syncer" / "action.yml")
    assert action["inputs"]["setup-python"]["default"] == "false"
    assert action["inputs"]["version"]["default"] == ""
    steps = action["runs"]["steps"]
    setup = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert [s.get("if") for s in setup] == ["inputs.setup-python == 'true'"]
    script = "\n".join(str(s.get("run", "")) for s in steps)
    assert 'python3 -m venv "$venv"' in script
    assert 'ln -sf "$venv/bin/syncer"' in script  # only the command on the PATH, not the venv's python
