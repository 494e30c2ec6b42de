//! The AWS port: one method per AWS call the handler makes, answering in the decision core's terms. Every AWS
//! answer the handler acts on (throttled, no active lifecycle action, parameter already exists, invalid instance,
//! access denied) is classified here, once, so `observe`, `drain_lock` and `execute` never see an SDK type. The
//! production implementation is `sdk_port` over the SDK clients; a model of AWS can stand in for it.
//!
//! Static dispatch only: the code is generic over the port, so the Lambda binary is the same code as before.

use crate::aws_error::HandlerError;
use crate::decide::{Agent, CommandSeen};
use crate::drain_lock::Taken;
use crate::duplicates::SendOrder;
use drain_contract::LifecycleResult;
use std::collections::BTreeMap;

/// One instance of a group as `DescribeAutoScalingGroups` or `DescribeWarmPool` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSeen {
    pub instance_id: String,
    pub lifecycle_state: String,
}

/// A managed group as `DescribeAutoScalingGroups` answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSeen {
    pub name: String,
    pub instances: Vec<MemberSeen>,
    pub has_warm_pool: bool,
}

/// A group's warm pool (`DescribeWarmPool`, every page): whether its pool state stops its instances, and them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WarmPoolSeen {
    pub stopped: bool,
    pub instances: Vec<MemberSeen>,
}

/// One page of `DescribeScalingActivities`, newest first: each activity's description and start (epoch seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivitiesPage {
    pub activities: Vec<(String, Option<u64>)>,
    pub next_token: Option<String>,
}

/// A Parameter Store parameter under a path (`GetParametersByPath`): its name and last modification (epoch seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterSeen {
    pub name: String,
    pub last_modified: u64,
}

/// The drain command to send (`SendCommand`) to one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrainCommand<'a> {
    pub document_name: &'a str,
    pub instance_id: &'a str,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub comment: &'a str,
    /// The delivery timeout (`TimeoutSeconds`).
    pub timeout_seconds: u64,
    pub notification_topic_arn: &'a str,
    pub notification_role_arn: &'a str,
    pub log_group_name: Option<&'a str>,
}

/// How `SendCommand` refused a drain.
#[derive(Debug)]
pub enum SendRefusal {
    /// `InvalidInstanceId`: no agent reachable, or not an instance SSM manages.
    InvalidInstanceId(HandlerError),
    /// IAM denied the call (`AccessDeniedException`).
    AccessDenied { message: String },
    /// AWS refused the request for its rate before creating a command.
    Throttled(HandlerError),
    /// Anything else, including a timeout after which the command may exist.
    Failed(HandlerError),
}

/// How `CompleteLifecycleAction` or `RecordLifecycleActionHeartbeat` was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleAnswer {
    Accepted,
    /// `ValidationError: No active Lifecycle Action found`: already completed or expired.
    NoActiveAction,
}

/// A deliberately broken handler, for checking that the model checker finds what it should. The production port
/// answers `None` always, which the compiler folds away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutant {
    /// Complete the lifecycle action (CONTINUE) while its drain command still runs.
    CompleteWhileRunning,
    /// Act as if every instance of a managed group were waiting on the hook (and send without asking AWS whether it
    /// is).
    SkipWaitStateCheck,
    /// Send the drain without taking the drain lock.
    IgnoreLock,
    /// Schedule heartbeats from the drain command's start instead of the start of the wait, where AWS's hook clock
    /// starts (the audit's B4); and send without the heartbeat that asks whether the hook still holds the instance,
    /// which would restart the hook's clock at the command and so make that origin right.
    HeartbeatFromCommandStart,
}

/// Every AWS call of the handler, and its clock.
// `async fn` in a public trait: its futures' `Send` is not promised, and need not be, since every caller uses one
// concrete port and so sees the concrete futures.
#[allow(async_fn_in_trait)]
pub trait AwsPort {
    /// Now, epoch seconds.
    fn now(&self) -> u64;

    /// The broken variant to behave as, if any (model checking only).
    fn mutant(&self) -> Option<Mutant> {
        None
    }

    /// `DescribeAutoScalingInstances` of one instance: its group and lifecycle state, `None` when in no group.
    async fn describe_auto_scaling_instance(&self, instance_id: &str)
    -> Result<Option<(String, String)>, HandlerError>;

    /// `DescribeWarmPool` of `group`, every page. `subject` names what is being looked at, for errors.
    async fn describe_warm_pool(&self, group: &str, subject: &str) -> Result<WarmPoolSeen, HandlerError>;

    /// `DescribeAutoScalingGroups` of `names` (at most 50), every page.
    async fn describe_auto_scaling_groups(
        &self,
        names: &[String],
        subject: &str,
    ) -> Result<Vec<GroupSeen>, HandlerError>;

    /// One page of `DescribeScalingActivities` of `group` (up to `max_records`), from `next_token`.
    async fn describe_scaling_activities(
        &self,
        group: &str,
        max_records: i32,
        next_token: Option<String>,
    ) -> Result<ActivitiesPage, HandlerError>;

    /// `ListCommands` of `document_name` sent to `instance_id`, with each command's rank among duplicates.
    async fn list_commands(
        &self,
        instance_id: &str,
        document_name: &str,
    ) -> Result<Vec<(SendOrder, CommandSeen)>, HandlerError>;

    /// `DescribeInstanceInformation` of one instance: how its SSM agent looks.
    async fn describe_instance_information(&self, instance_id: &str) -> Result<Agent, HandlerError>;

    /// `GetParametersByPath` (not recursive), every page.
    async fn get_parameters_by_path(&self, path: &str, subject: &str) -> Result<Vec<ParameterSeen>, HandlerError>;

    /// `PutParameter` with `Overwrite=false` (an advanced-tier `String` with `policies`): `Held` when it exists.
    async fn put_parameter_if_absent(
        &self,
        name: &str,
        value: &str,
        policies: &str,
        subject: &str,
    ) -> Result<Taken, HandlerError>;

    /// `DeleteParameter`; a parameter already gone counts as deleted.
    async fn delete_parameter(&self, name: &str, subject: &str) -> Result<(), HandlerError>;

    /// `SendCommand` of the drain, notifying its terminal statuses; the command id on success.
    async fn send_command(&self, command: &DrainCommand<'_>) -> Result<String, SendRefusal>;

    /// `CancelCommand` of one instance's invocation.
    async fn cancel_command(&self, command_id: &str, instance_id: &str) -> Result<(), HandlerError>;

    /// `CompleteLifecycleAction` of `hook` for the instance.
    async fn complete_lifecycle_action(
        &self,
        group: &str,
        hook: &str,
        instance_id: &str,
        result: LifecycleResult,
    ) -> Result<LifecycleAnswer, HandlerError>;

    /// `RecordLifecycleActionHeartbeat` of `hook` for the instance.
    async fn record_lifecycle_action_heartbeat(
        &self,
        group: &str,
        hook: &str,
        instance_id: &str,
    ) -> Result<LifecycleAnswer, HandlerError>;
}
