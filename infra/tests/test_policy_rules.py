"""The Terraform's listener rules, checked without Terraform.

1. Every .tf file under infra/ parses (python-hcl2).
2. The wiring: the dev environment jsondecodes config/policy.json and hands it
   to the network module; the network module's listener-rule resource is
   built from the documented locals in rules.tf.
3. The rules: computed here from config/policy.json with the mapping rules.tf
   documents (its constants read from rules.tf itself), they equal
   expected_rules.json - which the Rust test (policy/tests/alb.rs) also
   checks against weighbridge_policy::alb::alb_listener_rules, so the
   Terraform and the local router agree.

Regenerate expected_rules.json after changing config/policy.json:
    WB_UPDATE_EXPECTED=1 pytest infra/tests
"""

import json
import os
import re
from pathlib import Path

import hcl2
import pytest

INFRA = Path(__file__).resolve().parent.parent
ROOT = INFRA.parent
POLICY = ROOT / "config" / "policy.json"
EXPECTED = INFRA / "tests" / "expected_rules.json"
ENV = INFRA / "envs" / "dev"
RULES_TF = INFRA / "modules" / "network" / "rules.tf"

TF_FILES = sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def load(path):
    with open(path) as f:
        return hcl2.load(f)


def value(v):
    """python-hcl2 wraps attribute values in one-element lists."""
    while isinstance(v, list) and len(v) == 1:
        v = v[0]
    return v


def expr(v):
    """An expression as text, without the ${...} wrapper."""
    v = value(v)
    if isinstance(v, str) and v.startswith("${") and v.endswith("}"):
        return v[2:-1]
    return v


def norm(text):
    """Expression text compared loosely: python-hcl2 re-prints expressions
    (drops spaces after commas, writes `'${x}'` for a bare `x` inside a list
    or object), so spaces, quotes and those wrappers are ignored."""
    text = re.sub(r"\s+", "", str(text))
    text = re.sub(r"'\$\{([^{}']*)\}'", r"\1", text)
    return text.replace('"', "'")


def same(actual, expected):
    return norm(expr(actual)) == norm(expected)


def merged(doc, block):
    out = {}
    for item in doc.get(block, []):
        out.update(item)
    return out


def locals_of(path):
    return merged(load(path), "locals")


# --- the rules, computed from the policy as rules.tf documents -------------


def rule_constants():
    loc = locals_of(RULES_TF)
    return {
        "first": int(value(loc["first_path_rule_priority"])),
        "weighted": int(value(loc["weighted_rule_priority"])),
        "stickiness": int(value(loc["default_stickiness_seconds"])),
    }


def patterns(prefix, path):
    exact = prefix + path
    return ["/", "/*"] if exact == "" else [exact, exact + "/*"]


def expected_rules(policy):
    c = rule_constants()
    base = policy.get("base_path", "").strip("/")
    prefix = "/" + base if base else ""
    rules = [
        {
            "name": f"path-{i}",
            "priority": c["first"] + i,
            "path_patterns": patterns(prefix, rule["path"].rstrip("/")),
            "forward": [{"target": rule["target"], "weight": 1}],
            "stickiness": None,
        }
        for i, rule in enumerate(policy.get("path_rules", []))
    ]
    sticky = policy.get("stickiness", {})
    rules.append(
        {
            "name": "weighted",
            "priority": c["weighted"],
            "path_patterns": patterns(prefix, ""),
            "forward": [
                {"target": label, "weight": weight}
                for label, weight in sorted(policy["targets"].items())
            ],
            "stickiness": {
                "enabled": sticky.get("enabled", False),
                "duration_seconds": sticky.get("duration_seconds", c["stickiness"]),
            },
        }
    )
    return rules


# --- 1. parsing -------------------------------------------------------------


def test_there_is_terraform_to_check():
    assert len(TF_FILES) >= 30, TF_FILES


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_tf_file_parses(path):
    assert isinstance(load(path), dict)


def test_every_module_has_its_files():
    for module in sorted((INFRA / "modules").iterdir()):
        for name in ["variables.tf", "outputs.tf", "versions.tf", "README.md"]:
            assert (module / name).is_file(), f"{module.name}/{name} is missing"


# --- 2. wiring --------------------------------------------------------------


def test_env_jsondecodes_the_policy_file():
    loc = locals_of(ENV / "policy.tf")
    assert same(loc["policy"], "jsondecode(file(local.policy_file))")
    default = re.fullmatch(
        r"coalesce\(var\.policy_file,'\$\{path\.module\}/(.+)'\)",
        norm(expr(loc["policy_file"])),
    )
    assert default, loc["policy_file"]
    assert (ENV / default.group(1)).resolve() == POLICY


def test_env_hands_the_policy_to_the_network_module():
    modules = merged(load(ENV / "main.tf"), "module")
    network = modules["network"]
    assert value(network["source"]) == "../../modules/network"
    assert same(network["policy"], "local.policy")


def test_listener_rules_are_built_from_the_documented_locals():
    loc = locals_of(RULES_TF)
    assert same(
        loc["listener_rules"],
        "concat(local.path_listener_rules, [local.weighted_listener_rule])",
    )
    assert "var.policy.path_rules" in expr(loc["path_rules"])
    assert "var.policy.targets" in str(loc["weighted_listener_rule"])
    assert "var.policy.stickiness.duration_seconds" in str(loc["weighted_listener_rule"])

    resources = merged(load(RULES_TF), "resource")
    rule = resources["aws_lb_listener_rule"]["policy"]
    assert same(rule["for_each"], "{for rule in local.listener_rules : rule.name => rule}")
    assert same(rule["priority"], "each.value.priority")
    condition = value(rule["condition"])
    assert same(value(condition["path_pattern"])["values"], "each.value.path_patterns")
    forward = value(value(rule["action"])["forward"])
    target_group = value(forward["dynamic"])["target_group"]
    assert same(target_group["for_each"], "each.value.forward")
    content = value(target_group["content"])
    assert same(content["weight"], "target_group.value.weight")
    assert same(content["arn"], "aws_lb_target_group.target[target_group.value.target].arn")
    stickiness = value(forward["stickiness"])
    assert "each.value.stickiness.duration_seconds" in expr(stickiness["duration"])
    assert "each.value.stickiness.enabled" in expr(stickiness["enabled"])


def test_the_listener_default_is_a_404():
    resources = merged(load(INFRA / "modules" / "network" / "main.tf"), "resource")
    default = value(resources["aws_lb_listener"]["main"]["default_action"])
    assert value(default["type"]) == "fixed-response"
    assert value(value(default["fixed_response"])["status_code"]) == "404"


# --- 3. the rules -----------------------------------------------------------


def test_rules_from_the_policy_match_expected_rules_json():
    policy = json.loads(POLICY.read_text())
    rules = expected_rules(policy)
    if os.environ.get("WB_UPDATE_EXPECTED") == "1":
        EXPECTED.write_text(json.dumps(rules, indent=2) + "\n")
    assert rules == json.loads(EXPECTED.read_text()), (
        "config/policy.json changed: regenerate with WB_UPDATE_EXPECTED=1 pytest infra/tests"
    )


def test_example_rules_by_hand():
    """The example policy spelled out, so a wrong mapping cannot hide in both."""
    rules = json.loads(EXPECTED.read_text())
    assert [(r["priority"], r["path_patterns"], r["forward"]) for r in rules] == [
        (1, ["/dev/small-woodland-creature", "/dev/small-woodland-creature/*"],
         [{"target": "ecs", "weight": 1}]),
        (2, ["/dev/ice-cream-flavor", "/dev/ice-cream-flavor/*"],
         [{"target": "lambda", "weight": 1}]),
        (50000, ["/dev", "/dev/*"],
         [{"target": "ecs", "weight": 10}, {"target": "lambda", "weight": 90}]),
    ]
    assert rules[-1]["stickiness"] == {"enabled": False, "duration_seconds": 3600}


@pytest.mark.parametrize("base", ["", "/", None])
def test_no_base_path_never_gives_a_double_slash(base):
    policy = {"targets": {"ecs": 1}, "path_rules": [{"path": "/host/", "target": "ecs"}]}
    if base is not None:
        policy["base_path"] = base
    rules = expected_rules(policy)
    assert rules[0]["path_patterns"] == ["/host", "/host/*"]
    assert rules[1]["path_patterns"] == ["/", "/*"]
    assert not any("//" in p for r in rules for p in r["path_patterns"])


def test_policy_stays_within_alb_limits():
    for rule in json.loads(EXPECTED.read_text()):
        assert 1 <= rule["priority"] <= 50000
        assert len(rule["path_patterns"]) <= 5
        assert all(len(p) <= 128 for p in rule["path_patterns"])
        assert 1 <= len(rule["forward"]) <= 5
        assert all(0 <= t["weight"] <= 999 for t in rule["forward"])
        if rule["stickiness"]:
            assert 1 <= rule["stickiness"]["duration_seconds"] <= 604800
