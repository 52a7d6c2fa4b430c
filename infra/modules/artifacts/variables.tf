variable "name" {
  description = "Prefix of the repositories (\"{name}-backend\") and the bucket (\"{name}-artifacts-{account id}\")."
  type        = string
}

variable "repositories" {
  description = "ECR repositories to create, by suffix."
  type        = list(string)
  default     = ["backend", "loadgen"]
}

variable "keep_images" {
  description = "Images kept per repository; older ones expire."
  type        = number
  default     = 20
}

variable "report_retention_days" {
  description = "Days loadgen reports under reports/ are kept."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty repositories and the bucket (the destroy workflow needs it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
