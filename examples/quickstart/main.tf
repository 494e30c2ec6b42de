# Quickstart: drain the Nomad clients of one Auto Scaling group before they terminate.
#
# In a real configuration the group usually comes from the AWS provider:
#   autoscaling_group_names = [aws_autoscaling_group.nomad_clients.name]
# Here it is a variable, so the example runs on its own (and against the emulated AWS of `cargo xtask demo`).

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

variable "autoscaling_group_names" {
  description = "Auto Scaling groups whose instances are drained before they terminate."
  type        = list(string)

  validation {
    condition     = length(var.autoscaling_group_names) > 0
    error_message = "At least one Auto Scaling group name is required."
  }
}

variable "drain_timeout" {
  description = "The drain budget of one instance."
  type        = string
  default     = "1h"
}

provider "graceful" {
  region = var.region
}

resource "graceful_shutdown_asg" "nomad_clients" {
  name                    = "nomad-clients"
  autoscaling_group_names = var.autoscaling_group_names

  drain {
    preset  = "nomad"
    timeout = var.drain_timeout
  }

  on_failure = "continue"
  tags       = { team = "ci" }
}

output "sns_topic_arn" {
  value = graceful_shutdown_asg.nomad_clients.sns_topic_arn
}

output "lambda_function_name" {
  value = graceful_shutdown_asg.nomad_clients.lambda_function_name
}

output "heartbeat_timeout" {
  description = "Derived from the drain budget."
  value       = graceful_shutdown_asg.nomad_clients.heartbeat_timeout
}
