//! DesiredResource: what one `graceful_shutdown_asg` should look like in AWS, and the values derived from it.

use std::collections::{BTreeMap, BTreeSet};

use drain_contract::LifecycleResult;
use drain_contract::budget::DrainBudget;
use drain_contract::document::DrainPreset;

use crate::ownership::Ownership;

/// The Lambda function's instruction set; selects which embedded handler zip is deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    /// The value Lambda uses in `Architectures`.
    pub fn as_aws_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    pub fn from_aws_str(value: &str) -> Option<Self> {
        match value {
            "arm64" => Some(Architecture::Arm64),
            "x86_64" => Some(Architecture::X86_64),
            _ => None,
        }
    }
}

/// Everything `converge` needs to create or correct one resource. The provider fills it from the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredResource {
    /// The prefix of every AWS name (see `drain_contract::names::DerivedNames`).
    pub name: String,
    /// How the IAM roles are named: per region, or per account for a resource created before regional names.
    pub role_scope: drain_contract::names::RoleScope,
    pub autoscaling_group_names: BTreeSet<String>,
    pub budget: DrainBudget,
    pub preset: DrainPreset,
    /// The lifecycle result applied when the drain fails; also the hooks' `DefaultResult`.
    pub on_failure: LifecycleResult,
    pub architecture: Architecture,
    /// The handler's deployment zip (`bootstrap` at its root) for `architecture`.
    pub handler_zip: &'static [u8],
    /// Base64 of the zip's SHA-256: what Lambda reports as `CodeSha256`; a difference redeploys the code.
    pub handler_code_sha256: String,
    /// Tags applied to every taggable piece (topic, roles, document, log group, function, rule).
    pub tags: BTreeMap<String, String>,
    /// ARN of a permissions boundary set on both roles.
    pub permissions_boundary: Option<String>,
    /// IAM path of both roles, `/` unless an organisation requires another (must start and end with `/`).
    pub iam_path: String,
    /// KMS key (id, alias or ARN) encrypting the SNS topic.
    pub kms_key_id: Option<String>,
    /// Retention of the function's log group, in days (one of the values CloudWatch Logs accepts).
    pub log_retention_days: i32,
    /// Which existing pieces are this instance's, and the owner id written on every taggable piece.
    pub ownership: Ownership,
    /// Before deleting the hook of a group no longer managed, wait until none of its instances is held in a
    /// lifecycle wait ([`crate::drain_wait`]).
    pub wait_for_drains: bool,
    /// The drain started at a Spot interruption notice (`drain_contract::spot`); `None`: notices are ignored and the
    /// rule carries only the schedule.
    pub spot: Option<drain_contract::spot::SpotDrain>,
}

/// Lambda settings that are not the user's to choose.
pub mod function_settings {
    pub const RUNTIME: &str = "provided.al2023";
    pub const HANDLER: &str = "bootstrap";
    /// Well above the handler's own per-invocation bound, far below Lambda's 900 s ceiling.
    pub const TIMEOUT_SECONDS: i32 = 120;
    pub const MEMORY_MB: i32 = 128;
    pub const LOG_FORMAT: &str = "JSON";
    /// The reconcile sweep's schedule: every `RECONCILE_INTERVAL_SECONDS`, the period the heartbeat arithmetic
    /// counts on.
    pub const SCHEDULE_EXPRESSION: &str = drain_contract::budget::RECONCILE_SCHEDULE_EXPRESSION;
    /// Statement ids of the two Lambda permissions, and the EventBridge target id.
    pub const SNS_PERMISSION_SID: &str = "graceful-sns-invoke";
    pub const SCHEDULE_PERMISSION_SID: &str = "graceful-schedule-invoke";
    pub const RULE_TARGET_ID: &str = "drain-handler";
    /// Inline policy names on the two roles.
    pub const PUBLISHER_POLICY_NAME: &str = "publish-lifecycle-notifications";
    pub const HANDLER_POLICY_NAME: &str = "drain-instances";
    pub use drain_contract::lifecycle_states::TERMINATING_TRANSITION as LIFECYCLE_TRANSITION;
}

/// Base64 of the SHA-256 of `zip`: the form Lambda reports as `CodeSha256`.
pub fn lambda_code_sha256(zip: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(zip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sha256_is_base64_of_the_digest() {
        // sha256("") = e3b0c442...b855; its base64 is the well-known value below.
        assert_eq!(lambda_code_sha256(b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn architecture_round_trips_lambda_names() {
        for arch in [Architecture::Arm64, Architecture::X86_64] {
            assert_eq!(Architecture::from_aws_str(arch.as_aws_str()), Some(arch));
        }
        assert_eq!(Architecture::from_aws_str("mips"), None);
    }
}
