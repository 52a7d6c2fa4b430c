output "repository_urls" {
  description = "Repository URL by suffix (\"backend\", \"loadgen\")."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARN by suffix."
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}

output "bucket_name" {
  description = "Artifact bucket (lambda/ zips, reports/ loadgen reports)."
  value       = aws_s3_bucket.artifacts.bucket
}

output "bucket_arn" {
  description = "Artifact bucket ARN."
  value       = aws_s3_bucket.artifacts.arn
}
