//! ProvisionError: which step failed, the AWS error behind it, and what exists so far (so nothing is orphaned).

use std::fmt;

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata};

use crate::observed::ObservedResource;
use crate::ownership::NotOwned;

/// One AWS call's failure, reduced to what callers classify on (code, message) plus the full rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub code: Option<String>,
    pub message: Option<String>,
    /// The SDK's full error chain, e.g. `service error: ResourceNotFoundException: Function not found: ...`.
    pub rendered: String,
}

impl AwsError {
    /// Converts any SDK error; works for every service's `SdkError<OperationError, _>`.
    pub fn from_sdk<E>(error: E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        AwsError {
            code: error.code().map(str::to_owned),
            message: error.message().map(str::to_owned),
            rendered: DisplayErrorContext(&error).to_string(),
        }
    }

    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn message_contains(&self, needle: &str) -> bool {
        self.message.as_deref().is_some_and(|message| message.contains(needle))
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, "{code}: {message}"),
            _ => f.write_str(&self.rendered),
        }
    }
}

impl std::error::Error for AwsError {}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Cause {
    #[error("{0}")]
    Aws(AwsError),
    /// A waiter or a classified retry ran out of time; holds what was last seen.
    #[error("timed out after {seconds} s waiting for {what} (last seen: {last_seen})")]
    Timeout { what: String, seconds: u64, last_seen: String },
    /// AWS answered something this crate cannot use (e.g. a missing ARN, a malformed policy).
    #[error("unexpected response: {0}")]
    Unexpected(String),
    /// Terraform asked the provider to stop, or the operation's timeout passed; holds which.
    #[error("{0}")]
    Interrupted(String),
    /// Objects with our names exist but belong to someone else; nothing was changed.
    #[error("{0}")]
    NotOwned(NotOwned),
    /// A name derived for this account and region breaks an AWS limit; refused before any write.
    #[error("{0}")]
    InvalidName(String),
}

impl Cause {
    pub fn aws(&self) -> Option<&AwsError> {
        match self {
            Cause::Aws(error) => Some(error),
            _ => None,
        }
    }
}

impl From<AwsError> for Cause {
    fn from(error: AwsError) -> Self {
        Cause::Aws(error)
    }
}

/// Every step `converge`, `read` and `delete` take, worded as terraform-provider-aws words its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    CheckingOwnership,
    NamingRoles,
    Converging,
    Deleting,
    ReadingAccount,
    ReadingTopic,
    CreatingTopic,
    UpdatingTopic,
    DeletingTopic,
    ReadingRole,
    CreatingRole,
    UpdatingRole,
    DeletingRole,
    ReadingDocument,
    CreatingDocument,
    UpdatingDocument,
    DeletingDocument,
    ReadingLogGroup,
    CreatingLogGroup,
    UpdatingLogGroup,
    DeletingLogGroup,
    ReadingFunction,
    CreatingFunction,
    UpdatingFunctionCode,
    UpdatingFunctionConfiguration,
    UpdatingFunction,
    WaitingForFunction,
    DeletingFunction,
    ReadingSubscription,
    CreatingSubscription,
    DeletingSubscription,
    ReadingPermission,
    AddingPermission,
    RemovingPermission,
    ReadingRule,
    CreatingRule,
    UpdatingRule,
    PuttingRuleTarget,
    DeletingRule,
    ReadingLifecycleHook,
    ReadingGroupInstances,
    PuttingLifecycleHook,
    DeletingLifecycleHook,
}

impl Step {
    /// Lowercase gerund + display name, as in `creating Lambda function (name): cause`.
    pub fn describe(self) -> &'static str {
        match self {
            Step::Converging => "applying graceful_shutdown_asg",
            Step::Deleting => "deleting graceful_shutdown_asg",
            Step::CheckingOwnership => "checking the AWS objects named after graceful_shutdown_asg",
            Step::NamingRoles => "naming the IAM roles of graceful_shutdown_asg",
            Step::ReadingAccount => "reading caller identity",
            Step::ReadingTopic => "reading SNS topic",
            Step::CreatingTopic => "creating SNS topic",
            Step::UpdatingTopic => "updating SNS topic",
            Step::DeletingTopic => "deleting SNS topic",
            Step::ReadingRole => "reading IAM role",
            Step::CreatingRole => "creating IAM role",
            Step::UpdatingRole => "updating IAM role",
            Step::DeletingRole => "deleting IAM role",
            Step::ReadingDocument => "reading SSM document",
            Step::CreatingDocument => "creating SSM document",
            Step::UpdatingDocument => "updating SSM document",
            Step::DeletingDocument => "deleting SSM document",
            Step::ReadingLogGroup => "reading CloudWatch Logs log group",
            Step::CreatingLogGroup => "creating CloudWatch Logs log group",
            Step::UpdatingLogGroup => "updating CloudWatch Logs log group",
            Step::DeletingLogGroup => "deleting CloudWatch Logs log group",
            Step::ReadingFunction => "reading Lambda function",
            Step::CreatingFunction => "creating Lambda function",
            Step::UpdatingFunctionCode => "updating Lambda function code",
            Step::UpdatingFunctionConfiguration => "updating Lambda function configuration",
            Step::UpdatingFunction => "updating Lambda function",
            Step::WaitingForFunction => "waiting for Lambda function",
            Step::DeletingFunction => "deleting Lambda function",
            Step::ReadingSubscription => "reading SNS topic subscription",
            Step::CreatingSubscription => "creating SNS topic subscription",
            Step::DeletingSubscription => "deleting SNS topic subscription",
            Step::ReadingPermission => "reading Lambda permission",
            Step::AddingPermission => "adding Lambda permission",
            Step::RemovingPermission => "removing Lambda permission",
            Step::ReadingRule => "reading EventBridge rule",
            Step::CreatingRule => "creating EventBridge rule",
            Step::UpdatingRule => "updating EventBridge rule",
            Step::PuttingRuleTarget => "putting EventBridge target",
            Step::DeletingRule => "deleting EventBridge rule",
            Step::ReadingLifecycleHook => "reading Auto Scaling lifecycle hook",
            Step::ReadingGroupInstances => "reading the instances of Auto Scaling group",
            Step::PuttingLifecycleHook => "putting Auto Scaling lifecycle hook",
            Step::DeletingLifecycleHook => "deleting Auto Scaling lifecycle hook",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A step failed before the plain error gets its `observed_so_far` (see [`ProvisionError`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{step} ({id}): {cause}")]
pub struct StepError {
    pub step: Step,
    /// The AWS name or ARN the step acted on, e.g. `ci-drain-handler` or `asg-a/ci-drain`.
    pub id: String,
    pub cause: Cause,
}

impl StepError {
    pub fn new(step: Step, id: impl Into<String>, cause: impl Into<Cause>) -> Self {
        StepError { step, id: id.into(), cause: cause.into() }
    }

    /// Adapter for `map_err`: `.map_err(StepError::aws(Step::CreatingTopic, &name))`.
    pub fn aws<E>(step: Step, id: &str) -> impl FnOnce(E) -> StepError + '_
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        move |error| StepError::new(step, id, AwsError::from_sdk(error))
    }
}

/// A failed `converge`, `read` or `delete`: the message names the step, the piece and the AWS error, e.g.
/// `creating Lambda function (ci-drain-handler): InvalidParameterValueException: ...`.
///
/// `observed_so_far` holds every piece known to exist when the step failed (created in this call or seen before),
/// so the caller can record it and a later `converge` or `delete` reaches all of it. When the failure came before
/// anything could be observed (a `Reading...` step at the start: nothing was changed), it holds what the caller
/// passed as prior, so a caller should keep its previous record rather than conclude that nothing exists.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{error}")]
pub struct ProvisionError {
    #[source]
    pub error: StepError,
    pub observed_so_far: Box<ObservedResource>,
}

impl ProvisionError {
    pub fn step(&self) -> Step {
        self.error.step
    }
}
