output "service_url" {
  description = "Base URL of the service including the base path, no trailing slash: append \"/host\" etc."
  value = (
    local.public_alb
    ? "${local.https ? "https" : "http"}://${aws_lb.main.dns_name}${local.path_prefix}"
    : trimsuffix(aws_apigatewayv2_stage.this[0].invoke_url, "/")
  )
}

output "listener_rules" {
  description = "The listener rules computed from the policy (same shape as infra/tests/expected_rules.json)."
  value       = local.listener_rules
}

output "alb_arn" {
  description = "ARN of the ALB."
  value       = aws_lb.main.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.main.arn_suffix
}

output "alb_security_group_id" {
  description = "Security group of the ALB: allow it into the ECS tasks."
  value       = aws_security_group.alb.id
}

output "listener_arn" {
  description = "ARN of the listener that holds the policy rules."
  value       = aws_lb_listener.main.arn
}

output "weighted_rule_arn" {
  description = "ARN of the weighted (default-path) listener rule, whose forward weights `rollout --listener-rule` changes step by step. Null with blue/green: CodeDeploy owns that rule's action (it swaps the target groups), and a rollout would fight it."
  value = (
    local.codedeploy_rule[local.weighted_listener_rule.name]
    ? null
    : aws_lb_listener_rule.policy[local.weighted_listener_rule.name].arn
  )
}

output "target_group_arns" {
  description = "Target group ARN by policy target label. Available only once the listener rules exist: ECS refuses a target group that no load balancer uses yet."
  value       = { for label, tg in aws_lb_target_group.target : label => tg.arn }

  depends_on = [aws_lb_listener_rule.policy, aws_lb_listener_rule.codedeploy]
}

output "target_group_arn_suffixes" {
  description = "Target group ARN suffix by label (CloudWatch dimension TargetGroup, ALBRequestCountPerTarget resource label)."
  value       = { for label, tg in aws_lb_target_group.target : label => tg.arn_suffix }
}

output "api_id" {
  description = "HTTP API id, null with a public ALB."
  value       = local.public_alb ? null : aws_apigatewayv2_api.this[0].id
}

output "target_group_names" {
  description = "Target group name by label (CodeDeploy's blue group)."
  value       = { for label, tg in aws_lb_target_group.target : label => tg.name }
}
