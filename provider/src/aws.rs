//! AWS clients from the provider settings, built on first use (so planning a create never touches AWS).

use crate::config::ProviderSettings;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use graceful_provision::Clients;

pub async fn clients(settings: &ProviderSettings) -> Clients {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::adaptive().with_max_attempts(5));
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    Clients::new(&loader.load().await)
}
