"""What a failed git command tells: its own words without git's hints (syncer.state.git.cmd.Git.error), and
for a remote, what to do about it (syncer.state.git.remote.Remote.explain): credentials, the remote's name,
or the network. Each case is git's or a forge's actual wording of that failure."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from syncer.state.git.cmd import Git, GitError
from syncer.state.git.remote import Remote

TOKEN = (
    "pass a token in GITHUB_TOKEN (in GitHub Actions: `env: GITHUB_TOKEN: ${{ github.token }}`, "
    "with `permissions: contents: write` to apply) or in SYNCER_GIT_TOKEN (on GitLab: a project access "
    "token with the write_repository scope and the Developer role; CI_JOB_TOKEN pushes only where the project "
    "allows Git pushes with the job token)"
)
CREDENTIALS = f"the remote needs credentials that allow this: {TOKEN}"
NAME = "check state.remote (origin) in syncer.yaml"
PRIVATE = f"{NAME}; for a private repository, {TOKEN}"
NETWORK = "check the network and try again"


def failed(stdout: str, stderr: str, returncode: int = 128) -> subprocess.CompletedProcess[bytes]:
    return subprocess.CompletedProcess(["git"], returncode, stdout.encode(), stderr.encode())


def test_a_failure_is_told_by_its_stderr_without_hints_then_stdout_then_its_exit_code(tmp_path: Path) -> None:
    git = Git(tmp_path, environ={})
    err = git.error(failed("out", "hint: try this\nfatal: bad ref\n  second line \n"), "git push")
    assert str(err) == "git push failed: fatal: bad ref; second line"
    assert (err.returncode, err.stdout, err.stderr) == (128, "out", "hint: try this\nfatal: bad ref\n  second line \n")
    assert str(git.error(failed("o" * 400, "hint: only a hint\n"), "git fetch")) == f"git fetch failed: {'o' * 300}"
    assert str(git.error(failed("", "e" * 700), "git fetch")) == f"git fetch failed: {'e' * 600}"
    assert str(git.error(failed("", "", 3), "git fetch")) == "git fetch failed: exit code 3"


@pytest.mark.parametrize(
    ("stderr", "hint"),
    [
        ("fatal: could not read Username for 'https://github.com': terminal prompts disabled", CREDENTIALS),
        ("fatal: could not read Password for 'https://x@github.com': terminal prompts disabled", CREDENTIALS),
        (
            "fatal: Authentication failed for 'https://github.com/o/r/'",
            CREDENTIALS,
        ),
        ("fatal: unable to access 'https://h/o/r/': The requested URL returned error: 401", CREDENTIALS),
        ("fatal: unable to access 'https://h/o/r/': The requested URL returned error: 403", CREDENTIALS),
        ("remote: Permission to o/r.git denied to github-actions[bot].", CREDENTIALS),
        ("git@github.com: Permission denied (publickey).", CREDENTIALS),
        ("remote: You are not authorized to push code to this project.", CREDENTIALS),
        ("remote: invalid username or password", CREDENTIALS),
        ("remote: Repository not found.\nfatal: repository 'https://github.com/o/r.git/' not found", PRIVATE),
        ("fatal: unable to access 'https://h/o/r/': The requested URL returned error: 404", PRIVATE),
        ("fatal: 'origin' does not appear to be a git repository", NAME),
        ("error: No such remote 'origin'", NAME),
        ("fatal: Could not read from remote repository.", NAME),
        ("fatal: unable to access 'https://h/o/r/': Could not resolve host: h", NETWORK),
    ],
)
def test_a_remote_failure_says_what_to_do(tmp_path: Path, stderr: str, hint: str) -> None:
    exc = GitError("git fetch origin failed: x", returncode=128, stdout="out", stderr=stderr)
    told = Remote(Git(tmp_path, environ={}), "origin").explain(exc)
    assert str(told) == f"git fetch origin failed: x; {hint}"
    assert (told.returncode, told.stdout, told.stderr) == (128, "out", stderr)
