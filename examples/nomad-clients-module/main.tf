# Two Nomad client fleets drained by one reusable module, the way a platform team consumes its modules: the root
# configures the provider once and passes the account's conventions (IAM path, permissions boundary, common tags)
# to every module instance; each instance chooses its groups, drain budget and failure policy.
#
# In a real configuration the groups come from the AWS provider, for example:
#   autoscaling_group_names = [for group in aws_autoscaling_group.ci_builds : group.name]
# Here they are variables, so the example runs on its own (and against the project's emulated AWS).

terraform {
  required_version = ">= 1.5"
  required_providers {
    graceful = {
      source  = "registry.terraform.io/graceful-shutdown/graceful"
      version = "~> 0.1"
    }
  }
}

provider "graceful" {
  region = var.region
}

locals {
  # Tags every fleet carries, whatever the module adds.
  common_tags = {
    environment = var.environment
    cost-center = var.cost_center
    managed-by  = "terraform"
  }
}

# CI builds (CircleCI jobs up to 90 minutes): a 2h budget; a failed drain still lets the instance go.
module "ci_builds" {
  # Published modules are pinned, for example:
  #   source = "git::https://git.example.com/platform/terraform-graceful-nomad-clients.git?ref=v1.4.0"
  source = "./modules/graceful-nomad-clients"

  name                    = "${var.environment}-ci-builds"
  autoscaling_group_names = var.ci_build_group_names
  drain_timeout           = "2h"
  on_failure              = "continue"

  iam_path             = var.iam_path
  permissions_boundary = var.permissions_boundary
  architecture         = var.handler_architecture
  tags                 = merge(local.common_tags, { team = "ci" })
}

# Batch jobs (up to 6 hours): the handler heartbeats past the hook's 2h limit; a failed drain is abandoned so the
# instance can be kept for inspection by an instance lifecycle policy.
module "batch_jobs" {
  source = "./modules/graceful-nomad-clients"

  name                    = "${var.environment}-batch-jobs"
  autoscaling_group_names = var.batch_group_names
  drain_timeout           = "6h"
  on_failure              = "abandon"
  log_retention_days      = 90

  iam_path             = var.iam_path
  permissions_boundary = var.permissions_boundary
  architecture         = var.handler_architecture
  tags                 = merge(local.common_tags, { team = "data" })
}
