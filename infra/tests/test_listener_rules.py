"""The listener rules in the plans are what weighbridge_policy::alb computes
for the same policy file: config/policy.json (default, scaling and
blue/green variants), infra/tests/policies/ecs-only-api-v2.json (public
ALB) and infra/tests/policies/sticky-no-base-path.json (Lambda in a VPC).

A plan knows no target group ARN, so which label a forward entry means is
read from the rule's weighbridge:forward tag (label=weight) and its weights
are checked against the action itself; the applied state, where ARNs are
known, checks the target groups themselves.
"""

import json
from pathlib import Path

from conftest import INFRA, Plan, alb_rules

RULE_TYPES = ("aws_lb_listener_rule",)


def parse_forward_tag(tag):
    return [{"target": t.split("=")[0], "weight": int(t.split("=")[1])} for t in tag.split()]


def plan_rules(plan):
    rules = []
    for r in plan.created("aws_lb_listener_rule", "network"):
        v = r["values"]
        forward = v["action"][0]["forward"][0]
        sticky = forward["stickiness"][0]
        tagged = parse_forward_tag(v["tags"]["weighbridge:forward"])
        # The action's own weights are the tag's (the tag names them).
        assert sorted(tg["weight"] for tg in forward["target_group"]) == sorted(t["weight"] for t in tagged), r["address"]
        assert len(forward["target_group"]) == len(tagged), r["address"]
        rules.append(
            {
                "name": v["tags"]["weighbridge:rule"],
                "priority": v["priority"],
                "path_patterns": sorted(v["condition"][0]["path_pattern"][0]["values"]),
                "forward": tagged,
                "stickiness": {"enabled": sticky["enabled"], "duration_seconds": sticky["duration"]} if sticky["enabled"] or r["index"] == "weighted" else None,
                "resource": r["name"],
            }
        )
    return sorted(rules, key=lambda rule: rule["priority"])


def expected(policy_file):
    rules = alb_rules(policy_file)
    for rule in rules:
        rule["path_patterns"] = sorted(rule["path_patterns"])
    return rules


def test_listener_rules_equal_the_policy_crate(plan):
    got = [{k: v for k, v in r.items() if k != "resource"} for r in plan_rules(plan)]
    assert got == expected(plan.policy_file), plan.name


def test_three_policies_are_covered():
    files = {Plan(name).policy_file for name in ["default", "public-alb", "lambda-in-vpc"]}
    assert files == {"policy.json", "ecs-only-api-v2.json", "sticky-no-base-path.json"}


def test_the_listener_default_is_a_404(plan):
    listener = plan.one("aws_lb_listener", "network", "main")["values"]
    action = listener["default_action"][0]
    assert action["type"] == "fixed-response"
    assert action["fixed_response"][0]["status_code"] == "404"


def test_expected_rules_json_is_the_policy_crate_output():
    """The contract file policy/tests/alb.rs checks stays what the crate computes."""
    assert json.loads((INFRA / "tests" / "expected_rules.json").read_text()) == alb_rules("policy.json")


def test_applied_rules_forward_to_the_right_target_groups(state):
    """After apply the ARNs are known: each rule's weights go to the target group of its label."""
    groups = {}
    for tg in state.resources("aws_lb_target_group"):
        groups[tg["values"]["arn"]] = tg["index"]
    got = []
    for rule in state.resources("aws_lb_listener_rule"):
        v = rule["values"]
        forward = v["action"][0]["forward"][0]
        got.append(
            (
                v["priority"],
                sorted(v["condition"][0]["path_pattern"][0]["values"]),
                sorted((groups[tg["arn"]], tg["weight"]) for tg in forward["target_group"]),
                forward["stickiness"][0]["enabled"],
            )
        )
    want = [
        (r["priority"], sorted(r["path_patterns"]), sorted((f["target"], f["weight"]) for f in r["forward"]), bool(r["stickiness"] and r["stickiness"]["enabled"]))
        for r in alb_rules("policy.json")
    ]
    assert sorted(got) == sorted(want)


def test_blue_green_leaves_the_ecs_rules_to_codedeploy():
    """With blue_green, the rules forwarding to ECS are the resource that
    ignores its action (CodeDeploy swaps blue and green in it); without it,
    every rule is Terraform's."""
    blue_green = {r["name"]: r["resource"] for r in plan_rules(Plan("blue-green"))}
    assert blue_green == {"path-0": "codedeploy", "path-1": "policy", "weighted": "codedeploy"}
    assert {r["resource"] for r in plan_rules(Plan("default"))} == {"policy"}


def test_the_codedeploy_rules_ignore_their_action():
    import hcl2

    with open(INFRA / "modules" / "network" / "rules.tf") as f:
        doc = hcl2.load(f)
    resources = {}
    for block in doc["resource"]:
        resources.update(block.get("aws_lb_listener_rule", {}))
    lifecycle = resources["codedeploy"]["lifecycle"][0]
    assert lifecycle["ignore_changes"] == [["action"]] or lifecycle["ignore_changes"] == ["action"] or "action" in str(lifecycle["ignore_changes"])
    assert "ignore_changes" not in resources["policy"]["lifecycle"][0]


def test_policies_stay_within_alb_limits():
    for policy in [Path("policy.json"), *sorted((INFRA / "tests" / "policies").glob("*.json"))]:
        for rule in alb_rules(policy.name):
            assert 1 <= rule["priority"] <= 50000
            assert len(rule["path_patterns"]) <= 5
            assert all(len(p) <= 128 and "//" not in p for p in rule["path_patterns"])
            assert 1 <= len(rule["forward"]) <= 5
            assert all(0 <= t["weight"] <= 999 for t in rule["forward"])
