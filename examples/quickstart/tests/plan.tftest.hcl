# Plan-only tests of the quickstart: what the provider derives from the one drain budget. A plan that creates
# contacts no AWS API.

variables {
  autoscaling_group_names = ["nomad-clients"]
}

run "derives_every_timeout_from_the_budget" {
  command = plan

  assert {
    condition     = graceful_shutdown_asg.nomad_clients.drain.timeout_seconds == 3600
    error_message = "The default budget is 1h (3600 s)."
  }
  assert {
    condition     = output.heartbeat_timeout == 5 * 60 + 180 + 3600 + 180
    error_message = "The hook waits up to 5m for the SSM agent, 3m for a start held back by a crashed invocation, the whole budget, and 3m to complete, so a drain within budget needs no heartbeat."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.drain.nomad_deadline_seconds == 3600 - 300
    error_message = "nomad's -deadline leaves 5m of the budget for verification."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.lifecycle_hook_names == tomap({ "nomad-clients" = "nomad-clients-drain" })
    error_message = "One lifecycle hook on the group."
  }
  assert {
    condition     = output.lambda_function_name == "nomad-clients-drain-handler"
    error_message = "The handler is named after the resource."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.on_failure == "continue" && graceful_shutdown_asg.nomad_clients.architecture == "arm64"
    error_message = "Defaults: a failed drain still lets the instance go; the handler runs on arm64."
  }
}

run "a_shorter_budget_shortens_the_hook" {
  command = plan

  variables {
    drain_timeout = "20m"
  }

  assert {
    condition     = output.heartbeat_timeout == 5 * 60 + 180 + 20 * 60 + 180
    error_message = "5m agent wait, 3m for a held-back start, the 20m budget, 3m to complete."
  }
}

run "rejects_no_groups" {
  command = plan
  variables {
    autoscaling_group_names = []
  }
  expect_failures = [var.autoscaling_group_names]
}
