//! The handler's configuration: written by the provider into one JSON environment variable of the Lambda function.

use serde::{Deserialize, Serialize};

/// Name of the Lambda environment variable that carries [`HandlerConfig`] as JSON.
pub const CONFIG_ENV_VAR: &str = "GRACEFUL_CONFIG";

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
}

impl HandlerConfig {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("HandlerConfig serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}
