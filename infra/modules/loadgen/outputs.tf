output "task_definition_arn" {
  description = "Task definition to run (aws ecs run-task --task-definition)."
  value       = aws_ecs_task_definition.this.arn
}

output "security_group_id" {
  description = "Security group for the run-task network configuration."
  value       = aws_security_group.this.id
}

output "log_group_name" {
  description = "Log group of the loadgen tasks."
  value       = aws_cloudwatch_log_group.this.name
}
