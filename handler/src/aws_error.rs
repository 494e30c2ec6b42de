//! The handler's errors, how AWS errors are classified, and how errors reach the Lambda runtime.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use drain_contract::operations::Operation;
use lambda_runtime::Diagnostic;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// An AWS call failed after the SDK's retries. Lambda retries the invocation, which is safe: every step is
    /// idempotent.
    #[error("{operation} ({subject}): {message}")]
    Aws { operation: &'static str, subject: String, code: Option<String>, message: String },
    /// The invocation's own bound ran out before its work finished; the next delivery or tick resumes it.
    #[error("the invocation stopped after {0:?}, before its work finished (bounded to stay inside the Lambda timeout)")]
    OutOfTime(Duration),
    /// SSM refused `SendCommand` with `AccessDenied`: the agent may be online, but the handler role may not run the
    /// drain document on this instance (a policy or tag problem, not an unreachable agent).
    #[error(
        "sending drain command ({instance_id}): SSM refused it with AccessDenied, so the handler role may not run the drain document on this instance (check the instance's aws:autoscaling:groupName tag and the handler policy): {message}"
    )]
    SendRefused { instance_id: String, message: String },
    /// The function's configuration is unusable: retrying cannot help.
    #[error("reading the handler configuration: {0}")]
    Config(String),
}

impl HandlerError {
    pub fn code(&self) -> Option<&str> {
        match self {
            HandlerError::Aws { code, .. } => code.as_deref(),
            HandlerError::SendRefused { .. } => Some(ACCESS_DENIED),
            _ => None,
        }
    }

    pub fn retryable(&self) -> bool {
        !matches!(self, HandlerError::Config(_))
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = if error.retryable() { "Retryable" } else { "NonRetryable" };
        Diagnostic { error_type: error_type.into(), error_message: error.to_string() }
    }
}

/// Error codes with which AWS refuses a request for its rate before acting on it: the throttling codes of botocore's
/// standard retry mode (`botocore/retries/standard.py`, `ThrottledRetryableChecker._THROTTLED_ERROR_CODES`), less
/// the ones of services the handler does not call.
const THROTTLING_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
];

/// Whether AWS answered that it throttled the request: an error response was received and parsed (not a timeout
/// or a lost connection, after which the request may have been carried out), and its code is a throttling code.
pub fn is_throttled<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(_)) && error.code().is_some_and(|code| THROTTLING_CODES.contains(&code))
}

/// The error code SSM answers when IAM denies a call.
pub const ACCESS_DENIED: &str = "AccessDeniedException";

/// Wraps an SDK error with what was being done and to what; keeps the AWS error code for classification.
pub fn failure<E>(operation: Operation, subject: &str, error: E) -> HandlerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    HandlerError::Aws {
        operation: operation.doing(),
        subject: subject.to_string(),
        code: error.code().map(str::to_string),
        message: DisplayErrorContext(&error).to_string(),
    }
}

/// `CompleteLifecycleAction` / `RecordLifecycleActionHeartbeat` when no wait is active:
/// `ValidationError: No active Lifecycle Action found with instance ID i-...`. The action was already completed
/// or expired: done, not a failure to retry.
pub fn is_no_active_lifecycle_action(error: &HandlerError) -> bool {
    matches!(error, HandlerError::Aws { code, message, .. }
        if code.as_deref() == Some("ValidationError") && message.contains("No active Lifecycle Action"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: &str, message: &str) -> HandlerError {
        HandlerError::Aws {
            operation: "completing lifecycle action",
            subject: "i-1".into(),
            code: Some(code.into()),
            message: message.into(),
        }
    }

    #[test]
    fn classifies_the_documented_aws_answers() {
        assert!(is_no_active_lifecycle_action(&aws(
            "ValidationError",
            "No active Lifecycle Action found with instance ID i-0123456789abcdef0"
        )));
        assert!(!is_no_active_lifecycle_action(&aws("ValidationError", "1 validation error detected")));
        assert!(!is_no_active_lifecycle_action(&aws("Throttling", "No active Lifecycle Action")));
    }

    #[test]
    fn only_configuration_errors_are_not_retryable() {
        let diagnostic = Diagnostic::from(HandlerError::Config("missing GRACEFUL_CONFIG".into()));
        assert_eq!(diagnostic.error_type, "NonRetryable");
        assert!(diagnostic.error_message.contains("GRACEFUL_CONFIG"));
        assert_eq!(Diagnostic::from(aws("Throttling", "slow down")).error_type, "Retryable");
        assert_eq!(Diagnostic::from(HandlerError::OutOfTime(Duration::from_secs(5))).error_type, "Retryable");
    }
}
