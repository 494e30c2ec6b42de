output "name" {
  description = "The fleet's name prefix (also the resource id, used for `terraform import`)."
  value       = graceful_shutdown_asg.this.id
}

output "lifecycle_hook_names" {
  description = "Lifecycle hook name per Auto Scaling group."
  value       = graceful_shutdown_asg.this.lifecycle_hook_names
}

output "heartbeat_timeout" {
  description = "Heartbeat timeout of the lifecycle hooks, in seconds, derived from the drain budget."
  value       = graceful_shutdown_asg.this.heartbeat_timeout
}

output "drain_timeout_seconds" {
  description = "The drain budget in seconds."
  value       = graceful_shutdown_asg.this.drain.timeout_seconds
}

output "nomad_deadline_seconds" {
  description = "The -deadline given to `nomad node drain`."
  value       = graceful_shutdown_asg.this.drain.nomad_deadline_seconds
}

output "sns_topic_arn" {
  description = "ARN of the topic the lifecycle hooks and drain commands notify."
  value       = graceful_shutdown_asg.this.sns_topic_arn
}

output "lambda_function_name" {
  description = "Name of the drain handler Lambda function."
  value       = graceful_shutdown_asg.this.lambda_function_name
}

output "lambda_function_arn" {
  description = "ARN of the drain handler Lambda function."
  value       = graceful_shutdown_asg.this.lambda_function_arn
}

output "ssm_document_name" {
  description = "Name of the SSM document that drains one instance."
  value       = graceful_shutdown_asg.this.ssm_document_name
}

output "log_group_name" {
  description = "CloudWatch log group of the drain handler."
  value       = graceful_shutdown_asg.this.log_group_name
}

output "handler_role_arn" {
  description = "ARN of the drain handler's execution role."
  value       = graceful_shutdown_asg.this.handler_role_arn
}

output "publisher_role_arn" {
  description = "ARN of the role Auto Scaling and SSM assume to publish to the topic."
  value       = graceful_shutdown_asg.this.publisher_role_arn
}

output "handler_code_sha256" {
  description = "SHA-256 of the bundled drain handler; changes when a provider upgrade changes the handler."
  value       = graceful_shutdown_asg.this.handler_code_sha256
}
