//! ObservedResource: each piece as read back from AWS; `None` means the piece does not exist.

use std::collections::{BTreeMap, BTreeSet};

use drain_contract::names::RoleNames;

use crate::desired::Architecture;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedResource {
    /// The resource's `name` (prefix of every AWS name).
    pub name: String,
    /// The names this resource's IAM roles have (or get), whether or not the roles exist.
    pub role_names: RoleNames,
    pub topic: Option<ObservedTopic>,
    pub publisher_role: Option<ObservedRole>,
    pub handler_role: Option<ObservedRole>,
    pub document: Option<ObservedDocument>,
    pub log_group: Option<ObservedLogGroup>,
    pub function: Option<ObservedFunction>,
    pub subscription: Option<ObservedSubscription>,
    pub sns_permission: Option<ObservedPermission>,
    pub rule: Option<ObservedRule>,
    pub schedule_permission: Option<ObservedPermission>,
    /// One entry per Auto Scaling group that carries this resource's hook, keyed by group name.
    pub hooks: BTreeMap<String, ObservedHook>,
}

impl ObservedResource {
    pub fn empty(name: &str) -> Self {
        ObservedResource { name: name.to_owned(), ..Default::default() }
    }

    /// True when no piece exists: a resource in this state is gone (Terraform drops it from state).
    pub fn is_absent(&self) -> bool {
        self.topic.is_none()
            && self.publisher_role.is_none()
            && self.handler_role.is_none()
            && self.document.is_none()
            && self.log_group.is_none()
            && self.function.is_none()
            && self.subscription.is_none()
            && self.rule.is_none()
            && self.hooks.is_empty()
    }

    /// The groups that carry our hook.
    pub fn hooked_groups(&self) -> BTreeSet<String> {
        self.hooks.keys().cloned().collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObservedTopic {
    pub arn: String,
    /// The topic policy, parsed.
    pub policy: Option<serde_json::Value>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObservedRole {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub trust_policy: serde_json::Value,
    /// Inline policies by name, parsed.
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObservedDocument {
    pub name: String,
    pub arn: String,
    /// The default version's content, parsed.
    pub content: serde_json::Value,
    pub default_version: String,
    pub latest_version: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedLogGroup {
    pub name: String,
    pub arn: String,
    pub retention_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObservedFunction {
    pub name: String,
    pub arn: String,
    pub role_arn: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub architecture: Option<Architecture>,
    pub code_sha256: String,
    pub timeout_seconds: Option<i32>,
    pub memory_mb: Option<i32>,
    /// The `GRACEFUL_CONFIG` environment variable, parsed; `None` when absent or not JSON.
    pub config: Option<serde_json::Value>,
    pub log_format: Option<String>,
    pub log_group: Option<String>,
    /// `State` (Pending, Active, Inactive, Failed).
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedSubscription {
    pub arn: String,
    pub endpoint: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedPermission {
    pub statement_id: String,
    pub principal: String,
    pub source_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedRule {
    pub name: String,
    pub arn: String,
    pub schedule_expression: Option<String>,
    /// The rule's event pattern, parsed (`None`: no pattern, or one that is not JSON).
    pub event_pattern: Option<serde_json::Value>,
    pub state: Option<String>,
    /// ARN of the target with our target id, if any.
    pub target_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedHook {
    pub group: String,
    pub name: String,
    pub transition: Option<String>,
    pub heartbeat_timeout_seconds: Option<i32>,
    pub default_result: Option<String>,
    pub notification_target_arn: Option<String>,
    pub role_arn: Option<String>,
    pub notification_metadata: Option<String>,
}
