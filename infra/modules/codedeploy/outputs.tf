output "app_name" {
  description = "CodeDeploy application (aws deploy create-deployment --application-name)."
  value       = aws_codedeploy_app.this.name
}

output "deployment_group_name" {
  description = "CodeDeploy deployment group."
  value       = aws_codedeploy_deployment_group.this.deployment_group_name
}

output "green_target_group_arn" {
  description = "ARN of the green target group."
  value       = aws_lb_target_group.green.arn
}

output "test_listener_arn" {
  description = "The test listener (green before a shift)."
  value       = aws_lb_listener.test.arn
}

output "test_listener_port" {
  description = "Port of the test listener."
  value       = aws_lb_listener.test.port
}
