//! The handler's configuration: written by the provider into one JSON environment variable of the Lambda function.

use serde::{Deserialize, Serialize};

/// Name of the Lambda environment variable that carries [`HandlerConfig`] as JSON.
pub const CONFIG_ENV_VAR: &str = "GRACEFUL_CONFIG";
/// Lambda's limit on a function's environment variables, keys and values together: 4 KB
/// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
pub const LAMBDA_ENVIRONMENT_MAX_BYTES: usize = 4096;

/// What the lifecycle action is completed with (`CompleteLifecycleAction.LifecycleActionResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifecycleResult {
    Continue,
    Abandon,
}

impl LifecycleResult {
    pub fn as_aws_str(self) -> &'static str {
        match self {
            LifecycleResult::Continue => "CONTINUE",
            LifecycleResult::Abandon => "ABANDON",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerConfig {
    /// The `graceful_shutdown_asg` resource's `name`; also the prefix of every derived AWS name.
    pub resource_name: String,
    /// The lifecycle hook's name; the same on every managed group.
    pub hook_name: String,
    /// `NotificationMetadata` of every hook this resource created: events carrying other metadata are not ours.
    pub notification_metadata: String,
    pub autoscaling_group_names: Vec<String>,
    /// The SSM Command document that drains one instance.
    pub document_name: String,
    /// The document's parameters, passed as they are to `SendCommand` (each value one string).
    #[serde(default)]
    pub document_parameters: std::collections::BTreeMap<String, Vec<String>>,
    /// SNS topic for command status notifications (`SendCommand.NotificationConfig.NotificationArn`).
    pub notification_topic_arn: String,
    /// Role SSM assumes to publish those notifications (`SendCommand.ServiceRoleArn`).
    pub notification_role_arn: String,
    /// CloudWatch log group for the drain script's output (`SendCommand.CloudWatchOutputConfig`), if any.
    #[serde(default)]
    pub command_log_group_name: Option<String>,
    /// The drain budget: the command's execution timeout.
    pub drain_timeout_seconds: u64,
    /// The hook's heartbeat timeout: a heartbeat is due before this runs out.
    pub heartbeat_timeout_seconds: u64,
    /// Result used when the drain failed, timed out, was cancelled, or could not start.
    pub on_failure: LifecycleResult,
    /// The user's drain script for the `command` preset; `None` for the `nomad` preset. The document already runs
    /// it; it is kept here so the resource can be imported with its settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_command: Option<String>,
    /// How long to wait for an unreachable SSM agent (or an instance SSM does not manage) before applying `on_failure`.
    pub agent_wait_seconds: u64,
    /// The drain started at a Spot interruption notice; `None`: notices are not acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<crate::spot::SpotDrain>,
}

impl HandlerConfig {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("HandlerConfig serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// A configuration as the provider writes it for a resource named `ci` on group `ci-a` in account
    /// 123456789012, us-east-1, with the default 1 h budget (nomad preset, `on_failure = "abandon"`): the one example
    /// the tests of every crate start from, changing what they are about.
    pub fn example() -> Self {
        let budget = crate::budget::derive(3600, None).expect("the default budget is valid");
        HandlerConfig {
            resource_name: "ci".into(),
            hook_name: "ci-drain".into(),
            notification_metadata: crate::names::notification_metadata("ci"),
            autoscaling_group_names: vec!["ci-a".into()],
            document_name: "ci-drain".into(),
            document_parameters: Default::default(),
            notification_topic_arn: "arn:aws:sns:us-east-1:123456789012:ci-lifecycle".into(),
            notification_role_arn: "arn:aws:iam::123456789012:role/ci-publisher".into(),
            command_log_group_name: None,
            drain_timeout_seconds: budget.drain_timeout_seconds,
            heartbeat_timeout_seconds: budget.heartbeat_timeout_seconds,
            on_failure: LifecycleResult::Abandon,
            drain_command: None,
            agent_wait_seconds: budget.agent_wait_seconds,
            spot: None,
        }
    }

    /// Bytes this configuration takes in the function's environment: the variable's name and its JSON value.
    pub fn environment_bytes(&self) -> usize {
        CONFIG_ENV_VAR.len() + self.to_json().len()
    }

    /// Refuses, before anything is created, a configuration Lambda would refuse at `CreateFunction` or
    /// `UpdateFunctionConfiguration` for its size.
    pub fn check_environment_size(&self) -> Result<(), String> {
        let bytes = self.environment_bytes();
        if bytes > LAMBDA_ENVIRONMENT_MAX_BYTES {
            return Err(format!(
                "the drain handler's configuration takes {bytes} bytes of the Lambda environment ({} group names, {} document parameters{}), expected at most {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes (AWS's limit for a function's environment variables)",
                self.autoscaling_group_names.len(),
                self.document_parameters.len(),
                if self.drain_command.is_some() { ", the drain script" } else { "" },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(groups: usize, group_name_len: usize) -> HandlerConfig {
        HandlerConfig {
            autoscaling_group_names: (0..groups).map(|i| format!("{i:0>group_name_len$}")).collect(),
            command_log_group_name: Some("/aws/lambda/ci-drain-handler".into()),
            ..HandlerConfig::example()
        }
    }

    #[test]
    fn the_environment_size_is_checked_against_lambdas_4_kb() {
        let small = config(3, 27);
        assert!(small.check_environment_size().is_ok());
        assert_eq!(small.environment_bytes(), CONFIG_ENV_VAR.len() + small.to_json().len());
        // 16 names of 255 characters (the longest group name) do not fit.
        let error = config(16, 255).check_environment_size().expect_err("over 4 KB");
        assert!(error.contains("16 group names") && error.contains("at most 4096 bytes"), "{error}");
        let script = HandlerConfig { drain_command: Some("x".repeat(4000)), ..small };
        assert!(script.check_environment_size().expect_err("over 4 KB").contains("the drain script"));
    }
}
