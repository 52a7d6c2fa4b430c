output "function_name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Function ARN."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "Execution role ARN."
  value       = aws_iam_role.this.arn
}

output "security_group_id" {
  description = "Security group of the function in the VPC, null outside one."
  value       = local.in_vpc ? aws_security_group.function[0].id : null
}
