variable "name" {
  description = "Function name (e.g. \"weighbridge-dev-backend\")."
  type        = string
}

variable "zip_path" {
  description = "The zip cargo-lambda builds: `cargo lambda build --profile lambda --config lambda/profile.toml --features small --output-format zip -p lambda` writes target/lambda/lambda/bootstrap.zip."
  type        = string
}

variable "artifact_bucket" {
  description = "Bucket the zip is uploaded to (the artifacts module's bucket)."
  type        = string
}

variable "architecture" {
  description = "arm64 or x86_64; must match the zip (cargo lambda build --arm64 / --x86-64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "label" {
  description = "BACKEND_LABEL: what the function reports in x-served-by; must match the policy's target label."
  type        = string
  default     = "lambda"
}

variable "base_path" {
  description = "BASE_PATH of the backend (the policy's base_path)."
  type        = string
  default     = ""
}

variable "environment" {
  description = "Extra environment variables."
  type        = map(string)
  default     = {}
}

variable "memory_size" {
  description = "Memory in MB (also buys CPU)."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Function timeout in seconds."
  type        = number
  default     = 30
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions, a ceiling that keeps a load test from starving the account's other functions; null reserves none. Reserving needs account concurrency to spare: AWS keeps 100 unreserved, so a new account (quota 10) can reserve nothing."
  type        = number
  default     = null
}

variable "target_group_arn" {
  description = "ALB target group (type lambda) the function is attached to and invoked from."
  type        = string
}

variable "queue_arn" {
  description = "SQS queue the function may send to (POST /send-to-sqs); null: none."
  type        = string
  default     = null
}

variable "queue_url" {
  description = "QUEUE_URL of the backend."
  type        = string
  default     = null
}

variable "vpc" {
  description = "null: no VPC (default). Otherwise the VPC and private subnets to attach the function to."
  type = object({
    vpc_id     = string
    subnet_ids = list(string)
  })
  default = null
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
