# Optional blue/green for the ECS web service (the zero-downtime seeds):
# a second ("green") target group, a CodeDeploy application and deployment
# group that shifts the listener from blue to green by canary, linear or all
# at once, and rolls back on failure or when a 5xx alarm fires.
# The ECS service must use deployment_controller = "CODE_DEPLOY" (ecs module).

locals {
  deployment_configs = {
    canary      = "CodeDeployDefault.ECSCanary10Percent5Minutes"
    linear      = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
    all_at_once = "CodeDeployDefault.ECSAllAtOnce"
  }
  target_groups = {
    blue  = { name = var.blue_target_group_name, arn_suffix = var.blue_target_group_arn_suffix }
    green = { name = aws_lb_target_group.green.name, arn_suffix = aws_lb_target_group.green.arn_suffix }
  }
}

data "aws_caller_identity" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

resource "aws_lb_target_group" "green" {
  #checkov:skip=CKV_AWS_378:The backend speaks plain HTTP inside the VPC (port 3000, reachable only from the ALB's security group); TLS ends at API Gateway or the HTTPS listener.
  name                 = substr("${var.name}-green", 0, 32)
  target_type          = "ip"
  port                 = var.container_port
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay_seconds
  tags                 = var.tags

  health_check {
    enabled             = true
    path                = "/health"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

# The test listener: CodeDeploy sends it to the replacement (green) tasks
# before any production traffic moves, so they can be tried at
# http://{alb}:{test_listener_port} from inside the VPC. It also gives the
# green target group the load balancer ECS requires of it. Forwarding
# starts at green; CodeDeploy owns it from the first deployment on.
resource "aws_lb_listener" "test" {
  #checkov:skip=CKV_AWS_2:Test traffic inside the VPC only (the ALB's group admits the test port from the VPC's range), like the internal production listener behind API Gateway.
  #checkov:skip=CKV_AWS_103:HTTP only, see CKV_AWS_2.
  #checkov:skip=CKV2_AWS_20:HTTP only, see CKV_AWS_2.
  load_balancer_arn = var.alb_arn
  port              = var.test_listener_port
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.green.arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}

resource "aws_vpc_security_group_ingress_rule" "test_listener" {
  security_group_id = var.alb_security_group_id
  description       = "Blue/green test listener from inside the VPC"
  cidr_ipv4         = data.aws_vpc.this.cidr_block
  ip_protocol       = "tcp"
  from_port         = var.test_listener_port
  to_port           = var.test_listener_port
}

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  for_each = local.target_groups

  alarm_name          = "${var.name}-${each.key}-5xx"
  alarm_description   = "Roll the blue/green deployment back: ${each.key} targets answer 5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = each.value.arn_suffix }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.max_5xx_per_minute
  treat_missing_data  = "notBreaching"
  tags                = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name_prefix        = substr("${var.name}-cd-", 0, 38)
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# AWS's managed policy for ECS blue/green: the ECS, ELB, CloudWatch and SNS
# calls CodeDeploy makes on our behalf (no "*:*").
resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
}

resource "aws_codedeploy_app" "this" {
  name             = var.name
  compute_platform = "ECS"
  tags             = var.tags
}

resource "aws_codedeploy_deployment_group" "this" {
  app_name               = aws_codedeploy_app.this.name
  deployment_group_name  = var.name
  deployment_config_name = local.deployment_configs[var.traffic_shifting]
  service_role_arn       = aws_iam_role.codedeploy.arn
  tags                   = var.tags

  deployment_style {
    deployment_option = "WITH_TRAFFIC_CONTROL"
    deployment_type   = "BLUE_GREEN"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout = "CONTINUE_DEPLOYMENT"
    }
    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = concat([for a in aws_cloudwatch_metric_alarm.target_5xx : a.alarm_name], var.extra_alarm_names)
  }

  ecs_service {
    cluster_name = var.cluster_name
    service_name = var.service_name
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [var.listener_arn]
      }
      test_traffic_route {
        listener_arns = [aws_lb_listener.test.arn]
      }
      target_group {
        name = var.blue_target_group_name
      }
      target_group {
        name = aws_lb_target_group.green.name
      }
    }
  }
}
