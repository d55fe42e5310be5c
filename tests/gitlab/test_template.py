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


def test_plan_uploads_code_quality_and_the_drift_job_reads_only() -> None:
    _, jobs, _ = _documents()
    reports = jobs["syncer-plan"]["artifacts"]["reports"]["codequality"]
    assert reports == ["gl-code-quality-syncer.json", "gl-code-quality-plan.json"]
    assert jobs["syncer-plan"]["artifacts"]["when"] == "always"
    drift = jobs["syncer-drift"]
    assert drift["environment"]["action"] == "access"
    assert "syncer apply" not in drift["script"][0] and "--refresh-all" in drift["script"][0]


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
