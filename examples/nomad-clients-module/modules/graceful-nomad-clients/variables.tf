# Inputs of the module. The validations repeat the provider's own plan-time rules where a module user is most likely
# to trip over them, so a bad value fails at the module boundary with a message in the module's terms (and so that
# `terraform test` can assert the failure with `expect_failures`, which cannot match a provider's error).

variable "name" {
  description = "Name of this fleet's drain setup: the prefix of every AWS name it creates (1 to 50 letters, digits, '-' or '_')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,50}$", var.name))
    error_message = "The name must be 1 to 50 characters of letters, digits, '-' and '_' (it prefixes the Lambda function, roles and document names)."
  }
}

variable "autoscaling_group_names" {
  description = "Auto Scaling groups of this Nomad client fleet (for example one per Availability Zone)."
  type        = list(string)

  validation {
    condition     = length(var.autoscaling_group_names) > 0
    error_message = "At least one Auto Scaling group name is required."
  }

  validation {
    condition     = length(distinct(var.autoscaling_group_names)) == length(var.autoscaling_group_names)
    error_message = "Each Auto Scaling group may be listed only once (one lifecycle hook per group)."
  }
}

variable "drain_timeout" {
  description = "Drain budget of one instance, as hours/minutes/seconds (\"90m\", \"1h30m\", \"2h\"): from 1m up to 47h49m (AWS keeps an instance in Terminating:Wait for at most 48h; the SSM agent is waited for up to 5m, a start held back by a crashed invocation up to 3m, and completing takes up to 3m)."
  type        = string
  default     = "1h"

  validation {
    # Parsed once per value: the for-expressions bind the regex match and the total in seconds to names.
    condition = var.drain_timeout != "" && try(alltrue([
      for parts in [regex("^(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?$", var.drain_timeout)] : alltrue([
        for seconds in [(parts.h == null ? 0 : tonumber(parts.h) * 3600) + (parts.m == null ? 0 : tonumber(parts.m) * 60) + (parts.s == null ? 0 : tonumber(parts.s))] :
        seconds >= 60 && seconds <= 47 * 3600 + 49 * 60
      ])
    ]), false)
    error_message = "The drain_timeout must be a duration like \"90m\", \"1h30m\" or \"2h\", from 1m up to 47h49m."
  }
}

variable "on_failure" {
  description = "Lifecycle result when a drain fails, times out or cannot start: \"continue\" or \"abandon\"."
  type        = string
  default     = "continue"

  validation {
    condition     = contains(["continue", "abandon"], var.on_failure)
    error_message = "The on_failure must be \"continue\" or \"abandon\"."
  }
}

variable "architecture" {
  description = "Instruction set of the drain handler Lambda: \"arm64\" or \"x86_64\"."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "log_retention_days" {
  description = "Retention of the drain handler's logs, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "iam_path" {
  description = "IAM path of the two roles, as the account's conventions require (for example \"/platform/\")."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.iam_path))
    error_message = "The iam_path must begin and end with '/', for example \"/\" or \"/platform/\"."
  }
}

variable "permissions_boundary" {
  description = "ARN of the IAM policy set as permissions boundary on both roles; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary))
    error_message = "The permissions_boundary must be the ARN of an IAM policy (arn:aws:iam::<account>:policy/<name>) or null."
  }
}

variable "kms_key_id" {
  description = "KMS key (id, alias or ARN) that encrypts the notification topic; null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every taggable AWS resource of this fleet, merged over the module's own tags."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.tags) : !startswith(lower(key), "aws:")])
    error_message = "Tag keys may not begin with \"aws:\" (AWS reserves that prefix)."
  }
}
