# One resource drains the Nomad clients of several Auto Scaling groups: here one group per Availability Zone, as
# fleets pinned to zones (for zonal EBS volumes or capacity reservations) are usually laid out. Every group gets its
# own lifecycle hook; the topic, handler, document and roles are shared.
#
# These clients run long batch jobs: the budget is 3h, longer than the 2h AWS allows a lifecycle hook to wait
# without a heartbeat, so the handler sends heartbeats while the drain runs. A drain that fails or overruns the
# budget completes with ABANDON, which an instance lifecycle policy can turn into "keep the instance for inspection".
#
# In a real configuration the groups come from the AWS provider, for example:
#   autoscaling_group_names = [for az, group in aws_autoscaling_group.nomad_clients : group.name]
# Here they are a variable, so the example runs on its own (and against the project's emulated AWS).

terraform {
  required_version = ">= 1.5"
  required_providers {
    graceful = {
      source  = "registry.terraform.io/graceful-shutdown/graceful"
      version = "~> 0.1"
    }
  }
}

variable "region" {
  description = "AWS region of the Auto Scaling groups."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of every AWS name the resource creates."
  type        = string
  default     = "nomad-batch"
}

variable "autoscaling_group_names" {
  description = "The fleet's Auto Scaling groups, for example one per Availability Zone."
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
  description = "The drain budget of one instance."
  type        = string
  default     = "3h"
}

provider "graceful" {
  region = var.region
}

resource "graceful_shutdown_asg" "nomad_clients" {
  name                    = var.name
  autoscaling_group_names = var.autoscaling_group_names

  drain {
    preset  = "nomad"
    timeout = var.drain_timeout
  }

  on_failure         = "abandon"
  log_retention_days = 90
  tags               = { team = "data", fleet = var.name }
}

output "lifecycle_hook_names" {
  description = "Lifecycle hook name per Auto Scaling group."
  value       = graceful_shutdown_asg.nomad_clients.lifecycle_hook_names
}

output "heartbeat_timeout" {
  description = "Derived from the drain budget, capped at AWS's 7200 s."
  value       = graceful_shutdown_asg.nomad_clients.heartbeat_timeout
}

output "lambda_function_name" {
  description = "The drain handler (its log group is /aws/lambda/<name>)."
  value       = graceful_shutdown_asg.nomad_clients.lambda_function_name
}

output "sns_topic_arn" {
  description = "The topic the hooks and drain commands notify."
  value       = graceful_shutdown_asg.nomad_clients.sns_topic_arn
}
