# Service autoscaling, chosen by var.scaling_strategy:
#   none - a fixed count of scaling.min_tasks;
#   cpu  - step scaling on the service's average CPU (two alarms, two policies);
#   sqs  - step scaling on the queue depth (ApproximateNumberOfMessagesVisible);
#   alb  - target tracking on ALBRequestCountPerTarget.
# Every cooldown is in seconds, as Application Auto Scaling takes it; the
# variable names say so (cooldown_out_seconds), and alarm periods are in
# seconds too.

locals {
  scaled = var.scaling_strategy != "none"
  step   = contains(["cpu", "sqs"], var.scaling_strategy)

  # The step-scaling settings and metric of the chosen strategy.
  step_config = var.scaling_strategy == "sqs" ? var.scaling.sqs : var.scaling.cpu
  step_metric = var.scaling_strategy == "sqs" ? {
    namespace  = "AWS/SQS"
    name       = "ApproximateNumberOfMessagesVisible"
    dimensions = { QueueName = coalesce(var.queue_name, "unset") }
    } : {
    namespace  = "AWS/ECS"
    name       = "CPUUtilization"
    dimensions = { ClusterName = local.cluster_name, ServiceName = var.name }
  }
}

resource "aws_appautoscaling_target" "this" {
  count = local.scaled ? 1 : 0

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${local.cluster_name}/${local.service_name}"
  min_capacity       = var.scaling.min_tasks
  max_capacity       = var.scaling.max_tasks
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.scaling_strategy != "sqs" || var.queue_name != null
      error_message = "scaling_strategy = \"sqs\" needs queue_name."
    }
    precondition {
      condition     = var.scaling_strategy != "alb" || (var.alb_arn_suffix != null && var.target_group_arn_suffix != null)
      error_message = "scaling_strategy = \"alb\" needs alb_arn_suffix and target_group_arn_suffix."
    }
    precondition {
      condition     = !local.step || local.step_config.scale_in_threshold < local.step_config.scale_out_threshold
      error_message = "scale_in_threshold must be below scale_out_threshold, or the service flaps."
    }
  }
}

resource "aws_appautoscaling_policy" "scale_out" {
  count = local.step ? 1 : 0

  name               = "${var.name}-${var.scaling_strategy}-out"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = local.step_config.cooldown_out_seconds
    metric_aggregation_type = "Average"

    step_adjustment {
      metric_interval_lower_bound = 0
      scaling_adjustment          = local.step_config.scale_out_adjustment
    }
  }
}

resource "aws_appautoscaling_policy" "scale_in" {
  count = local.step ? 1 : 0

  name               = "${var.name}-${var.scaling_strategy}-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = local.step_config.cooldown_in_seconds
    metric_aggregation_type = "Average"

    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = -local.step_config.scale_in_adjustment
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "high" {
  count = local.step ? 1 : 0

  alarm_name          = "${var.name}-${var.scaling_strategy}-high"
  alarm_description   = "Scale ${var.name} out: ${local.step_metric.name} >= ${local.step_config.scale_out_threshold}"
  namespace           = local.step_metric.namespace
  metric_name         = local.step_metric.name
  dimensions          = local.step_metric.dimensions
  statistic           = "Average"
  period              = local.step_config.period_seconds
  evaluation_periods  = local.step_config.scale_out_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = local.step_config.scale_out_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.scale_out[0].arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "low" {
  count = local.step ? 1 : 0

  # In ALARM while idle: that is expected and keeps the service at min_tasks.
  alarm_name          = "${var.name}-${var.scaling_strategy}-low"
  alarm_description   = "Scale ${var.name} in: ${local.step_metric.name} <= ${local.step_config.scale_in_threshold}"
  namespace           = local.step_metric.namespace
  metric_name         = local.step_metric.name
  dimensions          = local.step_metric.dimensions
  statistic           = "Average"
  period              = local.step_config.period_seconds
  evaluation_periods  = local.step_config.scale_in_evaluation_periods
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = local.step_config.scale_in_threshold
  treat_missing_data  = var.scaling_strategy == "sqs" ? "breaching" : "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.scale_in[0].arn]
  tags                = var.tags
}

resource "aws_appautoscaling_policy" "alb_requests" {
  count = var.scaling_strategy == "alb" ? 1 : 0

  name               = "${var.name}-alb-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.scaling.alb.target_requests_per_task
    scale_out_cooldown = var.scaling.alb.cooldown_out_seconds
    scale_in_cooldown  = var.scaling.alb.cooldown_in_seconds

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
