//! The AWS SDK configuration of a Lambda function, read from the environment Lambda defines for every function
//! ("Defined runtime environment variables", https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html):
//! `AWS_REGION`, and the execution role's credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//! `AWS_SESSION_TOKEN`. Also honoured: `AWS_ENDPOINT_URL` (the SDK's documented endpoint override, which the emulator
//! uses) and `AWS_USE_FIPS_ENDPOINT`.
//!
//! Not `aws_config::defaults().load()`: its chain (profile files, SSO, web identity through STS, the ECS and IMDS
//! endpoints) has nothing to find inside Lambda, and linking it made up much of the binary's AWS configuration code.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::time::Duration;

/// Standard retry mode, 3 attempts: the mode AWS recommends ("safe for use in multi-tenant applications", AWS SDKs
/// and Tools Reference Guide, "Retry behavior"). Not adaptive: its client-side rate limiter is shared by every call
/// of the client, so one throttled instance slowed the calls for all others past the operation timeout (measured:
/// a throttled `SendCommand` ended in a 12 s operation timeout, an answer that leaves it unknown whether SSM ran it).
pub fn retry() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// Timeouts short enough that a dead endpoint cannot hold an invocation, long enough for three attempts with the
/// standard mode's backoff (at most 1 s, then 2 s, for throttling).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// Reads one variable; an empty value counts as unset, as the SDK's own loader treats it.
fn var(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub fn from_lambda_environment(
    lookup: impl Fn(&str) -> Option<String>,
    http: SharedHttpClient,
    retry: RetryConfig,
    timeouts: TimeoutConfig,
) -> SdkConfig {
    let credentials = aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new();
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(var(&lookup, "AWS_REGION").map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .use_fips(var(&lookup, "AWS_USE_FIPS_ENDPOINT").is_some_and(|v| v.eq_ignore_ascii_case("true")))
        .http_client(http)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(endpoint) = var(&lookup, "AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> SdkConfig {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_lambda_environment(
            move |name| vars.get(name).cloned(),
            crate::https::client(),
            RetryConfig::standard(),
            TimeoutConfig::builder().build(),
        )
    }

    #[test]
    fn region_endpoint_and_fips_come_from_the_lambda_environment() {
        let config = config(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
        ]);
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert_eq!(config.use_fips(), Some(true));
        assert!(config.credentials_provider().is_some());
    }

    #[test]
    fn retries_are_standard_mode_with_three_attempts() {
        let retry = retry();
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry.max_attempts(), 3);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config(&[("AWS_REGION", " "), ("AWS_ENDPOINT_URL", "")]);
        assert_eq!(config.region(), None);
        assert_eq!(config.endpoint_url(), None);
        assert_eq!(config.use_fips(), Some(false));
    }
}
