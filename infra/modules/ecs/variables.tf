variable "name" {
  description = "Service name, also the prefix of its resources (e.g. \"weighbridge-dev-web\")."
  type        = string
}

variable "cluster" {
  description = "Existing ECS cluster to run in, {name, arn} (another ecs module's cluster output); null creates one (\"{name}-cluster\", Container Insights on)."
  type = object({
    name = string
    arn  = string
  })
  default = null
}

variable "image" {
  description = "Backend image, by immutable tag or digest (e.g. \"{account}.dkr.ecr.{region}.amazonaws.com/weighbridge-backend:{git sha}\")."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository holding the image (the execution role may pull from it only)."
  type        = string
}

variable "command" {
  description = "Container command: [] for the web server, [\"consume\"] for the SQS worker."
  type        = list(string)
  default     = []
}

variable "label" {
  description = "BACKEND_LABEL: what the tasks report in x-served-by; must match the policy's target label."
  type        = string
  default     = "ecs"
}

variable "base_path" {
  description = "BASE_PATH of the backend (the policy's base_path, e.g. \"dev\")."
  type        = string
  default     = ""
}

variable "container_port" {
  description = "PORT of the backend; null for a worker that serves no HTTP."
  type        = number
  default     = 3000
}

variable "target_group_arn" {
  description = "ALB target group (type ip) the tasks register in; null for a worker."
  type        = string
  default     = null
}

variable "alb_security_group_id" {
  description = "Security group of the ALB, the only source allowed to the container port."
  type        = string
  default     = null
}

variable "environment" {
  description = "Extra environment variables of the backend container."
  type        = map(string)
  default     = {}
}

variable "drain_seconds" {
  description = "DRAIN_SECONDS: how long a stopping task answers 503 on /health before exiting. Keep it at most the target group's deregistration delay."
  type        = number
  default     = 20

  validation {
    condition     = var.drain_seconds >= 0 && var.drain_seconds <= 110
    error_message = "drain_seconds must be 0..110 (Fargate stops a container at most 120 s after SIGTERM)."
  }
}

variable "cpu" {
  description = "Task CPU units (256 = 1/4 vCPU)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 512
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

variable "adot_image" {
  description = "AWS Distro for OpenTelemetry collector image (the trace sidecar)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks (no public IPs; reach AWS through NAT or VPC endpoints)."
  type        = list(string)
}

variable "queue_access" {
  description = "What the task role may do on queue_arn: \"none\", \"send\" (web: POST /send-to-sqs) or \"consume\" (worker)."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "send", "consume"], var.queue_access)
    error_message = "queue_access must be none, send or consume."
  }
}

variable "queue_arn" {
  description = "ARN of the SQS queue (queue_access other than none)."
  type        = string
  default     = null
}

variable "queue_url" {
  description = "QUEUE_URL of the backend."
  type        = string
  default     = null
}

variable "queue_name" {
  description = "Queue name, the alarm dimension of scaling_strategy = \"sqs\"."
  type        = string
  default     = null
}

variable "scaling_strategy" {
  description = "none | cpu | sqs | alb (see scaling.tf)."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "cpu", "sqs", "alb"], var.scaling_strategy)
    error_message = "scaling_strategy must be none, cpu, sqs or alb."
  }
}

variable "scaling" {
  description = "Task counts and the settings of each strategy. Thresholds are percent (cpu) or visible messages (sqs); every cooldown and period is in SECONDS."
  type = object({
    min_tasks = optional(number, 1)
    max_tasks = optional(number, 4)
    cpu = optional(object({
      scale_out_threshold          = optional(number, 70)
      scale_in_threshold           = optional(number, 30)
      scale_out_adjustment         = optional(number, 1)
      scale_in_adjustment          = optional(number, 1)
      cooldown_out_seconds         = optional(number, 60)
      cooldown_in_seconds          = optional(number, 300)
      period_seconds               = optional(number, 60)
      scale_out_evaluation_periods = optional(number, 1)
      scale_in_evaluation_periods  = optional(number, 3)
    }), {})
    sqs = optional(object({
      scale_out_threshold          = optional(number, 10)
      scale_in_threshold           = optional(number, 2)
      scale_out_adjustment         = optional(number, 2)
      scale_in_adjustment          = optional(number, 1)
      cooldown_out_seconds         = optional(number, 60)
      cooldown_in_seconds          = optional(number, 300)
      period_seconds               = optional(number, 60)
      scale_out_evaluation_periods = optional(number, 1)
      scale_in_evaluation_periods  = optional(number, 3)
    }), {})
    alb = optional(object({
      target_requests_per_task = optional(number, 1000)
      cooldown_out_seconds     = optional(number, 60)
      cooldown_in_seconds      = optional(number, 300)
    }), {})
  })
  default = {}

  validation {
    condition     = var.scaling.min_tasks >= 0 && var.scaling.max_tasks >= var.scaling.min_tasks
    error_message = "Need 0 <= min_tasks <= max_tasks."
  }

  validation {
    # Application Auto Scaling cooldowns are seconds; a value above a day is
    # almost certainly minutes or milliseconds put in the wrong field.
    condition = alltrue([
      for c in [
        var.scaling.cpu.cooldown_out_seconds, var.scaling.cpu.cooldown_in_seconds,
        var.scaling.sqs.cooldown_out_seconds, var.scaling.sqs.cooldown_in_seconds,
        var.scaling.alb.cooldown_out_seconds, var.scaling.alb.cooldown_in_seconds,
      ] : c >= 0 && c <= 86400 && floor(c) == c
    ])
    error_message = "Cooldowns are whole seconds, 0..86400."
  }

  validation {
    # CloudWatch accepts 10, 30 or any multiple of 60 seconds.
    condition = alltrue([
      for p in [var.scaling.cpu.period_seconds, var.scaling.sqs.period_seconds] : contains([10, 30], p) || (p >= 60 && p % 60 == 0)
    ])
    error_message = "period_seconds must be 10, 30 or a multiple of 60."
  }
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix (scaling_strategy = \"alb\")."
  type        = string
  default     = null
}

variable "target_group_arn_suffix" {
  description = "Target group ARN suffix (scaling_strategy = \"alb\")."
  type        = string
  default     = null
}

variable "deployment_controller" {
  description = "ECS (rolling, circuit breaker with rollback) or CODE_DEPLOY (blue/green by the codedeploy module)."
  type        = string
  default     = "ECS"

  validation {
    condition     = contains(["ECS", "CODE_DEPLOY"], var.deployment_controller)
    error_message = "deployment_controller must be ECS or CODE_DEPLOY."
  }
}

variable "wait_for_steady_state" {
  description = "Make terraform apply wait until the rolling deployment is steady (fails the apply when the circuit breaker rolls back)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the task log group, in days."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
