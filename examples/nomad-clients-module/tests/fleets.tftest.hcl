# Plan-only tests of the root configuration: two fleets from one module, each with its own budget and policy, both
# with the account's conventions. A plan that creates contacts no AWS API.

variables {
  environment          = "prod"
  permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
  ci_build_group_names = ["nomad-ci-use1-az1", "nomad-ci-use1-az2"]
  batch_group_names    = ["nomad-batch-use1-az1"]
}

run "each_fleet_gets_its_own_budget_and_names" {
  command = plan

  assert {
    condition     = module.ci_builds.drain_timeout_seconds == 7200 && module.batch_jobs.drain_timeout_seconds == 21600
    error_message = "CI builds get 2h, batch jobs 6h."
  }
  assert {
    condition     = output.heartbeat_timeouts == { ci_builds = 7200, batch_jobs = 7200 }
    error_message = "Both budgets are longer than AWS's 7200 s heartbeat limit, so both hooks use 7200 s."
  }
  assert {
    condition     = module.ci_builds.nomad_deadline_seconds == 7200 - 300
    error_message = "nomad's -deadline leaves 5m of the budget for verification."
  }
  assert {
    condition     = output.lifecycle_hook_names.ci_builds == tomap({ "nomad-ci-use1-az1" = "prod-ci-builds-drain", "nomad-ci-use1-az2" = "prod-ci-builds-drain" })
    error_message = "One hook on each CI group, named after the environment and fleet."
  }
  assert {
    condition     = output.lifecycle_hook_names.batch_jobs == tomap({ "nomad-batch-use1-az1" = "prod-batch-jobs-drain" })
    error_message = "One hook on the batch group."
  }
  assert {
    condition     = output.lambda_function_names == { ci_builds = "prod-ci-builds-drain-handler", batch_jobs = "prod-batch-jobs-drain-handler" }
    error_message = "Each fleet has its own drain handler."
  }
  assert {
    condition     = module.batch_jobs.name == "prod-batch-jobs"
    error_message = "The fleet name is the resource id."
  }
}

run "environment_prefixes_every_name" {
  command = plan

  variables {
    environment = "staging"
  }

  assert {
    condition     = module.ci_builds.name == "staging-ci-builds" && module.batch_jobs.ssm_document_name == "staging-batch-jobs-drain"
    error_message = "The environment prefixes each fleet's AWS names."
  }
}

run "rejects_an_environment_that_would_break_names" {
  command = plan
  variables {
    environment = "Production Blue"
  }
  expect_failures = [var.environment]
}
