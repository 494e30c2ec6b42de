# Plan-only tests: one resource, three zonal groups, a budget longer than a hook can wait unattended. A plan that
# creates contacts no AWS API.

variables {
  autoscaling_group_names = ["nomad-batch-use1-az1", "nomad-batch-use1-az2", "nomad-batch-use1-az4"]
}

run "one_hook_per_group_and_heartbeats_for_a_3h_budget" {
  command = plan

  assert {
    condition     = length(graceful_shutdown_asg.nomad_clients.autoscaling_group_names) == 3
    error_message = "The resource manages all three groups."
  }
  assert {
    condition = output.lifecycle_hook_names == tomap({
      "nomad-batch-use1-az1" = "nomad-batch-drain"
      "nomad-batch-use1-az2" = "nomad-batch-drain"
      "nomad-batch-use1-az4" = "nomad-batch-drain"
    })
    error_message = "One lifecycle hook on each group, all named after the resource."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.drain.timeout_seconds == 3 * 3600
    error_message = "The budget is 3h."
  }
  assert {
    condition     = output.heartbeat_timeout == 7200
    error_message = "A 3h budget exceeds what a hook waits unattended: the heartbeat timeout is capped at 7200 s."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.drain.nomad_deadline_seconds == 3 * 3600 - 300
    error_message = "nomad's -deadline leaves 5m of the budget for verification."
  }
  assert {
    condition     = graceful_shutdown_asg.nomad_clients.on_failure == "abandon"
    error_message = "A failed drain completes with ABANDON."
  }
  assert {
    condition     = output.lambda_function_name == "nomad-batch-drain-handler"
    error_message = "One handler serves all the groups."
  }
}

run "a_budget_under_two_hours_needs_no_heartbeat" {
  command = plan

  variables {
    drain_timeout = "45m"
  }

  assert {
    condition     = output.heartbeat_timeout == 5 * 60 + 180 + 45 * 60 + 180
    error_message = "The hook waits for the agent, 3m for a held-back start, the whole budget, and 3m to complete."
  }
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
    autoscaling_group_names = ["nomad-batch-use1-az1", "nomad-batch-use1-az1"]
  }
  expect_failures = [var.autoscaling_group_names]
}
