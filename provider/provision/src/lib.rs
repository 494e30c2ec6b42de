//! graceful-provision: creates, reads, updates and deletes every AWS piece of one `graceful_shutdown_asg`.
//!
//! Architecture invariant: this crate knows nothing about Terraform. The provider maps its plan and state onto
//! [`DesiredResource`] and [`ObservedResource`]; this crate talks to AWS through the AWS SDK for Rust.
//!
//! # API
//! - [`Clients::new`] builds one client per service (IAM, SNS, Lambda, SSM, Auto Scaling, CloudWatch Logs,
//!   EventBridge, STS) from an `aws_config::SdkConfig`, in the SDK's adaptive retry mode.
//! - [`converge`]`(clients, desired, prior)` creates what is missing and corrects what differs, in dependency order:
//!   obsolete hooks → topic + policy → publisher role → handler role → document (an update is a new version made
//!   default) → log group → function (waits until `Active` / `Successful`) → subscription + permission → schedule
//!   rule + target + permission → one hook per group. Create, update and drift correction are the same call.
//!   [`converge_with_groups`] is the same for a caller that recorded only the group names of its last apply.
//!   [`converge_until`] stops when a future resolves (Ctrl-C, an operation timeout), reporting what exists by then.
//! - Ownership ([`ownership`]): every taggable piece carries the tag [`OWNER_TAG`] with the instance's owner id. A
//!   converge first observes everything under its names and refuses, before any write, pieces that are not its own
//!   ([`Ownership`]); read and delete see only its own pieces (someone else's read as absent and are never deleted).
//! - [`read()`] / [`read_with_groups`] return every piece as AWS has it (`None` = absent); an import by name finds
//!   the hooks through the groups the deployed function is configured with.
//! - [`drift()`] lists the settings of existing pieces that differ from what converge sets.
//! - [`delete()`] removes everything in reverse order, hooks first; a piece already gone is success.
//! - Every failure is a [`ProvisionError`] naming the step, the piece and the AWS error
//!   (`creating Lambda function (ci-drain-handler): <cause>`), with `observed_so_far` holding what exists, so the
//!   caller records it and nothing is orphaned.
//! - Retries: only the classified IAM-propagation errors of [`retry`], bounded at two minutes with exponential
//!   backoff; throttling is left to the SDK's adaptive retry.
//! - [`policy`] holds the IAM and SNS policy documents as pure functions.

pub mod aws;
pub mod clients;
pub mod converge;
pub mod delete;
pub mod derive;
pub mod desired;
pub mod drain_wait;
pub mod drift;
pub mod error;
pub mod observed;
pub mod ownership;
pub mod policy;
pub mod read;
pub mod retry;

pub use aws::autoscaling::{groups_not_retaining_abandoned, other_resources_on};
pub use clients::{Clients, Location, preflight};
pub use converge::{converge, converge_until, converge_with_groups};
pub use delete::{delete, delete_until};
pub use desired::{Architecture, DesiredResource, lambda_code_sha256};
pub use drain_contract::LifecycleResult;
pub use drain_contract::document::DrainPreset;
pub use drift::drift;
pub use error::{AwsError, Cause, ProvisionError, Step, StepError};
pub use observed::*;
pub use ownership::{OWNER_TAG, Ownership, new_owner_id};
pub use read::{read, read_with_groups};
