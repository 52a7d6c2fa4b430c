variable "name" {
  description = "Name of the CodeDeploy application and deployment group, prefix of the green target group."
  type        = string
}

variable "cluster_name" {
  description = "ECS cluster of the service."
  type        = string
}

variable "service_name" {
  description = "ECS service (deployment_controller = CODE_DEPLOY)."
  type        = string
}

variable "listener_arn" {
  description = "Production listener whose ECS forwarding CodeDeploy shifts from blue to green."
  type        = string
}

variable "alb_arn" {
  description = "ALB of the production listener; the test listener is added to it."
  type        = string
}

variable "alb_security_group_id" {
  description = "Security group of the ALB: the test port is opened in it to the VPC's range."
  type        = string
}

variable "test_listener_port" {
  description = "Port of the test listener CodeDeploy points at the green tasks before shifting production traffic."
  type        = number
  default     = 8080
}

variable "blue_target_group_name" {
  description = "Name of the existing ECS target group (the network module's \"ecs\" group)."
  type        = string
}

variable "blue_target_group_arn_suffix" {
  description = "ARN suffix of the blue target group (alarm dimension)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (alarm dimension)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the green target group."
  type        = string
}

variable "container_port" {
  description = "Container port of the backend."
  type        = number
  default     = 3000
}

variable "deregistration_delay_seconds" {
  description = "Drain time of the green target group, in seconds."
  type        = number
  default     = 30
}

variable "traffic_shifting" {
  description = "canary (10 % for 5 minutes, then the rest), linear (10 % a minute) or all_at_once."
  type        = string
  default     = "canary"

  validation {
    condition     = contains(["canary", "linear", "all_at_once"], var.traffic_shifting)
    error_message = "traffic_shifting must be canary, linear or all_at_once."
  }
}

variable "max_5xx_per_minute" {
  description = "Target 5xx responses per minute above which the deployment rolls back."
  type        = number
  default     = 5
}

variable "extra_alarm_names" {
  description = "More CloudWatch alarms that stop and roll back a deployment."
  type        = list(string)
  default     = []
}

variable "termination_wait_minutes" {
  description = "Minutes the old (blue) tasks keep running after a successful shift, for a fast manual rollback."
  type        = number
  default     = 5
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
