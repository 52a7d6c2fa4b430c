output "cluster" {
  description = "The cluster as {name, arn}: another ecs module's cluster input."
  value       = { name = local.cluster_name, arn = local.cluster_arn }
}

output "cluster_arn" {
  description = "ECS cluster ARN (pass it to other services and the loadgen module)."
  value       = local.cluster_arn
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = local.cluster_name
}

output "service_name" {
  description = "ECS service name."
  value       = local.service_name
}

output "task_definition_arn" {
  description = "Task definition ARN."
  value       = aws_ecs_task_definition.this.arn
}

output "task_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "task_role_arn" {
  description = "Task role ARN."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "Execution role ARN."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the tasks."
  value       = aws_cloudwatch_log_group.this.name
}
