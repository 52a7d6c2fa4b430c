"""The outputs the rollout workflow drives the weighted listener rule with:
`weighted_rule_arn` (rollout --listener-rule) and `target_group_arns`
(label -> ARN, rollout --target-group). With blue/green CodeDeploy owns the
weighted rule's action, so there is no rule to roll out on: the output is
null, known at plan time. In the applied state the two outputs name exactly
the weighted rule and the target groups of its forward action, which is
what `rollout` checks before it changes anything."""

from conftest import State


def outputs(plan):
    return plan.json["output_changes"]


def weighted_targets(plan):
    [weighted] = [r for r in outputs(plan)["listener_rules"]["after"] if r["name"] == "weighted"]
    return sorted(t["target"] for t in weighted["forward"])


def test_the_rollout_outputs_are_planned(plan):
    out = outputs(plan)
    assert {"weighted_rule_arn", "target_group_arns", "service_url"} <= set(out), plan.name
    # One ARN per policy target, known once the groups exist.
    assert sorted(out["target_group_arns"]["after_unknown"]) == weighted_targets(plan), plan.name
    rule = out["weighted_rule_arn"]
    if plan.vars.get("blue_green"):
        assert rule["after"] is None and rule["after_unknown"] is False, plan.name
    else:
        assert rule["after_unknown"] is True, f"{plan.name}: the weighted rule's ARN is not planned"


def test_the_applied_outputs_name_the_weighted_rule_and_its_groups(state: State):
    values = state.json["values"]["outputs"]
    [weighted] = [r for r in state.resources("aws_lb_listener_rule") if r["values"]["tags"].get("weighbridge:rule") == "weighted"]
    assert values["weighted_rule_arn"]["value"] == weighted["values"]["arn"]
    assert weighted["values"]["arn"].split(":")[5].startswith("listener-rule/app/")

    groups = values["target_group_arns"]["value"]
    by_label = {r["index"]: r["values"]["arn"] for r in state.resources("aws_lb_target_group") if r["address"].startswith("module.network.")}
    assert groups == by_label
    forward = weighted["values"]["action"][0]["forward"][0]
    assert sorted(tg["arn"] for tg in forward["target_group"]) == sorted(groups.values())
