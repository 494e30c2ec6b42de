"""IAM enforcement for calls made with a role session's credentials (a Lambda function's execution role)."""
