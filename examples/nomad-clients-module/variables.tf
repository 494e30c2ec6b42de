variable "region" {
  description = "AWS region of the Auto Scaling groups."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name: prefixes every fleet's AWS names and tags every resource."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "The environment must be 2 to 10 lowercase letters and digits, starting with a letter (for example \"prod\")."
  }
}

variable "cost_center" {
  description = "Cost center tag required on every resource in this account."
  type        = string
  default     = "platform-0042"
}

variable "iam_path" {
  description = "IAM path the account requires for roles created by workloads."
  type        = string
  default     = "/platform/"
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary the account requires on every role; null where none is required."
  type        = string
  default     = null
}

variable "handler_architecture" {
  description = "Instruction set of the drain handler Lambda functions: \"arm64\" or \"x86_64\"."
  type        = string
  default     = "arm64"
}

variable "ci_build_group_names" {
  description = "Auto Scaling groups of the CI build fleet (one per Availability Zone)."
  type        = list(string)
}

variable "batch_group_names" {
  description = "Auto Scaling groups of the batch fleet."
  type        = list(string)
}
