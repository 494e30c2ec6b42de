//! AWS clients from the provider settings, built on first use (so planning a create never touches AWS).

use crate::config::ProviderSettings;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use graceful_provision::Clients;
use std::time::Duration;

/// Bounds on every AWS call, so an endpoint that accepts connections and never answers cannot hang Terraform.
/// A read waits at most a minute for the next bytes (Lambda's CreateFunction uploads the handler zip), an attempt
/// 90 s, a call with its retries 3 min; the resource's `timeouts` block bounds a whole operation.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .operation_attempt_timeout(Duration::from_secs(90))
        .operation_timeout(Duration::from_secs(180))
        .build()
}

/// The clients, or what is missing (region, credentials) in one sentence.
pub async fn clients(settings: &ProviderSettings) -> Result<Clients, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .timeout_config(timeouts());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    graceful_provision::preflight(&config).await?;
    Ok(Clients::new(&config))
}
