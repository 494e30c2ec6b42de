output "lifecycle_hook_names" {
  description = "Lifecycle hook name per Auto Scaling group, per fleet."
  value = {
    ci_builds  = module.ci_builds.lifecycle_hook_names
    batch_jobs = module.batch_jobs.lifecycle_hook_names
  }
}

output "heartbeat_timeouts" {
  description = "Heartbeat timeout of each fleet's hooks, in seconds."
  value = {
    ci_builds  = module.ci_builds.heartbeat_timeout
    batch_jobs = module.batch_jobs.heartbeat_timeout
  }
}

output "lambda_function_names" {
  description = "Drain handler function of each fleet (where to look for its logs)."
  value = {
    ci_builds  = module.ci_builds.lambda_function_name
    batch_jobs = module.batch_jobs.lambda_function_name
  }
}

output "handler_role_arns" {
  description = "Execution role of each fleet's drain handler."
  value = {
    ci_builds  = module.ci_builds.handler_role_arn
    batch_jobs = module.batch_jobs.handler_role_arn
  }
}
