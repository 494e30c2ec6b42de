# Plan-only tests of the module: what it derives from its inputs, and the inputs it refuses. A plan that creates
# contacts no AWS API, so these run anywhere with `terraform init && terraform test`.

provider "graceful" {
  region = "us-east-1"
}

variables {
  name                    = "ci-builds"
  autoscaling_group_names = ["nomad-ci-a", "nomad-ci-b"]
}

run "defaults_derive_every_timeout_from_one_hour" {
  command = plan

  assert {
    condition     = graceful_shutdown_asg.this.drain.preset == "nomad"
    error_message = "The module always drains with the nomad preset."
  }
  assert {
    condition     = output.drain_timeout_seconds == 3600
    error_message = "The default budget is 1h (3600 s)."
  }
  assert {
    condition     = output.heartbeat_timeout == 5 * 60 + 180 + 3600 + 180
    error_message = "A 1h budget needs no heartbeat: the hook waits up to 5m for the SSM agent, 3m for a held-back start, the budget, and 3m to complete."
  }
  assert {
    condition     = output.nomad_deadline_seconds == 3600 - 300
    error_message = "nomad's -deadline leaves 5m of the budget for verification."
  }
  assert {
    condition     = output.lifecycle_hook_names == tomap({ "nomad-ci-a" = "ci-builds-drain", "nomad-ci-b" = "ci-builds-drain" })
    error_message = "One hook per group, named after the fleet."
  }
  assert {
    condition     = output.lambda_function_name == "ci-builds-drain-handler" && output.ssm_document_name == "ci-builds-drain"
    error_message = "AWS names are prefixed with the fleet name."
  }
  assert {
    condition     = output.log_group_name == "/aws/lambda/ci-builds-drain-handler"
    error_message = "The log group belongs to the handler function."
  }
  assert {
    condition     = graceful_shutdown_asg.this.on_failure == "continue" && graceful_shutdown_asg.this.architecture == "arm64"
    error_message = "Defaults: on_failure continue, arm64 handler."
  }
  assert {
    condition     = graceful_shutdown_asg.this.iam_path == "/" && graceful_shutdown_asg.this.permissions_boundary == null
    error_message = "Without enterprise settings the roles sit at / with no boundary."
  }
  assert {
    condition     = graceful_shutdown_asg.this.tags == tomap({ "nomad-fleet" = "ci-builds", "managed-by" = "graceful-nomad-clients" })
    error_message = "The module tags every resource with its fleet."
  }
}

run "long_budget_caps_the_heartbeat_and_keeps_caller_settings" {
  command = plan

  variables {
    drain_timeout        = "6h"
    on_failure           = "abandon"
    iam_path             = "/platform/"
    permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
    log_retention_days   = 90
    tags                 = { team = "batch", "nomad-fleet" = "override" }
  }

  assert {
    condition     = output.drain_timeout_seconds == 6 * 3600
    error_message = "6h is 21600 s."
  }
  assert {
    condition     = output.heartbeat_timeout == 7200
    error_message = "The heartbeat timeout is capped at AWS's 7200 s; the handler heartbeats for longer drains."
  }
  assert {
    condition     = graceful_shutdown_asg.this.on_failure == "abandon"
    error_message = "on_failure is passed through."
  }
  assert {
    condition     = graceful_shutdown_asg.this.iam_path == "/platform/" && graceful_shutdown_asg.this.permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary"
    error_message = "The IAM path and permissions boundary are passed through."
  }
  assert {
    condition     = graceful_shutdown_asg.this.log_retention_days == 90
    error_message = "The log retention is passed through."
  }
  assert {
    condition     = graceful_shutdown_asg.this.tags["team"] == "batch" && graceful_shutdown_asg.this.tags["nomad-fleet"] == "override"
    error_message = "Caller tags are merged over the module's own."
  }
}

run "longest_budget_aws_allows_is_accepted" {
  command = plan

  variables {
    drain_timeout = "47h49m"
  }

  assert {
    condition     = output.drain_timeout_seconds == 47 * 3600 + 49 * 60
    error_message = "Up to 5m for the SSM agent, 3m for a held-back start, 47h49m of drain and 3m to complete is exactly AWS's 48h limit."
  }
}

run "a_budget_one_minute_over_what_aws_allows_is_refused_by_the_module" {
  command = plan

  variables {
    drain_timeout = "47h50m"
  }

  expect_failures = [var.drain_timeout]
}

run "rejects_a_name_with_spaces" {
  command = plan
  variables {
    name = "ci builds"
  }
  expect_failures = [var.name]
}

run "rejects_a_name_too_long_for_aws" {
  command = plan
  variables {
    name = "this-fleet-name-is-far-too-long-for-a-lambda-function-x"
  }
  expect_failures = [var.name]
}

run "rejects_no_groups" {
  command = plan
  variables {
    autoscaling_group_names = []
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_listed_twice" {
  command = plan
  variables {
    autoscaling_group_names = ["nomad-ci-a", "nomad-ci-a"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_budget_that_is_not_a_duration" {
  command = plan
  variables {
    drain_timeout = "1 hour"
  }
  expect_failures = [var.drain_timeout]
}

run "rejects_a_budget_under_one_minute" {
  command = plan
  variables {
    drain_timeout = "30s"
  }
  expect_failures = [var.drain_timeout]
}

# The provider refuses this budget at plan time too, but `expect_failures` can only match the module's own checks.
run "rejects_a_budget_aws_cannot_honour" {
  command = plan
  variables {
    drain_timeout = "48h"
  }
  expect_failures = [var.drain_timeout]
}

run "rejects_an_unknown_failure_policy" {
  command = plan
  variables {
    on_failure = "retry"
  }
  expect_failures = [var.on_failure]
}

run "rejects_an_unknown_architecture" {
  command = plan
  variables {
    architecture = "i386"
  }
  expect_failures = [var.architecture]
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_an_iam_path_without_slashes" {
  command = plan
  variables {
    iam_path = "platform"
  }
  expect_failures = [var.iam_path]
}

run "rejects_a_boundary_that_is_not_a_policy_arn" {
  command = plan
  variables {
    permissions_boundary = "platform-boundary"
  }
  expect_failures = [var.permissions_boundary]
}

run "rejects_reserved_tag_keys" {
  command = plan
  variables {
    tags = { "aws:owner" = "ci" }
  }
  expect_failures = [var.tags]
}
