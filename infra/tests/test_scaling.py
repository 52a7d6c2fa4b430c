"""The scaling alarms and policies in the plans carry the thresholds,
cooldowns (seconds, as Application Auto Scaling takes them) and dimensions
the variables give. scripts/test-infra plans the defaults (default), custom
CPU and queue settings (lambda-in-vpc), custom ALB target tracking
(scaling-alb) and no scaling (scaling-none)."""

import pytest

from conftest import Plan

CLUSTER = "weighbridge-dev-web-cluster"

# What each variant's variables (scripts/test-infra) and the ecs module's
# defaults (period 60 s, adjustments 1, evaluation periods 1 out / 3 in) give.
CPU = {
    "default": dict(min=1, max=4, out=70, in_=30, cool_out=60, cool_in=300, period=60, adj_out=1),
    "lambda-in-vpc": dict(min=1, max=3, out=80, in_=20, cool_out=90, cool_in=600, period=120, adj_out=1),
}
SQS = {
    "default": dict(min=1, max=4, out=10, in_=2, cool_out=60, cool_in=300, period=60, adj_out=2),
    "lambda-in-vpc": dict(min=0, max=8, out=50, in_=5, cool_out=30, cool_in=400, period=60, adj_out=3),
}


def check_step_scaling(plan, module, service, strategy, want, namespace, metric, dimensions):
    target = plan.one("aws_appautoscaling_target", module, "this")["values"]
    assert (target["min_capacity"], target["max_capacity"]) == (want["min"], want["max"])
    assert target["resource_id"] == f"service/{CLUSTER}/{service}"
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"

    out = plan.one("aws_appautoscaling_policy", module, "scale_out")["values"]["step_scaling_policy_configuration"][0]
    in_ = plan.one("aws_appautoscaling_policy", module, "scale_in")["values"]["step_scaling_policy_configuration"][0]
    assert out["cooldown"] == want["cool_out"] and in_["cooldown"] == want["cool_in"]
    assert out["adjustment_type"] == in_["adjustment_type"] == "ChangeInCapacity"
    assert [(s["metric_interval_lower_bound"], s["scaling_adjustment"]) for s in out["step_adjustment"]] == [("0", want["adj_out"])]
    assert [(s["metric_interval_upper_bound"], s["scaling_adjustment"]) for s in in_["step_adjustment"]] == [("0", -1)]

    high = plan.one("aws_cloudwatch_metric_alarm", module, "high")["values"]
    low = plan.one("aws_cloudwatch_metric_alarm", module, "low")["values"]
    for alarm in (high, low):
        assert (alarm["namespace"], alarm["metric_name"]) == (namespace, metric)
        assert alarm["dimensions"] == dimensions
        assert alarm["period"] == want["period"]
        assert alarm["statistic"] == "Average"
        assert alarm["alarm_name"].startswith(f"{service}-{strategy}-")
    assert (high["threshold"], high["comparison_operator"], high["evaluation_periods"]) == (want["out"], "GreaterThanOrEqualToThreshold", 1)
    assert (low["threshold"], low["comparison_operator"], low["evaluation_periods"]) == (want["in_"], "LessThanOrEqualToThreshold", 3)
    return high, low


@pytest.mark.parametrize("variant", sorted(CPU))
def test_web_cpu_step_scaling(variant):
    plan = Plan(variant)
    check_step_scaling(
        plan, "web", "weighbridge-dev-web", "cpu", CPU[variant], "AWS/ECS", "CPUUtilization",
        {"ClusterName": CLUSTER, "ServiceName": "weighbridge-dev-web"},
    )


@pytest.mark.parametrize("variant", sorted(SQS))
def test_worker_queue_depth_step_scaling(variant):
    plan = Plan(variant)
    _, low = check_step_scaling(
        plan, "worker", "weighbridge-dev-worker", "sqs", SQS[variant], "AWS/SQS", "ApproximateNumberOfMessagesVisible",
        {"QueueName": "weighbridge-dev-work"},
    )
    # An empty queue publishes no datapoints: that is "low", not "unknown".
    assert low["treat_missing_data"] == "breaching"


def test_web_alb_target_tracking():
    plan = Plan("scaling-alb")
    target = plan.one("aws_appautoscaling_target", "web", "this")["values"]
    assert (target["min_capacity"], target["max_capacity"]) == (2, 6)
    policy = plan.one("aws_appautoscaling_policy", "web", "alb_requests")
    config = policy["values"]["target_tracking_scaling_policy_configuration"][0]
    assert (config["target_value"], config["scale_out_cooldown"], config["scale_in_cooldown"]) == (250, 45, 240)
    metric = config["predefined_metric_specification"][0]
    assert metric["predefined_metric_type"] == "ALBRequestCountPerTarget"
    # app/{alb}/{id}/targetgroup/{tg}/{id}: known once the ALB exists.
    assert policy["unknown"]["target_tracking_scaling_policy_configuration"][0]["predefined_metric_specification"][0]["resource_label"]
    assert not plan.created("aws_cloudwatch_metric_alarm", "web")


def test_no_scaling_means_no_scalable_target():
    plan = Plan("scaling-none")
    assert not plan.created("aws_appautoscaling_target", "web")
    assert not plan.created("aws_appautoscaling_policy", "web")
    assert plan.created("aws_appautoscaling_target", "worker"), "the worker always scales on its queue"


def test_applied_alarms_trigger_their_policies(state):
    policies = {p["values"]["name"]: p["values"]["arn"] for p in state.resources("aws_appautoscaling_policy")}
    alarms = {a["values"]["alarm_name"]: a["values"]["alarm_actions"] for a in state.resources("aws_cloudwatch_metric_alarm")}
    for service, strategy in [("weighbridge-dev-web", "cpu"), ("weighbridge-dev-worker", "sqs")]:
        assert alarms[f"{service}-{strategy}-high"] == [policies[f"{service}-{strategy}-out"]]
        assert alarms[f"{service}-{strategy}-low"] == [policies[f"{service}-{strategy}-in"]]
