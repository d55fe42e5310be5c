"""The GitLab CI template (templates/syncer.yml) run for real with gitlab-ci-local's shell executor, against
`syncer emulator` and the GitLab API stand-in (tests/gitlab/standin.py), both on loopback, and a local bare
git remote: a project built from the README's include (`local:` in place of `remote:`), a merge request
whose first commit has a problem (the plan job fails, the problem is a Code Quality issue, the note says the
YAML is invalid) and whose second fixes it (the same note updated: a plan), then the merge and the apply job,
stopped by max-duration (exit 3), the follow-up job (the trigger API called), the follow-up pipeline's
apply (the rest applied, the state branch pushed), then another apply (nothing to do).

    python3 -m tests.gitlab.ci_local [--keep DIR]

Needs `gitlab-ci-local` (npm install -g gitlab-ci-local; 4.65 runs on Node 20, later ones want Node 22)
and rsync. Each job installs syncer from this checkout's HEAD through the template's `install-spec` input
(`git+file://…@<commit>`, as a project pins a commit before a release exists): commit first. Prints what
each step showed and the time it took; exits 1 on the first step that did not do what it should."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TOKEN = "glpat-ci-local-test"
ENV_OVERRIDES = "CI_PIPELINE_SOURCE,CI_API_V4_URL,CI_PROJECT_ID,CI_MERGE_REQUEST_IID,CI_JOB_TOKEN"
BAD_PERSON = "  nobody_known:\n    nps: {weight: 10%}\n"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _serve(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A server that prints its URL first: the process and the URL."""
    out = log.open("wb")
    proc = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(100):
        text = log.read_text()
        if "\n" in text:
            return proc, text.splitlines()[0].strip()
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{args[0]} printed no URL: {log.read_text()}")


def _project(work: Path, api_url: str) -> Path:
    remote = work / "remote.git"
    _git(work, "init", "-q", "--bare", str(remote))
    proj = work / "metrics-repo"
    proj.mkdir()
    _git(proj, "init", "-q", "-b", "main")
    shutil.copytree(REPO / "metrics", proj / "metrics", ignore=shutil.ignore_patterns(".syncer"))
    (proj / "ci").mkdir()
    shutil.copy(REPO / "templates" / "syncer.yml", proj / "ci" / "syncer.yml")
    head = _git(REPO, "rev-parse", "HEAD").strip()
    (proj / ".gitlab-ci.yml").write_text(
        f'include:\n  - local: ci/syncer.yml\n    inputs:\n      install-spec: "git+file://{REPO}@{head}"\n'
    )
    _git(proj, "add", "-A")
    _git(proj, "commit", "-qm", "metrics")
    # GitLab's clone has an https origin; here git rewrites it to the bare remote.
    _git(proj, "remote", "add", "origin", "https://gitlab.example.com/group/metrics.git")
    _git(proj, "config", f"url.file://{remote}.insteadOf", "https://gitlab.example.com/group/metrics.git")
    _git(proj, "push", "-q", "origin", "main")
    _git(proj, "remote", "set-head", "origin", "main")
    return proj


def _job(proj: Path, job: str, variables: dict[str, str], *, branch: str) -> tuple[int, str, float]:
    """Run `job` (jobs, separated by spaces, run in one pipeline) on `branch` with the shell executor,
    which runs them in the project's own directory: the apply's checkout of the default branch's tip
    detaches it, so each run checks the branch out again (GitLab gives every job a clone of its own)."""
    _git(proj, "checkout", "-q", branch)
    args = ["gitlab-ci-local", "--force-shell-executor", *job.split()]
    for k, v in variables.items():
        args += ["--variable", f"{k}={v}"]
    start = time.monotonic()
    done = subprocess.run(
        args, cwd=proj, capture_output=True, text=True, env={**os.environ, "GCL_IGNORE_PREDEFINED_VARS": ENV_OVERRIDES}
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "WARNING: Location" not in line]
    return done.returncode, "\n".join(lines), time.monotonic() - start


def _artifact(proj: Path, job: str, name: str) -> Any:
    return json.loads((proj / ".gitlab-ci-local" / "artifacts" / job / name).read_text())


def _seen(api_url: str) -> dict[str, Any]:
    """What the stand-in holds: notes by project and merge request, and the refs it triggered."""
    import urllib.request

    with urllib.request.urlopen(api_url.removesuffix("/api/v4") + "/_standin/notes") as resp:
        seen: dict[str, Any] = json.load(resp)
    return seen


def _notes(api_url: str) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = _seen(api_url)["1"]["1"]
    return notes


def _check(ok: bool, what: str, output: str) -> None:
    if not ok:
        print(output[-4000:])
        raise SystemExit(f"FAILED: {what}")
    print(f"  ok: {what}")


def run(work: Path) -> None:
    emulator, emu_url = _serve([sys.executable, "-m", "syncer", "emulator", "--port", "0"], work / "emulator.log")
    standin, api_url = _serve([sys.executable, "-m", "tests.gitlab.standin", "--token", TOKEN], work / "standin.log")
    try:
        proj = _project(work, api_url)
        mr = {
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_API_V4_URL": api_url,
            "CI_PROJECT_ID": "1",
            "CI_MERGE_REQUEST_IID": "1",
            "GITLAB_TOKEN": TOKEN,
            "FEISHU_BASE_URL": emu_url,
        }
        sales = proj / "metrics" / "teams" / "sales.yaml"
        _git(proj, "checkout", "-q", "-b", "raise-alice")
        sales.write_text(sales.read_text().replace("actual: 1055000", "actual: 1160000") + BAD_PERSON)
        _git(proj, "commit", "-qam", "alice's actual, and a person the catalog lacks")

        print("1. merge request, first commit (a person the catalog lacks): syncer-plan")
        rc, out, took = _job(proj, "syncer-plan", mr, branch="raise-alice")
        print(f"  gitlab-ci-local exit {rc} in {took:.0f} s")
        issues = _artifact(proj, "syncer-plan", "gl-code-quality-syncer.json")
        _check(rc != 0, "the plan job fails", out)
        _check(
            any(i["location"]["path"] == "metrics/teams/sales.yaml" and i["severity"] == "critical" for i in issues),
            f"a Code Quality issue on metrics/teams/sales.yaml: {issues[0]['check_name']} line "
            f"{issues[0]['location']['lines']['begin']}: {issues[0]['description']}",
            out,
        )
        notes = _notes(api_url)
        _check(len(notes) == 1 and "the YAML is invalid" in notes[0]["body"], f"note {notes[0]['id']} created", out)

        print("2. merge request, second commit (fixed): syncer-plan")
        sales.write_text(sales.read_text().replace(BAD_PERSON, ""))
        _git(proj, "commit", "-qam", "drop the unknown person")
        rc, out, took = _job(proj, "syncer-plan", mr, branch="raise-alice")
        print(f"  gitlab-ci-local exit {rc} in {took:.0f} s")
        _check(rc == 0, "the plan job passes", out)
        _check(_artifact(proj, "syncer-plan", "gl-code-quality-syncer.json") == [], "no Code Quality issue", out)
        again = _notes(api_url)
        _check(
            [n["id"] for n in again] == [notes[0]["id"]] and "the YAML is invalid" not in again[0]["body"],
            f"the same note {again[0]['id']} updated: {again[0]['body'].splitlines()[3]}",
            out,
        )
        _check("(redacted)" in again[0]["body"] or "values redacted" in again[0]["body"], "values redacted", out)

        print("3. merged: syncer-apply on main, stopped by max-duration (an 8 s budget, requests 6 s apart)")
        _git(proj, "checkout", "-q", "main")
        _git(proj, "merge", "-q", "--ff-only", "raise-alice")
        _git(proj, "push", "-q", "origin", "main")
        apply_vars = {
            "CI_PIPELINE_SOURCE": "web",
            "FEISHU_APP_ID": "cli_emulator",
            "FEISHU_APP_SECRET": "emulator_secret",
            "FEISHU_BASE_URL": emu_url,
            "CI_API_V4_URL": api_url,
            "CI_PROJECT_ID": "1",
            "CI_JOB_TOKEN": "job-token-of-gitlab-ci-local",  # GitLab sets it; gitlab-ci-local does not
        }
        rc, out, took = _job(proj, "syncer-apply syncer-follow-up", {**apply_vars, "MAX_DURATION": "8"}, branch="main")
        print(f"  gitlab-ci-local exit {rc} in {took:.0f} s")
        stopped = next((line for line in out.splitlines() if "max-duration" in line and "stopped" in line), "")
        _check(rc == 0 and bool(stopped), f"syncer-apply: exit 3: {stopped.partition('> ')[2]}", out)
        _check(
            _seen(api_url)["triggered"] == ["main"],
            "syncer-follow-up (SYNCER_APPLY_RC=3 from the dotenv report): the trigger API called for main",
            out,
        )

        print("4. the follow-up pipeline: syncer-apply goes on, syncer-follow-up has nothing to do")
        rc, out, took = _job(proj, "syncer-apply syncer-follow-up", apply_vars, branch="main")
        print(f"  gitlab-ci-local exit {rc} in {took:.0f} s")
        applied = next((line for line in out.splitlines() if "Applied " in line), "")
        _check(rc == 0 and bool(applied), applied.partition("> ")[2], out)
        state = _git(work / "remote.git", "log", "--oneline", "-1", "syncer-state").strip()
        _check(bool(state), f"the state branch pushed to the bare remote: {state}", out)
        _check(
            _seen(api_url)["triggered"] == ["main"] and "no follow-up needed (apply exit 0)" in out,
            "no further pipeline triggered",
            out,
        )

        print("5. another apply: nothing to do")
        rc, out, took = _job(proj, "syncer-apply", apply_vars, branch="main")
        print(f"  gitlab-ci-local exit {rc} in {took:.0f} s")
        _check(rc == 0 and "No changes" in out, "no changes", out)
    finally:
        for proc in (emulator, standin):
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this (new) directory and leave it")
    args = parser.parse_args()
    if shutil.which("gitlab-ci-local") is None or shutil.which("rsync") is None:
        raise SystemExit("needs gitlab-ci-local (npm install -g gitlab-ci-local@4.65.1) and rsync")
    start = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True)
        run(args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp))
    print(f"all steps passed in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
