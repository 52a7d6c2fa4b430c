variable "aws_region" {
  description = "AWS region to deploy to (GitHub variable AWS_REGION)."
  type        = string
}

variable "environment" {
  description = "Environment name; resources are called weighbridge-{environment}-*."
  type        = string
  default     = "dev"
}

variable "policy_file" {
  description = "Traffic policy file; null: the repository's config/policy.json."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Tag of the backend and loadgen images (the deploy workflow uses the git commit)."
  type        = string
}

variable "lambda_zip_path" {
  description = "Lambda zip; null: target/lambda/lambda/bootstrap.zip from `cargo lambda build --profile lambda --config lambda/profile.toml --features small --output-format zip -p lambda`."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "x86_64 (what `cargo lambda build --profile lambda --config lambda/profile.toml --features small --output-format zip -p lambda` builds) or arm64 (with --arm64)."
  type        = string
  default     = "x86_64"
}

variable "lambda_in_vpc" {
  description = "Attach the Lambda function to the private subnets (destroy is handled; see modules/lambda)."
  type        = bool
  default     = false
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the Lambda; null (default) reserves none, which a new account (concurrency quota 10) requires. Set it to cap the function once the quota allows."
  type        = number
  default     = null
}

variable "adot_image" {
  description = "ADOT collector image of the ECS tasks' trace sidecar. The default is on public.ecr.aws, which private subnets reach only through a NAT gateway; without NAT, copy it to a private ECR repository (reached through VPC endpoints) and set that image here."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "ecs_label" {
  description = "Policy target label of the ECS web service (its BACKEND_LABEL)."
  type        = string
  default     = "ecs"
}

variable "lambda_label" {
  description = "Policy target label of the Lambda function (its BACKEND_LABEL)."
  type        = string
  default     = "lambda"
}

variable "vpc_id" {
  description = "Existing VPC (with private subnets that reach AWS APIs through NAT or VPC endpoints)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets in at least two AZs: ALB (internal), VPC link, ECS tasks, loadgen tasks."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Public subnets; only for ingress = \"public_alb\"."
  type        = list(string)
  default     = []
}

variable "ingress" {
  description = "\"api_gateway\" (HTTP API + VPC link + internal ALB) or \"public_alb\"."
  type        = string
  default     = "api_gateway"
}

variable "allowed_cidrs" {
  description = "Client ranges for a public ALB; empty: nobody."
  type        = list(string)
  default     = []
}

variable "container_port" {
  description = "Backend PORT."
  type        = number
  default     = 3000
}

variable "drain_seconds" {
  description = "Backend DRAIN_SECONDS."
  type        = number
  default     = 20
}

variable "web_scaling_strategy" {
  description = "Scaling of the web service: none, cpu or alb (sqs is the worker's)."
  type        = string
  default     = "cpu"

  validation {
    condition     = contains(["none", "cpu", "alb"], var.web_scaling_strategy)
    error_message = "web_scaling_strategy must be none, cpu or alb (the worker scales on the queue)."
  }
}

variable "web_scaling" {
  description = "Task counts and thresholds of the web service (ecs module's scaling; cooldowns in seconds)."
  type        = any
  default = {
    min_tasks = 1
    max_tasks = 4
    cpu = {
      scale_out_threshold  = 70
      scale_in_threshold   = 30
      cooldown_out_seconds = 60
      cooldown_in_seconds  = 300
    }
  }
}

variable "worker_scaling" {
  description = "Task counts and queue-depth thresholds of the worker (cooldowns in seconds)."
  type        = any
  default = {
    min_tasks = 1
    max_tasks = 4
    sqs = {
      scale_out_threshold  = 10
      scale_in_threshold   = 2
      scale_out_adjustment = 2
      cooldown_out_seconds = 60
      cooldown_in_seconds  = 300
    }
  }
}

variable "wait_for_steady_state" {
  description = "terraform apply waits until the rolling web and worker deployments are steady (and fails when the circuit breaker rolls one back); false returns as soon as ECS accepted them."
  type        = bool
  default     = true
}

variable "blue_green" {
  description = "Deploy the web service blue/green with CodeDeploy instead of rolling updates."
  type        = bool
  default     = false
}

variable "traffic_shifting" {
  description = "Blue/green traffic shifting: canary, linear or all_at_once."
  type        = string
  default     = "canary"
}
