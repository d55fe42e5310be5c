"""The GitLab CI template (templates/syncer.yml) as the README promises it: its inputs declared and used,
the README's include naming only those, the jobs' rules, the apply in its protected environment one at a
time, the follow-up job without the environment (so without the Feishu secrets), no token echoed.

Running it for real is `python3 -m tests.gitlab.ci_local` (gitlab-ci-local, about 3 minutes): the last
test here does that when SYNCER_TEST_GITLAB_CI_LOCAL=1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.paths import REPO

TEMPLATE = REPO / "templates" / "syncer.yml"
INPUT_USE = re.compile(r"\$\[\[\s*inputs\.([a-z0-9-]+)\s*\]\]")


class _Loader(yaml.SafeLoader):
    """GitLab's YAML: `!reference [job, key]` read as the list it names."""


def _reference(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
    assert isinstance(node, yaml.SequenceNode)
    return ["!reference", *loader.construct_sequence(node)]


_Loader.add_constructor("!reference", _reference)


def _documents() -> tuple[dict[str, Any], dict[str, Any], str]:
    text = TEMPLATE.read_text()
    spec, jobs = yaml.load_all(text, Loader=_Loader)
    return spec["spec"]["inputs"], jobs, text.split("\n---\n", 1)[1]


def _readme_include() -> dict[str, Any]:
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- gitlab-include -->", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    doc: dict[str, Any] = yaml.safe_load(textwrap.dedent(block))
    return doc


def test_every_input_is_declared_and_every_declared_input_is_used() -> None:
    inputs, _, body = _documents()
    assert set(INPUT_USE.findall(body)) == set(inputs)
    for name, spec in inputs.items():
        assert "default" in spec, f"input {name} needs a default so that the include names only what it changes"


def test_the_readme_includes_the_template_with_declared_inputs_only() -> None:
    inputs, _, _ = _documents()
    (include,) = _readme_include()["include"]
    assert include["remote"].endswith("/templates/syncer.yml")
    assert set(include["inputs"]) <= set(inputs)


def test_every_install_the_template_readme_and_ci_local_show_has_the_rules_extra() -> None:
    # A metrics root with company rules fails validation without the CEL library (the rules extra): an
    # install-spec copied from the README or run by ci_local must install it as the default install does.
    inputs, jobs, _ = _documents()
    assert '"${SYNCER_INSTALL:-feishu-syncer[rules]==$SYNCER_VERSION}"' in jobs[".syncer-base"]["before_script"][0]
    readme = " ".join(
        (REPO / "README.md").read_text().split("### From an empty project to applies on merge")[1].split()
    )
    ci_local = (REPO / "tests" / "gitlab" / "ci_local.py").read_text()
    for where, text in (
        ("the template's input", " ".join(inputs["install-spec"]["description"].split())),
        ("the README", readme.split("`install-spec`", 1)[1][:200]),
        ("ci_local.py", ci_local.split("install-spec:", 1)[1][:80]),
    ):
        assert "feishu-syncer[rules] @ git+" in text, where


def test_plan_runs_on_every_merge_request_and_apply_only_on_the_default_branch() -> None:
    _, jobs, _ = _documents()
    assert jobs["syncer-plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert "changes" not in str(jobs["syncer-plan"]["rules"])  # a required pipeline always reports
    apply_rules = jobs["syncer-apply"]["rules"]
    assert apply_rules[0] == {"if": '$SYNCER_MODE == "drift"', "when": "never"}
    assert all("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rule["if"] for rule in apply_rules[1:])


def test_apply_runs_one_at_a_time_in_its_protected_environment_and_is_never_cancelled() -> None:
    _, jobs, _ = _documents()
    apply = jobs["syncer-apply"]
    assert apply["resource_group"] == "syncer-apply"
    assert apply["interruptible"] is False
    assert apply["environment"]["name"] == "$[[ inputs.environment ]]"
    assert apply["allow_failure"] == {"exit_codes": [4]}
    assert 'git checkout --quiet --detach "origin/$CI_DEFAULT_BRANCH"' in apply["script"][0]


def test_the_follow_up_holds_no_secret_and_acts_only_on_exit_3() -> None:
    _, jobs, _ = _documents()
    follow = jobs["syncer-follow-up"]
    assert "environment" not in follow and "extends" not in follow
    assert follow["needs"] == ["syncer-apply"] and follow["rules"] == ["!reference", "syncer-apply", "rules"]
    assert '[ "${SYNCER_APPLY_RC:-}" != 3 ]' in follow["script"][0]
    assert jobs["syncer-apply"]["artifacts"]["reports"]["dotenv"] == "syncer-apply.env"


@pytest.mark.parametrize("trigger_token", ["glptt-trigger-s3cr3t", ""], ids=["trigger-token", "job-token"])
def test_the_follow_up_sends_its_token_on_stdin_never_in_argv(tmp_path: Path, trigger_token: str) -> None:
    # A command's arguments are readable by every process on the runner (ps, /proc): curl gets the token on
    # its standard input (`--form token=<-`). A stand-in curl on PATH records what it was given.
    _, jobs, _ = _documents()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    curl = bindir / "curl"
    curl.write_text('#!/bin/sh\nprintf \'%s\\n\' "$@" > "$SEEN_ARGV"\ncat > "$SEEN_STDIN"\n')
    curl.chmod(0o755)
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "SEEN_ARGV": str(tmp_path / "argv"),
        "SEEN_STDIN": str(tmp_path / "stdin"),
        "SYNCER_APPLY_RC": "3",
        "SYNCER_TRIGGER_TOKEN": trigger_token,
        "CI_JOB_TOKEN": "job-token-s3cr3t",
        "CI_DEFAULT_BRANCH": "main",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PROJECT_ID": "42",
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", jobs["syncer-follow-up"]["script"][0]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    argv = (tmp_path / "argv").read_text()
    assert "s3cr3t" not in argv and "token=<-" in argv.splitlines()
    assert "https://gitlab.example.com/api/v4/projects/42/trigger/pipeline" in argv.splitlines()
    assert (tmp_path / "stdin").read_text() == (trigger_token or "job-token-s3cr3t")


@pytest.mark.parametrize(
    ("validate_rc", "plan_rc", "passes"),
    [(0, 0, True), (0, 2, True), (0, 1, False), (1, 1, False), (0, 137, False), (0, 143, False)],
)
def test_the_plan_job_passes_only_on_a_plan_that_ran_to_its_end(
    tmp_path: Path, validate_rc: int, plan_rc: int, passes: bool
) -> None:
    # 0 (no changes) and 2 (changes) are the only exits of a plan that ran to its end: a plan killed (137 by
    # the kernel's OOM killer) must not pass a required pipeline with no plan to review.
    _, jobs, _ = _documents()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    syncer = bindir / "syncer"
    syncer.write_text(
        '#!/bin/sh\ncase "$1 $*" in\n'
        '  validate*) echo "[]"; exit "$VALIDATE_RC" ;;\n'
        '  *--format\\ markdown*) echo "<!-- syncer:plan -->"; exit "$PLAN_RC" ;;\n'
        '  *) echo "[]"; exit 0 ;;\nesac\n'
    )
    syncer.chmod(0o755)
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "SYNCER_ROOT": "metrics",
        "SYNCER_NOTE_TOKEN_VARIABLE": "GITLAB_TOKEN",
        "VALIDATE_RC": str(validate_rc),
        "PLAN_RC": str(plan_rc),
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", jobs["syncer-plan"]["script"][0]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode == 0) is passes, done.stdout + done.stderr
    assert (tmp_path / "plan.md").read_text() == "<!-- syncer:plan -->\n"  # the steps after the plan ran


def test_plan_uploads_code_quality_and_the_drift_job_reads_only() -> None:
    _, jobs, _ = _documents()
    reports = jobs["syncer-plan"]["artifacts"]["reports"]["codequality"]
    assert reports == ["gl-code-quality-syncer.json", "gl-code-quality-plan.json"]
    assert jobs["syncer-plan"]["artifacts"]["when"] == "always"
    drift = jobs["syncer-drift"]
    assert drift["environment"]["action"] == "access"
    assert "syncer apply" not in drift["script"][0] and "--refresh-all" in drift["script"][0]


def test_the_default_branch_gets_its_own_code_quality_report_to_compare_with() -> None:
    """The merge request widget compares with the target branch's latest report: each push to the default
    branch makes one, from validate (offline: no environment, no secret), problems or not."""
    _, jobs, _ = _documents()
    quality = jobs["syncer-quality"]
    assert quality["rules"][0] == {"if": '$SYNCER_MODE == "drift"', "when": "never"}
    assert quality["rules"][1] == {"if": '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"'}
    assert quality["artifacts"]["reports"]["codequality"] == ["gl-code-quality-syncer.json"]
    assert quality["artifacts"]["when"] == "always" and "environment" not in quality
    script = quality["script"][0]
    assert 'syncer validate --root "$SYNCER_ROOT" --format gitlab > gl-code-quality-syncer.json' in script
    assert "syncer apply" not in script and "syncer plan" not in script


def test_values_are_redacted_unless_the_project_opts_in() -> None:
    _, jobs, _ = _documents()
    install = jobs[".syncer-base"]["before_script"][0]
    assert (
        'if [ "${SYNCER_SHOW_VALUES:-}" = "true" ]; then export SYNCER_REDACT=0; else export SYNCER_REDACT=1; fi'
        in (install)
    )


def test_no_token_is_echoed_and_no_shell_tracing() -> None:
    _, _, body = _documents()
    for line in body.splitlines():
        assert not re.search(r"\becho\b.*\$\{?(GITLAB_TOKEN|SYNCER_GIT_TOKEN|CI_JOB_TOKEN|SYNCER_TRIGGER_TOKEN)", line)
        assert "set -x" not in line


@pytest.mark.skipif(
    os.environ.get("SYNCER_TEST_GITLAB_CI_LOCAL") != "1", reason="SYNCER_TEST_GITLAB_CI_LOCAL=1 runs gitlab-ci-local"
)
def test_the_template_runs_under_gitlab_ci_local() -> None:  # pragma: no cover - about 3 minutes
    done = subprocess.run(
        [sys.executable, "-m", "tests.gitlab.ci_local"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all steps passed" in done.stdout
