variable "name" {
  description = "Queue name; the dead-letter queue is \"{name}-dlq\"."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Seconds a received message stays hidden; longer than the worker takes per message."
  type        = number
  default     = 60
}

variable "message_retention_seconds" {
  description = "Retention of the main queue, in seconds."
  type        = number
  default     = 345600
}

variable "dlq_retention_seconds" {
  description = "Retention of the dead-letter queue, in seconds (14 days, the maximum)."
  type        = number
  default     = 1209600
}

variable "max_receive_count" {
  description = "Receives before a message moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
