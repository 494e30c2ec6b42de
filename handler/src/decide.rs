//! The decision core: pure functions from (event, observed AWS state, config, now) to actions. No I/O, no clock.
//!
//! State lives in AWS (the instance's lifecycle state and the SSM command history), so every decision can be
//! repeated: a duplicate notification observes the command the first one sent and decides nothing new.

use crate::event::{CommandStatusNotice, Event};
use drain_contract::budget::{self, RECONCILE_INTERVAL_SECONDS};
use drain_contract::{HandlerConfig, LifecycleResult};

pub use drain_contract::lifecycle_states::TERMINATING_WAIT;
use drain_contract::lifecycle_states::{IN_SERVICE, STANDBY, WARMED_TERMINATING_WAIT, is_hook_wait};
/// `Comment` prefix of every drain command; the rest is the lifecycle token (the idempotency key).
pub const COMMENT_PREFIX: &str = "graceful-drain ";
/// `SendCommand.Comment` is limited to 100 characters.
pub const COMMENT_MAX_CHARS: usize = 100;
/// After the execution timeout, how long a command may still show as running before it is cancelled.
pub const EXECUTION_OVERRUN_SECONDS: u64 = 2 * RECONCILE_INTERVAL_SECONDS;
pub use drain_contract::budget::LOCK_STALE_SECONDS;

/// What an event asks the handler to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Triage {
    /// Nothing to do; the reason is logged.
    Skip { reason: String },
    /// Observe these instances and decide for each.
    Observe(Vec<Trigger>),
    /// Walk every managed group's `Terminating:Wait` instances.
    Reconcile,
}

/// Why one instance is being looked at: the event's facts the observation cannot re-read from AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    Lifecycle {
        group: String,
        instance_id: String,
        token: String,
        time: Option<String>,
    },
    /// `requested_at`: when the command was sent (epoch seconds), as the notification states it.
    CommandStatus {
        instance_id: String,
        command_id: String,
        status: String,
        requested_at: Option<u64>,
    },
    Tick {
        group: String,
        instance_id: String,
    },
    /// A Spot interruption notice: drain now, before any hook, with the notice's deadline.
    SpotInterruption {
        instance_id: String,
    },
}

impl Trigger {
    pub fn instance_id(&self) -> &str {
        match self {
            Trigger::Lifecycle { instance_id, .. }
            | Trigger::CommandStatus { instance_id, .. }
            | Trigger::Tick { instance_id, .. }
            | Trigger::SpotInterruption { instance_id } => instance_id,
        }
    }
}

/// Decides which instances an event concerns, dropping what is not this resource's.
pub fn triage(event: &Event, config: &HandlerConfig) -> Triage {
    let skip = |reason: String| Triage::Skip { reason };
    match event {
        Event::Foreign { reason } => skip(format!("foreign or malformed event: {reason}")),
        Event::TestNotification { group } => skip(format!("test notification of group {group:?}")),
        Event::Tick => Triage::Reconcile,
        Event::SpotInterruption { instance_id, action } => {
            if config.spot.is_none() {
                return skip(format!("Spot interruption of {instance_id}: notices are not acted on (no spot block)"));
            }
            // "If you specify hibernation as the interruption behavior, you receive an interruption notice, but you do
            // not receive a two-minute warning because the hibernation process begins immediately" (EC2 User Guide).
            if action == "hibernate" {
                return skip(format!("Spot interruption of {instance_id} hibernates it at once: no time to drain"));
            }
            Triage::Observe(vec![Trigger::SpotInterruption { instance_id: instance_id.clone() }])
        }
        Event::Lifecycle(notice) => {
            if notice.hook != config.hook_name {
                return skip(format!("hook {:?} is not ours ({:?})", notice.hook, config.hook_name));
            }
            if notice.metadata.as_deref() != Some(config.notification_metadata.as_str()) {
                return skip(format!("notification metadata {:?} is not this resource's", notice.metadata));
            }
            if !config.autoscaling_group_names.contains(&notice.group) {
                return skip(format!("group {:?} is not managed by this resource", notice.group));
            }
            Triage::Observe(vec![Trigger::Lifecycle {
                group: notice.group.clone(),
                instance_id: notice.instance_id.clone(),
                token: notice.token.clone(),
                time: notice.time.clone(),
            }])
        }
        Event::CommandStatus(CommandStatusNotice {
            command_id,
            document_name,
            instance_ids,
            status,
            requested_at,
            ..
        }) => {
            if *document_name != config.document_name {
                return skip(format!("command of document {document_name:?}, not ours"));
            }
            Triage::Observe(
                instance_ids
                    .iter()
                    .map(|id| Trigger::CommandStatus {
                        instance_id: id.clone(),
                        command_id: command_id.clone(),
                        status: status.clone(),
                        requested_at: *requested_at,
                    })
                    .collect(),
            )
        }
    }
}

/// How the SSM agent on the instance looks (`DescribeInstanceInformation`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agent {
    Online,
    /// Registered with SSM but not answering (`ConnectionLost`, `Inactive`).
    Unreachable(String),
    /// SSM does not know the instance (no agent, no instance profile).
    NotManaged,
}

/// The latest drain command for the instance (`ListCommands` on our document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSeen {
    pub command_id: String,
    pub comment: String,
    pub status: String,
    /// `RequestedDateTime`, epoch seconds.
    pub requested_at: u64,
}

/// The newest drain lock of the instance (see `drain_lock`): its generation and when it was taken (epoch seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockSeen {
    pub generation: u32,
    pub taken_at: u64,
}

/// What the executor read from AWS about one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The instance's group and lifecycle state; `None` when the instance is no longer in any group.
    pub membership: Option<(String, String)>,
    pub agent: Agent,
    pub command: Option<CommandSeen>,
    /// When the lifecycle action began (epoch seconds), if known.
    pub waiting_since: Option<u64>,
    /// The instance's drain lock, when one was read.
    pub lock: Option<LockSeen>,
    /// The instance was found in its group's warm pool, whose instances are stopped or hibernated (`PoolState`).
    pub stopped_in_warm_pool: bool,
}

/// How a lifecycle action ended, for logs and the `outcome` metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Drained,
    DrainFailed,
    BudgetExceeded,
    AgentUnreachable,
    /// A stopped or hibernated warm pool instance leaving the pool: nothing runs on it.
    NothingToDrain,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Drained => "drained",
            Outcome::DrainFailed => "drain_failed",
            Outcome::BudgetExceeded => "budget_exceeded",
            Outcome::AgentUnreachable => "agent_unreachable",
            Outcome::NothingToDrain => "nothing_to_drain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Take drain lock `lock_generation` of the instance and, only if it was free, send the drain; `at_notice`: with
    /// the Spot notice's deadline instead of the budget's. `group`: the instance's, whose managed hook must still
    /// hold it when the drain is not at a notice (see `execute::send_drain`).
    SendDrain {
        group: String,
        instance_id: String,
        comment: String,
        lock_generation: u32,
        at_notice: bool,
    },
    Heartbeat {
        group: String,
        instance_id: String,
    },
    CancelCommand {
        command_id: String,
        instance_id: String,
    },
    Complete {
        group: String,
        instance_id: String,
        result: LifecycleResult,
        outcome: Outcome,
        drain_seconds: u64,
    },
    /// Nothing to do now; the reason is logged.
    Wait {
        reason: &'static str,
    },
    /// The instance needs nothing more from us.
    Done {
        reason: &'static str,
    },
}

/// The drain command's `Comment`: the idempotency key derived from the lifecycle token.
pub fn drain_comment(token: &str) -> String {
    format!("{COMMENT_PREFIX}{token}").chars().take(COMMENT_MAX_CHARS).collect()
}

/// Command statuses after which SSM does nothing more.
pub fn is_terminal(status: &str) -> bool {
    !matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Decides what to do about one instance.
pub fn decide(trigger: &Trigger, observed: &Observed, config: &HandlerConfig, now: u64) -> Vec<Action> {
    let instance_id = trigger.instance_id().to_string();
    if let Trigger::SpotInterruption { .. } = trigger {
        return vec![decide_at_notice(observed, config, instance_id)];
    }
    let Some((group, state)) = &observed.membership else {
        return vec![Action::Done { reason: "the instance is no longer in an Auto Scaling group" }];
    };
    if !config.autoscaling_group_names.contains(group) {
        return vec![Action::Done { reason: "the instance's group is not managed by this resource" }];
    }
    if !is_hook_wait(state) {
        return vec![Action::Done { reason: "the instance is not held by a terminate hook" }];
    }
    let complete = |result, outcome, drain_seconds| Action::Complete {
        group: group.clone(),
        instance_id: instance_id.clone(),
        result,
        outcome,
        drain_seconds,
    };

    if state == WARMED_TERMINATING_WAIT && observed.stopped_in_warm_pool {
        return vec![complete(LifecycleResult::Continue, Outcome::NothingToDrain, 0)];
    }
    let Some(command) = current_command(trigger, observed, now) else {
        return match &observed.agent {
            Agent::Online => {
                let comment = match trigger {
                    Trigger::Lifecycle { token, .. } => drain_comment(token),
                    // A tick or a status event without a token: key the command on the instance instead.
                    _ => instance_comment(&instance_id),
                };
                let send = |lock_generation| {
                    vec![Action::SendDrain {
                        group: group.clone(),
                        instance_id: instance_id.clone(),
                        comment,
                        lock_generation,
                        at_notice: false,
                    }]
                };
                match &observed.lock {
                    None => send(1),
                    // Its holder's invocation is over and no command of it is listed: it never sent.
                    Some(lock) if now.saturating_sub(lock.taken_at) >= LOCK_STALE_SECONDS => send(lock.generation + 1),
                    // Its holder may have crashed before sending; waiting for the lock to go stale must not let the
                    // hook expire meanwhile.
                    Some(lock) => {
                        let since = heartbeat_origin(observed, lock.taken_at, config);
                        if heartbeat_due(config, now.saturating_sub(since)) {
                            vec![Action::Heartbeat { group: group.clone(), instance_id }]
                        } else {
                            vec![Action::Wait { reason: "a drain of this action is being started" }]
                        }
                    }
                }
            }
            Agent::Unreachable(_) | Agent::NotManaged => {
                // The lock is taken after the wait began, so it bounds the wait from below when nothing else does.
                let since = observed.waiting_since.or(observed.lock.as_ref().map(|lock| lock.taken_at));
                let waited = since.map(|since| now.saturating_sub(since)).unwrap_or(0);
                let heartbeat_waited = since.map(|since| now.saturating_sub(heartbeat_origin(observed, since, config)));
                // A fresh lock may stand for a drain that was sent and is not listed yet (ListCommands lags), which
                // the agent may be running, or will run once it is back: give up on the agent only once the lock
                // is stale, when the listing shows any command of it.
                let drain_may_be_sent =
                    observed.lock.as_ref().is_some_and(|lock| now.saturating_sub(lock.taken_at) < LOCK_STALE_SECONDS);
                if waited >= config.agent_wait_seconds && !drain_may_be_sent {
                    vec![complete(config.on_failure, Outcome::AgentUnreachable, 0)]
                } else if heartbeat_waited.is_some_and(|waited| heartbeat_due(config, waited)) {
                    // A heartbeat timeout shorter than the agent wait: keep the hook alive while waiting too.
                    vec![Action::Heartbeat { group: group.clone(), instance_id }]
                } else if drain_may_be_sent {
                    vec![Action::Wait { reason: "a drain of this action may be sent and not listed yet" }]
                } else {
                    vec![Action::Wait { reason: "the SSM agent is not reachable yet" }]
                }
            }
        };
    };

    let elapsed = now.saturating_sub(command.requested_at);
    if is_terminal(&command.status) {
        let result = if command.status == "Success" { LifecycleResult::Continue } else { config.on_failure };
        let outcome = if command.status == "Success" { Outcome::Drained } else { Outcome::DrainFailed };
        return vec![complete(result, outcome, elapsed)];
    }
    if elapsed > config.drain_timeout_seconds + EXECUTION_OVERRUN_SECONDS {
        return vec![
            Action::CancelCommand { command_id: command.command_id.clone(), instance_id: instance_id.clone() },
            complete(config.on_failure, Outcome::BudgetExceeded, elapsed),
        ];
    }
    if heartbeat_due(config, now.saturating_sub(heartbeat_origin(observed, command.requested_at, config))) {
        return vec![Action::Heartbeat { group: group.clone(), instance_id }];
    }
    vec![Action::Wait { reason: "the drain is in progress" }]
}

/// At a Spot interruption notice: drain an instance of a managed group that is still in service. One held by a
/// terminate hook is that hook's to drain; the drain lock (generation 1, shared with the hook) makes the notice's
/// drain and the hook's one drain, whichever comes first.
fn decide_at_notice(observed: &Observed, config: &HandlerConfig, instance_id: String) -> Action {
    let Some((group, state)) = &observed.membership else {
        return Action::Done { reason: "the interrupted instance is in no Auto Scaling group" };
    };
    if !config.autoscaling_group_names.contains(group) {
        return Action::Done { reason: "the interrupted instance's group is not managed by this resource" };
    }
    if is_hook_wait(state) {
        return Action::Done { reason: "the interrupted instance is held by a terminate hook, whose drain it has" };
    }
    if !matches!(state.as_str(), IN_SERVICE | STANDBY) {
        return Action::Done { reason: "the interrupted instance is not in service" };
    }
    let comment = spot_comment(&instance_id);
    Action::SendDrain { group: group.clone(), instance_id, comment, lock_generation: 1, at_notice: true }
}

/// The `Comment` of a drain started at a Spot notice: keyed on the instance (no lifecycle token exists yet), so a
/// later terminate hook of the instance takes it as its drain.
pub fn spot_comment(instance_id: &str) -> String {
    format!("graceful-drain-spot {instance_id}").chars().take(COMMENT_MAX_CHARS).collect()
}

/// The command of this lifecycle action: the observed one, unless it belongs to an earlier action of the instance;
/// a status event newer than what `ListCommands` shows yet wins (notifications can overtake the listing).
fn current_command(trigger: &Trigger, observed: &Observed, now: u64) -> Option<CommandSeen> {
    let mut command = observed.command.clone();
    if let (Trigger::Lifecycle { token, .. }, Some(seen)) = (trigger, &command)
        && seen.comment.starts_with(COMMENT_PREFIX)
        && seen.comment != drain_comment(token)
    {
        command = None;
    }
    if let Trigger::CommandStatus { command_id, status, requested_at, .. } = trigger {
        match &mut command {
            Some(seen) if seen.command_id == *command_id && is_terminal(status) => seen.status = status.clone(),
            Some(_) => {}
            None => {
                command = Some(CommandSeen {
                    command_id: command_id.clone(),
                    comment: String::new(),
                    status: status.clone(),
                    requested_at: requested_at.or(observed.waiting_since).unwrap_or(now),
                })
            }
        }
    }
    command
}

fn instance_comment(instance_id: &str) -> String {
    format!("graceful-drain-instance {instance_id}").chars().take(COMMENT_MAX_CHARS).collect()
}

/// When AWS's hook clock started, for the heartbeat schedule: the observed start of the wait, else an estimate no
/// later than it from something that happened after it (`happened_after`: a drain command's request, or the taking
/// of a drain lock), which came at most an agent wait, a stale-lock takeover and a tick after the wait began. An
/// early estimate only moves heartbeats earlier, which is safe; a late one (the lock's own time) sends the first
/// heartbeat after the hook expired.
fn heartbeat_origin(observed: &Observed, happened_after: u64, config: &HandlerConfig) -> u64 {
    observed.waiting_since.unwrap_or_else(|| {
        happened_after.saturating_sub(config.agent_wait_seconds + LOCK_STALE_SECONDS + RECONCILE_INTERVAL_SECONDS)
    })
}

/// Whether the hook can time out before the drain ends, so heartbeats are needed at all.
pub fn heartbeats_needed(config: &HandlerConfig) -> bool {
    budget::heartbeats_needed(config.heartbeat_timeout_seconds, config.drain_timeout_seconds, config.agent_wait_seconds)
}

/// Stateless heartbeat schedule: every reconcile tick within the last three tick intervals of each heartbeat
/// window sends one. Windows are counted from the start of the wait (`waited`), because that is when AWS's hook
/// clock starts, not from the command's start. A heartbeat sent anywhere in window k keeps the hook alive past the
/// start of window k+1's heartbeat span, so one lost tick never lets the hook expire.
pub fn heartbeat_due(config: &HandlerConfig, waited: u64) -> bool {
    let window = config.heartbeat_timeout_seconds.max(1);
    heartbeats_needed(config) && waited % window + 3 * RECONCILE_INTERVAL_SECONDS >= window
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
