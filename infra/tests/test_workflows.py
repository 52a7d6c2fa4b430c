"""The deploy, verify, rollout and destroy workflows: every job that reads
vars.* has its environment (environment-scoped variables are empty without
one), verify and rollout share deploy's and destroy's concurrency group,
actions are pinned to commit SHAs (these workflows hold id-token: write),
with blue/green deploy creates the CodeDeploy deployment and waits for it,
and rollout drives the weighted rule from the Terraform outputs and turns
its exit code into the job's (its shell steps are run here, with stand-ins
for terraform and the rollout binary)."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
OWNED = ["deploy.yml", "verify.yml", "rollout.yml", "destroy.yml"]


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


def test_verify_rollout_deploy_and_destroy_share_one_concurrency_group():
    groups = {name: load(name)["concurrency"]["group"] for name in OWNED}
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


def rollout_steps():
    return load("rollout.yml")["jobs"]["rollout"]["steps"]


def step(steps, key, value):
    return next(s for s in steps if s.get(key) == value)


def run_step(script, cwd, env):
    """A step's `run` as GitHub runs it (bash -e), in `cwd`, with `env` added."""
    github_output = cwd / "github_output"
    github_output.write_text("")
    full = {**os.environ, "GITHUB_OUTPUT": str(github_output), "RUNNER_TEMP": str(cwd), **env}
    done = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if "=" in line)
    return done, outputs


def test_rollout_is_dispatched_with_its_inputs_and_defaults_to_the_rollout_policy():
    doc = load("rollout.yml")
    # PyYAML reads the key `on` as True.
    inputs = doc.get("on", doc.get(True))["workflow_dispatch"]["inputs"]
    assert {"policy", "rps", "convergence", "max_hold", "on_inconclusive"} <= set(inputs)
    assert inputs["policy"]["default"] == "config/rollout-aws.json"
    assert doc["env"]["POLICY"] == "${{ inputs.policy || 'config/rollout-aws.json' }}"
    for name in ["rps", "convergence", "max_hold", "on_inconclusive"]:
        assert f"inputs.{name}" in doc["env"][name.upper()], name


def test_rollout_builds_the_binary_and_runs_after_reading_the_outputs():
    steps = rollout_steps()
    names = [s.get("name", "") for s in steps]
    assert step(steps, "name", "Build rollout")["run"].strip() == "cargo build --release --locked --bin rollout"
    tf = step(steps, "id", "tf")
    assert "terraform output -json" in tf["run"]
    assert ".weighted_rule_arn.value" in tf["run"] and ".target_group_arns.value" in tf["run"]
    run = step(steps, "id", "rollout")
    assert run["env"]["RULE_ARN"] == "${{ steps.tf.outputs.rule }}"
    assert run["env"]["TARGET_GROUPS"] == "${{ steps.tf.outputs.groups }}"
    assert names.index("Read the deployment's outputs") < names.index("Build rollout") < names.index("rollout")
    upload = step(steps, "name", "Upload the reports")
    assert upload["if"] == "always()" and upload["with"]["path"].strip() == "reports/"
    assert names.index("rollout") < names.index("Upload the reports") < names.index("Verdict")


def fake_rollout(tmp_path, code):
    """A stand-in for target/release/rollout: writes its arguments, one a line, and exits with `code`."""
    exe = tmp_path / "target" / "release" / "rollout"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"""#!/usr/bin/env bash
printf '%s\\n' "$@" > "$(dirname "$0")/args"
exit {code}
""")
    exe.chmod(0o755)
    return exe.parent / "args"


@pytest.mark.parametrize("code", [0, 1, 2, 101])
def test_the_rollout_step_passes_every_flag_and_records_the_exit_code(tmp_path, code):
    args_file = fake_rollout(tmp_path, code)
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "rollout-aws.json", tmp_path / "config" / "rollout-aws.json")
    run = step(rollout_steps(), "id", "rollout")
    env = {
        "POLICY": "config/rollout-aws.json",
        "RPS": "150",
        "SERVICE_URL": "http://alb.example/dev",
        "RULE_ARN": "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/wb/1/2/3",
        "TARGET_GROUPS": "ecs=arn:tg-ecs,lambda=arn:tg-lambda",
        "CONVERGENCE": "",
        "MAX_HOLD": "2m",
        "ON_INCONCLUSIVE": "rollback",
    }
    done, outputs = run_step(run["run"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert outputs["code"] == str(code)
    args = args_file.read_text().splitlines()
    flags = dict(zip(args[::2], args[1::2]))
    assert len(args) % 2 == 0, args
    assert flags == {
        "--policy": "config/rollout-aws.json",
        "--url": "http://alb.example/dev",
        "--path": "/host:18,/small-woodland-creature:1,/ice-cream-flavor:1",
        "--rps": "150",
        "--listener-rule": env["RULE_ARN"],
        "--target-group": "ecs=arn:tg-ecs,lambda=arn:tg-lambda",
        "--out": "reports/rollout.json",
        "--load-out": "reports/rollout-load.json",
        "--junit": "reports/rollout.junit.xml",
        "--html": "reports/rollout.html",
        # An empty input leaves rollout's default: no --convergence.
        "--max-hold": "2m",
        "--on-inconclusive": "rollback",
    }
    assert (tmp_path / "reports").is_dir()


@pytest.mark.parametrize(
    "code,fails,annotation",
    [("0", False, ""), ("1", True, "::error::"), ("2", False, "::warning::"), ("101", True, "::error::"), ("", True, "::error::")],
)
def test_the_verdict_fails_the_job_on_fail_and_errors_only(tmp_path, code, fails, annotation):
    verdict = step(rollout_steps(), "name", "Verdict")
    assert verdict["env"]["CODE"] == "${{ steps.rollout.outputs.code }}"
    done, _ = run_step(verdict["run"], tmp_path, {"CODE": code})
    assert (done.returncode != 0) == fails, (code, done.stdout)
    assert annotation in done.stdout


def fake_terraform(tmp_path, outputs):
    """A stand-in for terraform: init does nothing, `output -json` prints `outputs`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "outputs.src.json").write_text(json.dumps(outputs))
    exe = bin_dir / "terraform"
    exe.write_text(f"""#!/usr/bin/env bash
[ "$1" = output ] && cat {tmp_path / "outputs.src.json"}
exit 0
""")
    exe.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


TF_OUTPUTS = {
    "service_url": {"value": "http://alb.example/dev"},
    "weighted_rule_arn": {"value": "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/wb/1/2/3"},
    "target_group_arns": {"value": {"ecs": "arn:tg-ecs", "lambda": "arn:tg-lambda"}},
}


def tf_script():
    # The ${{ vars.* }} of the init flags are GitHub's; empty here.
    return re.sub(r"\$\{\{[^}]*\}\}", "", step(rollout_steps(), "id", "tf")["run"])


def test_the_outputs_step_gives_the_rule_and_the_label_map(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (the GitHub runner has it)")
    done, outputs = run_step(tf_script(), tmp_path, fake_terraform(tmp_path, TF_OUTPUTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs == {
        "url": "http://alb.example/dev",
        "rule": TF_OUTPUTS["weighted_rule_arn"]["value"],
        "groups": "ecs=arn:tg-ecs,lambda=arn:tg-lambda",
    }


def test_the_outputs_step_refuses_a_blue_green_bed(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (the GitHub runner has it)")
    blue_green = {**TF_OUTPUTS, "weighted_rule_arn": {"value": None}}
    done, outputs = run_step(tf_script(), tmp_path, fake_terraform(tmp_path, blue_green))
    assert done.returncode != 0
    assert "::error::" in done.stdout and "CodeDeploy" in done.stdout
    assert "rule" not in outputs


def test_a_policy_without_rollout_steps_is_refused(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (the GitHub runner has it)")
    check = step(rollout_steps(), "name", "Check the policy has a rollout schedule")["run"]
    (tmp_path / "with.json").write_text(json.dumps({"targets": {"ecs": 10}, "rollout": {"steps": [{"ecs": 1}]}}))
    (tmp_path / "without.json").write_text((ROOT / "config" / "policy.json").read_text())
    assert run_step(check, tmp_path, {"POLICY": "with.json"})[0].returncode == 0
    done, _ = run_step(check, tmp_path, {"POLICY": "without.json"})
    assert done.returncode != 0 and "has no rollout.steps" in done.stdout
