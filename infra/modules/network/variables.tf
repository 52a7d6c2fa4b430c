variable "name" {
  description = "Prefix of every resource name (e.g. \"weighbridge-dev\")."
  type        = string
}

variable "policy" {
  description = "The decoded traffic policy: jsondecode(file(\"config/policy.json\")). Its targets, path_rules, stickiness and base_path become the listener rules (rules.tf)."
  type        = any
}

variable "target_groups" {
  description = "One target group per policy target label: type \"ip\" (ECS tasks) or \"lambda\". Every target named in the policy must be here."
  type = map(object({
    type = string
  }))
  default = {
    ecs    = { type = "ip" }
    lambda = { type = "lambda" }
  }

  validation {
    condition     = alltrue([for tg in values(var.target_groups) : contains(["ip", "lambda"], tg.type)])
    error_message = "target_groups[*].type must be \"ip\" or \"lambda\"."
  }
}

variable "codedeploy_target" {
  description = "Policy target label whose target group CodeDeploy blue/green manages (the ECS web service's), or null. Terraform then creates the rules forwarding to it but leaves their action to CodeDeploy."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC the ALB, the VPC link and the ECS tasks live in."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two AZs) for the internal ALB and the VPC link."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Public subnets, used only when ingress = \"public_alb\"."
  type        = list(string)
  default     = []
}

variable "ingress" {
  description = "\"api_gateway\": HTTP API + VPC link + internal ALB (the seeds' setup). \"public_alb\": an internet-facing ALB reachable from allowed_cidrs."
  type        = string
  default     = "api_gateway"

  validation {
    condition     = contains(["api_gateway", "public_alb"], var.ingress)
    error_message = "ingress must be \"api_gateway\" or \"public_alb\"."
  }
}

variable "allowed_cidrs" {
  description = "Client ranges allowed to reach a public ALB (ingress = \"public_alb\"). Empty by default: nothing is open to the world unless you say so."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener (443). null: HTTP on 80 (fine for the internal ALB behind API Gateway)."
  type        = string
  default     = null
}

variable "tls_server_name" {
  description = "Host name API Gateway verifies on the ALB's certificate when certificate_arn is set."
  type        = string
  default     = null
}

variable "container_port" {
  description = "Port the backend container listens on."
  type        = number
  default     = 3000
}

variable "deregistration_delay_seconds" {
  description = "Seconds the ALB drains an ECS target before deregistering it; keep it at least the backend's DRAIN_SECONDS."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "ALB deletion protection. Off by default so the destroy workflow can remove the test bed."
  type        = bool
  default     = false
}

variable "access_logs_bucket" {
  description = "S3 bucket for ALB access logs; null: no access logs."
  type        = string
  default     = null
}

variable "throttling_rate_limit" {
  description = "API Gateway steady-state requests per second (raise it for bigger load tests)."
  type        = number
  default     = 5000
}

variable "throttling_burst_limit" {
  description = "API Gateway burst limit."
  type        = number
  default     = 5000
}

variable "log_retention_days" {
  description = "Retention of the API Gateway access log group, in days."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
