"""What AWS refuses at apply and a plan does not see, and the defects of
issue 14 that a plan shows, each checked on the plans (or the applied
state)."""

import re

import pytest

from conftest import INFRA, VARIANTS, Plan

# CreateSecurityGroup's GroupDescription and a rule's Description: "a-z,
# A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*", at most 255 characters.
EC2_DESCRIPTION = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}")
DESCRIBED = ("aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def test_the_description_lint_catches_an_apostrophe():
    assert not EC2_DESCRIPTION.fullmatch("To the ECS tasks' container port")
    assert not EC2_DESCRIPTION.fullmatch("x" * 256)
    assert EC2_DESCRIPTION.fullmatch("ALB of weighbridge-dev: HTTP(S) in, out to the tasks; [ok] #1 @x =&{}!$*+")


@pytest.mark.parametrize("variant", VARIANTS)
def test_security_group_descriptions_use_only_what_ec2_accepts(variant):
    plan = Plan(variant)
    checked = 0
    for type_ in DESCRIBED:
        for r in plan.created(type_):
            description = r["values"].get("description")
            assert isinstance(description, str) and description, f"{r['address']}: a description is known at plan time"
            assert EC2_DESCRIPTION.fullmatch(description), f"{r['address']}: {description!r}"
            checked += 1
    assert checked >= 8


def test_applied_security_group_descriptions(state):
    for type_ in DESCRIBED:
        for r in state.resources(type_):
            assert EC2_DESCRIPTION.fullmatch(r["values"]["description"]), r["values"]["description"]


# --- defects a plan can show ----------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_worker_runs_in_the_web_cluster(variant):
    """The plan got here at all (the worker used to stop it at "Invalid
    count argument"), and the worker creates no cluster of its own."""
    plan = Plan(variant)
    assert [r["address"] for r in plan.created("aws_ecs_cluster")] == ["module.web.aws_ecs_cluster.this[0]"]


def test_no_concurrency_is_reserved_by_default():
    fn = Plan("default").one("aws_lambda_function", "lambda", "this")["values"]
    # -1: unreserved (a new account's quota of 10 leaves nothing to reserve).
    assert fn["reserved_concurrent_executions"] == -1


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_lambda_target_group_has_multi_value_headers(variant):
    groups = {r["index"]: r["values"] for r in Plan(variant).created("aws_lb_target_group", "network")}
    assert groups["lambda"]["lambda_multi_value_headers_enabled"] is True
    assert groups["lambda"]["target_type"] == "lambda"


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "public-alb"])
def test_the_http_api_routes_the_bare_stage_path(variant):
    plan = Plan(variant)
    routes = sorted(r["values"]["route_key"] for r in plan.created("aws_apigatewayv2_route"))
    assert routes == ["ANY /", "ANY /{proxy+}"]
    paths = sorted(r["values"]["request_parameters"]["overwrite:path"] for r in plan.created("aws_apigatewayv2_integration"))
    # lambda-in-vpc's policy has no base path; config/policy.json's is "dev".
    base = "" if plan.vars.get("policy_file") else "/dev"
    assert paths == sorted([base or "/", f"{base}/$request.path.proxy"])


def test_a_public_alb_has_no_http_api():
    plan = Plan("public-alb")
    assert not plan.created("aws_apigatewayv2_api")
    assert plan.one("aws_lb", "network", "main")["values"]["internal"] is False
    ingress = [r["values"]["cidr_ipv4"] for r in plan.created("aws_vpc_security_group_ingress_rule", "network")]
    assert ingress == ["203.0.113.0/24"]


def test_the_lambda_in_a_vpc_keeps_its_vpc_policy_until_it_is_gone():
    plan = Plan("lambda-in-vpc")
    assert plan.created("aws_iam_role_policy_attachment", "lambda")
    config = plan.module_config("lambda")
    fn = next(r for r in config["resources"] if r["address"] == "aws_lambda_function.this")
    assert "aws_iam_role_policy_attachment.vpc" in fn["depends_on"]
    assert "aws_iam_role_policy.this" in fn["depends_on"]


def test_the_loadgen_task_has_a_writable_work_directory(state):
    """Its container definitions name the ECR image, known once applied."""
    import json

    [td] = [r["values"] for r in state.resources("aws_ecs_task_definition") if r["address"].startswith("module.loadgen.")]
    [container] = json.loads(td["container_definitions"])
    assert container["readonlyRootFilesystem"] is True
    assert {"sourceVolume": "work", "containerPath": "/work", "readOnly": False} in container["mountPoints"]
    assert [v["name"] for v in td["volume"]] == ["work"]
    assert {"name": "HOME", "value": "/work"} in container["environment"]


def test_images_outside_private_ecr_are_said_to_need_nat(state):
    """The ADOT sidecar comes from public.ecr.aws, which VPC endpoints do
    not reach: the README must not promise that endpoints alone are enough."""
    import json

    registries = set()
    for td in state.resources("aws_ecs_task_definition"):
        for c in json.loads(td["values"]["container_definitions"]):
            if ".dkr.ecr." not in c["image"]:
                registries.add(c["image"].split("/")[0])
    assert registries == {"public.ecr.aws"}
    readme = (INFRA / "README.md").read_text()
    assert "NAT or VPC endpoints" not in readme
    assert "public.ecr.aws" in readme and "NAT" in readme


def test_blue_green_has_a_test_listener_for_green_and_rolls_back_on_alarms():
    plan = Plan("blue-green")
    test = plan.one("aws_lb_listener", "codedeploy[0]", "test")["values"]
    assert test["port"] == 8080 and test["protocol"] == "HTTP"
    assert test["default_action"][0]["type"] == "forward"
    group = plan.one("aws_codedeploy_deployment_group", "codedeploy[0]", "this")["values"]
    rollback = group["auto_rollback_configuration"][0]
    assert rollback["enabled"] and set(rollback["events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    alarms = group["alarm_configuration"][0]
    assert alarms["enabled"] and sorted(alarms["alarms"]) == ["weighbridge-dev-web-blue-5xx", "weighbridge-dev-web-green-5xx"]
    assert group["deployment_style"][0] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}
    service = plan.one("aws_ecs_service", "web", "codedeploy")["values"]
    assert service["deployment_controller"][0]["type"] == "CODE_DEPLOY"
    assert not plan.created("aws_ecs_service", "web") or all(r["name"] == "codedeploy" for r in plan.created("aws_ecs_service", "web"))
