//! Clients: one AWS SDK client per service this crate calls, built once from an `SdkConfig`, plus the account and
//! region every ARN is built from.

use aws_config::SdkConfig;
use aws_config::retry::{RetryConfig, RetryMode};
use tokio::sync::OnceCell;

use crate::error::{Step, StepError};

/// The SDK clients, each with the SDK's adaptive retry mode (client-side rate limiting on throttling).
#[derive(Clone, Debug)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sts: aws_sdk_sts::Client,
    region: String,
    /// Account id and partition of the caller, from STS `GetCallerIdentity`.
    account_id: std::sync::Arc<OnceCell<(String, String)>>,
}

/// Where the resource lives: what every ARN is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub partition: String,
    pub region: String,
    pub account_id: String,
}

impl Location {
    /// The ARN of a regional resource of this account: `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        let Location { partition, region, account_id } = self;
        format!("arn:{partition}:{service}:{region}:{account_id}:{resource}")
    }
}

impl Clients {
    /// Builds every client from `config`. The region comes from `config` (`us-east-1` when it has none). The retry
    /// settings of `config` (e.g. max attempts) are kept, in adaptive mode.
    pub fn new(config: &SdkConfig) -> Self {
        let retry =
            config.retry_config().cloned().unwrap_or_else(RetryConfig::adaptive).with_retry_mode(RetryMode::Adaptive);
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf($sdk::config::Builder::from(config).retry_config(retry.clone()).build())
            };
        }
        Clients {
            iam: client!(aws_sdk_iam),
            sns: client!(aws_sdk_sns),
            lambda: client!(aws_sdk_lambda),
            ssm: client!(aws_sdk_ssm),
            autoscaling: client!(aws_sdk_autoscaling),
            logs: client!(aws_sdk_cloudwatchlogs),
            events: client!(aws_sdk_eventbridge),
            sts: client!(aws_sdk_sts),
            region: config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_owned()),
            account_id: Default::default(),
        }
    }

    /// Region, partition and account id (the latter two from STS `GetCallerIdentity`, asked once per `Clients`).
    pub async fn location(&self) -> Result<Location, StepError> {
        let (account_id, partition) = self
            .account_id
            .get_or_try_init(|| async {
                let identity =
                    self.sts.get_caller_identity().send().await.map_err(StepError::aws(Step::ReadingAccount, "sts"))?;
                let account = identity.account.ok_or_else(|| {
                    StepError::new(
                        Step::ReadingAccount,
                        "sts",
                        crate::error::Cause::Unexpected("GetCallerIdentity returned no Account".into()),
                    )
                })?;
                let partition = partition_for(identity.arn.as_deref(), &self.region);
                Ok::<_, StepError>((account, partition))
            })
            .await?
            .clone();
        Ok(Location { partition, region: self.region.clone(), account_id })
    }
}

/// What the SDK would otherwise report deep inside the first call ("dispatch failure: missing signing region", a
/// credentials-chain dump): checked once, before any AWS call, with a message that says what to set.
pub async fn preflight(config: &SdkConfig) -> Result<(), String> {
    use aws_sdk_sts::config::ProvideCredentials;
    if config.region().is_none() {
        return Err("no AWS region: set region in the provider \"graceful\" block, AWS_REGION, or the region of \
the AWS profile in use"
            .to_owned());
    }
    let Some(credentials) = config.credentials_provider() else {
        return Err("no AWS credentials provider is configured".to_owned());
    };
    credentials.provide_credentials().await.map(|_| ()).map_err(|error| {
        format!(
            "no AWS credentials found ({error}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile \
(profile in the provider block or AWS_PROFILE) with credentials or SSO, or run where a container or instance role is \
available"
        )
    })
}

/// The caller's partition: the second field of its own ARN (`arn:<partition>:sts::...`), which is right in every
/// partition, including those the region prefix does not tell apart (the ISO ones); the region's otherwise.
pub fn partition_for(caller_arn: Option<&str>, region: &str) -> String {
    caller_arn
        .and_then(|arn| arn.strip_prefix("arn:"))
        .and_then(|rest| rest.split(':').next())
        .filter(|partition| !partition.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| partition_of(region).to_owned())
}

/// The ARN partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region_prefix() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("eu-west-3"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn the_partition_comes_from_the_callers_arn() {
        let iso = "arn:aws-iso:sts::123456789012:assumed-role/deploy/session";
        assert_eq!(partition_for(Some(iso), "us-iso-east-1"), "aws-iso");
        assert_eq!(partition_for(Some("arn:aws-cn:iam::123456789012:user/ci"), "cn-north-1"), "aws-cn");
        // No usable ARN: the region decides.
        assert_eq!(partition_for(None, "us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_for(Some("not an arn"), "eu-west-1"), "aws");
    }
}
