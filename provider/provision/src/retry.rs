//! Classified retries: only the errors that mean "IAM has not propagated yet", bounded at two minutes, with
//! exponential backoff. Throttling is the SDK's job (adaptive retry mode), not this module's.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{AwsError, Cause, StepError};

/// How long IAM propagation is waited for (terraform-provider-aws uses the same bound).
pub const IAM_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// `CreateFunction` / `UpdateFunctionConfiguration` right after the role was created:
/// `InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.`
pub fn lambda_role_not_assumable(error: &AwsError) -> bool {
    error.code_is("InvalidParameterValueException") && error.message_contains("cannot be assumed by Lambda")
}

/// `PutLifecycleHook` while the publisher role cannot publish yet:
/// `ValidationError: Unable to publish test message to notification target
/// arn:aws:sns:us-east-1:123456789012:ci-lifecycle using IAM role arn:aws:iam::123456789012:role/ci-publisher.
/// Please check your target and role configuration and try again.`
pub fn hook_cannot_publish_test_message(error: &AwsError) -> bool {
    error.code_is("ValidationError") && error.message_contains("Unable to publish test message to notification target")
}

/// `AddPermission` / `Subscribe` racing the function's creation:
/// `ResourceConflictException: The operation cannot be performed at this time. An update is in progress for
/// resource: arn:aws:lambda:...`
pub fn lambda_update_in_progress(error: &AwsError) -> bool {
    error.code_is("ResourceConflictException") && error.message_contains("An update is in progress")
}

/// Runs `attempt` until it succeeds, fails with an error `retryable` rejects, or `IAM_PROPAGATION_TIMEOUT` passes.
pub async fn retry_classified<T, F, Fut>(retryable: fn(&AwsError) -> bool, mut attempt: F) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StepError>>,
{
    retry_classified_within(IAM_PROPAGATION_TIMEOUT, retryable, &mut attempt).await
}

pub async fn retry_classified_within<T, F, Fut>(
    timeout: Duration,
    retryable: fn(&AwsError) -> bool,
    attempt: &mut F,
) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StepError>>,
{
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let classified = error.cause.aws().is_some_and(retryable);
        if !classified {
            return Err(error);
        }
        let elapsed = started.elapsed();
        if elapsed + delay > timeout {
            let last_seen = error.cause.to_string();
            return Err(StepError::new(
                error.step,
                error.id,
                Cause::Timeout { what: "IAM role propagation".into(), seconds: timeout.as_secs(), last_seen },
            ));
        }
        tracing::debug!(step = %error.step, id = %error.id, delay_ms = delay.as_millis() as u64, "retrying: {}", error.cause);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// Exponential backoff for waiters: 100 ms doubling up to 5 s.
pub fn waiter_delays() -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(Duration::from_millis(100)), |d| Some((*d * 2).min(Duration::from_secs(5))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Step;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn aws(code: &str, message: &str) -> AwsError {
        AwsError { code: Some(code.into()), message: Some(message.into()), rendered: format!("{code}: {message}") }
    }

    #[test]
    fn classifiers_match_only_the_propagation_errors() {
        assert!(lambda_role_not_assumable(&aws(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda."
        )));
        assert!(!lambda_role_not_assumable(&aws("InvalidParameterValueException", "Unsupported runtime")));
        assert!(hook_cannot_publish_test_message(&aws(
            "ValidationError",
            "Unable to publish test message to notification target arn:aws:sns:us-east-1:1:t using IAM role r."
        )));
        assert!(!hook_cannot_publish_test_message(&aws("ValidationError", "Group asg not found")));
        assert!(lambda_update_in_progress(&aws(
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for resource: arn"
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_a_classified_error_then_succeeds() {
        let calls = AtomicU32::new(0);
        let result = retry_classified(hook_cannot_publish_test_message, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(StepError::new(
                    Step::PuttingLifecycleHook,
                    "a/h",
                    aws("ValidationError", "Unable to publish test message to notification target x"),
                ))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_an_unclassified_error() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_classified(hook_cannot_publish_test_message, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(StepError::new(Step::PuttingLifecycleHook, "a/h", aws("ValidationError", "Group a not found")))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(result.unwrap_err().to_string().contains("Group a not found"));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_bound_saying_what_it_waited_for() {
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retry_classified(lambda_role_not_assumable, || async {
            Err(StepError::new(
                Step::CreatingFunction,
                "ci-drain-handler",
                aws("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."),
            ))
        })
        .await;
        let error = result.unwrap_err();
        assert!(started.elapsed() <= IAM_PROPAGATION_TIMEOUT + Duration::from_secs(1));
        let text = error.to_string();
        assert!(text.starts_with("creating Lambda function (ci-drain-handler): timed out after 120 s"), "{text}");
        assert!(text.contains("cannot be assumed by Lambda"), "{text}");
    }
}
