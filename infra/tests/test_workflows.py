"""The deploy, verify and destroy workflows: every job that reads vars.* has its
environment (environment-scoped variables are empty without one), verify
shares deploy's and destroy's concurrency group, actions are pinned to
commit SHAs (these workflows hold id-token: write), and with blue/green
deploy creates the CodeDeploy deployment and waits for it."""

import re

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
OWNED = ["deploy.yml", "verify.yml", "destroy.yml"]


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def uses(doc):
    return [step["uses"] for job in doc["jobs"].values() for step in job.get("steps", []) if "uses" in step]


@pytest.mark.parametrize("name", OWNED)
def test_jobs_that_read_vars_have_an_environment(name):
    doc = load(name)
    assert "vars." not in str(doc.get("env", {})), f"{name}: the workflow-level env has no environment to read vars from"
    for job_name, job in doc["jobs"].items():
        if "vars." in str(job):
            assert job.get("environment"), f"{name}: job {job_name} reads vars.* without an environment"


def test_the_environment_check_can_fail():
    doc = {"jobs": {"x": {"steps": [{"run": "echo ${{ vars.AWS_REGION }}"}]}}}
    assert any("vars." in str(job) and not job.get("environment") for job in doc["jobs"].values())


def test_verify_deploy_and_destroy_share_one_concurrency_group():
    groups = {name: load(name)["concurrency"]["group"] for name in ["deploy.yml", "verify.yml", "destroy.yml"]}
    assert len(set(groups.values())) == 1, groups
    assert all(load(name)["concurrency"]["cancel-in-progress"] is False for name in groups)


@pytest.mark.parametrize("name", OWNED)
def test_actions_are_pinned_to_commit_shas_with_their_tag(name):
    text = (WORKFLOWS / name).read_text()
    lines = [line.strip() for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert lines
    for line in lines:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # \S+", line), line


def test_blue_green_deploys_through_codedeploy_and_waits():
    apply = load("deploy.yml")["jobs"]["apply"]
    names = [step.get("name", "") for step in apply["steps"]]
    runs = [step.get("run", "") for step in apply["steps"]]
    deploy = next(run for run in runs if "aws deploy create-deployment" in run)
    # After terraform apply, which registers the task definition it deploys.
    assert runs.index(deploy) > next(i for i, n in enumerate(names) if n == "terraform apply")
    assert "terraform output -json codedeploy" in deploy
    assert "AppSpecContent" in deploy and "AWS::ECS::Service" in deploy
    assert "LoadBalancerInfo" in deploy and "TaskDefinition" in deploy
    assert "aws deploy wait deployment-successful" in deploy
    assert "exit 1" in deploy
    assert apply["env"]["TF_VAR_blue_green"].startswith("${{ vars.BLUE_GREEN")


def test_verify_runs_check_before_the_load_and_counts_its_verdict():
    steps = load("verify.yml")["jobs"]["verify"]["steps"]
    names = [step.get("name", "") for step in steps]
    check = next(step for step in steps if step.get("id") == "check")
    assert "./target/release/check " in check["run"] and "--policy config/policy.json" in check["run"]
    assert ".path_rules" in check["run"], "the rule paths are in check's mix"
    assert names.index(check["name"]) < names.index("Load on the runner")
    assert "-p rollout" in next(step["run"] for step in steps if step.get("name", "").startswith("Build"))
    verdict = next(step for step in steps if step.get("name") == "Verdict")
    assert "check:${{ steps.check.outputs.code }}" in verdict["run"]
