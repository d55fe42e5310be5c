"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit in a throwaway repository.

By default the hooks run as `language: system` hooks copied from our manifest (same entry, files and
pass_filenames), with the syncer of this test run on the PATH: pre-commit installs nothing and no network
is needed. With SYNCER_TEST_PRECOMMIT_INSTALL=1, the manifest is used as published (`language: python`):
pre-commit builds a virtualenv from a snapshot of this checkout, which needs the package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.example import copy_example
from tests.gitenv import isolate_git
from tests.paths import REPO

MANIFEST = REPO / ".pre-commit-hooks.yaml"


def _manifest() -> list[dict[str, Any]]:
    hooks = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(hooks, list)
    return hooks


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("pre-commit") is None and not (Path(sys.executable).parent / "pre-commit").exists():
        pytest.skip("pre-commit is not installed (it is in the test extra)")
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    repo = tmp_path / "hr-metrics"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    copy_example(repo / "metrics")
    (repo / "notes.yaml").write_text("not:   syncer's\n")
    return repo


def _run(repo: Path) -> subprocess.CompletedProcess[str]:
    _git(repo, "add", "-A")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def _local_config(repo: Path) -> None:
    # A system hook takes no additional_dependencies: this environment has them (the rules extra) already.
    hooks = [
        {**{k: v for k, v in h.items() if k != "additional_dependencies"}, "language": "system"} for h in _manifest()
    ]
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))


def test_the_manifest_declares_both_hooks() -> None:
    hooks = {h["id"]: h for h in _manifest()}
    assert set(hooks) == {"syncer-validate", "syncer-fmt"}
    assert hooks["syncer-validate"]["pass_filenames"] is False  # the rules span files: the whole root
    assert hooks["syncer-validate"]["additional_dependencies"] == ["cel-expr-python>=0.1.3"]  # company rules
    assert hooks["syncer-fmt"].get("pass_filenames", True) is True  # only the files staged
    assert all(h["language"] == "python" for h in hooks.values())


def test_the_hooks_pass_a_clean_root_and_leave_other_files_alone(repo: Path) -> None:
    _local_config(repo)
    done = _run(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "syncer validate" in done.stdout and "syncer fmt" in done.stdout
    assert (repo / "notes.yaml").read_text() == "not:   syncer's\n"


def test_fmt_rewrites_a_file_and_fails_once_and_validate_locates_a_mistake(repo: Path) -> None:
    _local_config(repo)
    sales = repo / "metrics" / "teams" / "sales.yaml"
    original = sales.read_text()
    sales.write_text(original.replace("      weight: 60%\n      unit: CNY", "      unit:    CNY\n      weight: 60%", 1))
    done = _run(repo)
    assert done.returncode == 1
    assert "reformatted metrics/teams/sales.yaml" in done.stdout
    assert sales.read_text() == original
    assert _run(repo).returncode == 0
    sales.write_text(original.replace("target: 1000000", "target: 1,000,000", 1))
    done = _run(repo)
    assert done.returncode == 1
    assert "metrics/teams/sales.yaml:9:" in done.stdout


@pytest.mark.skipif(
    os.environ.get("SYNCER_TEST_PRECOMMIT_INSTALL") != "1",
    reason="installs the hooks' virtualenv from the package index; set SYNCER_TEST_PRECOMMIT_INSTALL=1",
)
def test_the_published_hooks_install_and_run(repo: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "syncer-snapshot"  # this checkout as it is now, committed (pre-commit clones a rev)
    files = _git(REPO, "ls-files", "-co", "--exclude-standard").splitlines()
    for name in files:
        if (REPO / name).is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, snapshot / name)
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-qm", "snapshot")
    rev = _git(snapshot, "rev-parse", "HEAD").strip()
    config = {
        "repos": [{"repo": str(snapshot), "rev": rev, "hooks": [{"id": "syncer-validate"}, {"id": "syncer-fmt"}]}]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    done = _run(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "syncer validate" in done.stdout
