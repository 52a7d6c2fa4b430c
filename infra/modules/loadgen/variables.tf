variable "name" {
  description = "Task definition family and resource prefix (e.g. \"weighbridge-dev-loadgen\")."
  type        = string
}

variable "image" {
  description = "loadgen image (infra/docker/loadgen.Dockerfile), by immutable tag."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ECR repository of the image."
  type        = string
}

variable "report_bucket" {
  description = "Bucket the reports are uploaded to, under reports/{RUN_ID}/."
  type        = string
}

variable "vpc_id" {
  description = "VPC the tasks run in."
  type        = string
}

variable "target_ports" {
  description = "Ports of the service under test the tasks may connect to (443 is always allowed)."
  type        = list(number)
  default     = [80]
}

variable "default_url" {
  description = "URL loadgen calls unless a run overrides URL."
  type        = string
}

variable "default_rps" {
  description = "Requests per second per task unless a run overrides RPS."
  type        = number
  default     = 200
}

variable "default_duration" {
  description = "Run length unless a run overrides DURATION (\"30s\", \"5m\")."
  type        = string
  default     = "5m"
}

variable "cpu" {
  description = "Task CPU units: loadgen is CPU-bound at high rates (1024 = 1 vCPU)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 2048
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; must match the image."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "log_retention_days" {
  description = "Retention of the loadgen log group, in days."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
