output "queue_name" {
  description = "Main queue name (the sqs scaling dimension)."
  value       = aws_sqs_queue.main.name
}

output "queue_url" {
  description = "Main queue URL (QUEUE_URL)."
  value       = aws_sqs_queue.main.id
}

output "queue_arn" {
  description = "Main queue ARN."
  value       = aws_sqs_queue.main.arn
}

output "dlq_arn" {
  description = "Dead-letter queue ARN."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = aws_sqs_queue.dlq.id
}
