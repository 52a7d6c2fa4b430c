output "service_url" {
  description = "Base URL including the base path: loadgen --url {service_url}/host."
  value       = module.network.service_url
}

output "listener_rules" {
  description = "The listener rules built from the policy."
  value       = module.network.listener_rules
}

output "weighted_rule_arn" {
  description = "The weighted listener rule a rollout drives: rollout --listener-rule. Null with blue_green (CodeDeploy owns its action)."
  value       = module.network.weighted_rule_arn
}

output "target_group_arns" {
  description = "Target group ARN by policy label: rollout --target-group LABEL=ARN,..."
  value       = module.network.target_group_arns
}

output "cluster_name" {
  description = "ECS cluster of the services and the loadgen tasks."
  value       = module.web.cluster_name
}

output "web_service_name" {
  description = "ECS web service."
  value       = module.web.service_name
}

output "worker_service_name" {
  description = "ECS worker service."
  value       = module.worker.service_name
}

output "lambda_function_name" {
  description = "Lambda function."
  value       = module.lambda.function_name
}

output "queue_url" {
  description = "Work queue URL."
  value       = module.sqs.queue_url
}

output "repository_urls" {
  description = "ECR repositories (backend, loadgen)."
  value       = module.artifacts.repository_urls
}

output "artifact_bucket" {
  description = "Bucket of Lambda zips and loadgen reports."
  value       = module.artifacts.bucket_name
}

output "loadgen_task_definition_arn" {
  description = "loadgen task definition (aws ecs run-task)."
  value       = module.loadgen.task_definition_arn
}

output "loadgen_security_group_id" {
  description = "Security group of the loadgen tasks."
  value       = module.loadgen.security_group_id
}

output "private_subnet_ids" {
  description = "Subnets for the loadgen tasks."
  value       = var.private_subnet_ids
}

output "codedeploy" {
  description = "With blue_green: what deploy.yml needs to create a CodeDeploy deployment (application, group, the task definition to deploy, its container and port, the test listener port); null otherwise."
  value = var.blue_green ? {
    app                = module.codedeploy[0].app_name
    group              = module.codedeploy[0].deployment_group_name
    task_definition    = module.web.task_definition_arn
    container_name     = "backend"
    container_port     = var.container_port
    test_listener_port = module.codedeploy[0].test_listener_port
  } : null
}
