//! The abstract AWS the handler runs against: one Auto Scaling group with one managed terminate hook (and, within
//! the bounds, a second terminate hook of someone else's), its instances and their lifecycle actions, the SSM command
//! store, the drain-lock parameters, and the notifications in flight.
//! Every rule cites where AWS states it; rules the emulator (tests/emulator/graceful_emulator) implements too are
//! marked so, with the emulator's file, which carries the same citation.
//!
//! The world also judges the handler: each AWS call that breaks a property records it in `violation` (see
//! `properties`), at the moment AWS would have carried it out.

use crate::properties::{self, Budget};
use drain_contract::budget::wait_ceiling_seconds;
use std::collections::BTreeSet;

pub const GROUP: &str = "asg";
/// The lifecycle state names of the EC2 Auto Scaling User Guide ("Amazon EC2 Auto Scaling instance lifecycle").
pub const IN_SERVICE: &str = "InService";
pub const TERMINATING_WAIT: &str = "Terminating:Wait";
pub const TERMINATING_PROCEED: &str = "Terminating:Proceed";

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Life {
    InService,
    /// Held in `Terminating:Wait` by the managed hook, or by the other hook after the managed one's action ended.
    Waiting,
    /// Its lifecycle action completed: "If the instance is terminating, both ABANDON and CONTINUE let the instance
    /// terminate" (User Guide, "Complete a lifecycle action"); it is `Terminating:Proceed` until it is gone.
    Proceeding,
    /// Terminated and no longer in the group: `DescribeAutoScalingInstances` no longer lists it.
    Gone,
}

impl Life {
    pub fn lifecycle_state(self) -> Option<&'static str> {
        match self {
            Life::InService => Some(IN_SERVICE),
            Life::Waiting => Some(TERMINATING_WAIT),
            Life::Proceeding => Some(TERMINATING_PROCEED),
            Life::Gone => None,
        }
    }
}

/// How a lifecycle action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ended {
    /// `CompleteLifecycleAction` with this result (`true`: CONTINUE, `false`: ABANDON).
    ByHandler { continued: bool },
    /// The heartbeat timeout or the global timeout ran out: "the instance ... proceeds with the default action"
    /// (User Guide, "Amazon EC2 Auto Scaling lifecycle hooks"; emulator: autoscaling_hooks/models.py `expire_due_actions`).
    ByTimeout,
    /// The other hook's action was completed ABANDON (by its owner or its timeout), which ends this one too: "ABANDON
    /// stops any remaining actions, such as other lifecycle hooks" (User Guide, "Complete a lifecycle action";
    /// emulator: autoscaling_hooks/models.py `complete_action`).
    ByOtherHook,
}

/// The one lifecycle action an instance gets: it enters `Terminating:Wait` once in its life.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LifecycleAction {
    pub token: String,
    pub started: u64,
    /// When the heartbeat timeout runs out, unless a heartbeat moves it.
    pub deadline: u64,
    /// When the global timeout runs out, which no heartbeat moves: "The maximum amount of time that you can keep an
    /// instance in a wait state is 48 hours or 100 times the heartbeat timeout, whichever is smaller" (User Guide,
    /// "Amazon EC2 Auto Scaling lifecycle hooks"; emulator: autoscaling_hooks/models.py `global_deadline`).
    pub global_deadline: u64,
    /// The hook's `DefaultResult` (the provider sets it to `on_failure`): `true` is CONTINUE.
    pub default_continues: bool,
    pub ended: Option<Ended>,
    /// Drain commands created for this action.
    pub drains_sent: u8,
    /// Results the handler asked for in `CompleteLifecycleAction` calls AWS accepted or refused as no longer active.
    pub results_asked: BTreeSet<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instance {
    pub id: String,
    pub life: Life,
    pub action: Option<LifecycleAction>,
    /// When its SSM agent is online from (epoch seconds): until then `DescribeInstanceInformation` reports
    /// `PingStatus` `ConnectionLost` (API Reference, InstanceInformation: "Online | ConnectionLost | Inactive") and
    /// no command reaches it (see `World::agent_online`).
    pub agent_online_from: u64,
    /// Whether a second terminate hook on the group, not ours, has an open action on this instance: the instance
    /// stays in `Terminating:Wait` until every hook's action is complete (emulator: autoscaling_hooks/models.py, "the
    /// instance proceeds when every action is complete").
    pub other_action_open: bool,
}

/// An SSM command invocation's status (SendCommand, ListCommands `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Pending,
    InProgress,
    Success,
    Failed,
    TimedOut,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::InProgress => "InProgress",
            Status::Success => "Success",
            Status::Failed => "Failed",
            Status::TimedOut => "TimedOut",
            Status::Cancelled => "Cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, Status::Pending | Status::InProgress)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    pub id: String,
    /// Index into `World::instances`.
    pub instance: usize,
    pub comment: String,
    pub status: Status,
    pub requested_at: u64,
    /// Whether `ListCommands` filtered by instance shows it yet. ListCommands (API Reference, `InstanceId`): "You
    /// can't specify a managed node ID in the same command that you specify Status=Pending. This is because the
    /// command hasn't reached the managed node yet": a command not yet delivered is not listed for its instance.
    pub listed: bool,
    /// `CancelCommand` was called but has not taken effect yet (see `World::cancel_command`).
    pub cancel_requested: bool,
}

/// A notification on its way to the function. SNS and EventBridge deliver at least once and Lambda's asynchronous
/// invocation "might receive the same event more than once" (Lambda Developer Guide, "Asynchronous invocation"), in
/// no promised order; a delivery whose retries run out is lost (ibid., "Retries").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Notification {
    /// The hook's `autoscaling:EC2_INSTANCE_TERMINATING` notification (User Guide, "Configure a notification
    /// target for lifecycle notifications").
    Lifecycle { instance: usize },
    /// A command invocation reached `status`: SendCommand's `NotificationConfig` with the terminal
    /// `NotificationEvents` the handler asks for (SendCommand, API Reference).
    CommandStatus { command: usize, status: Status },
}

/// Everything that can happen, with the model's bounds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    pub now: u64,
    pub instances: Vec<Instance>,
    pub commands: Vec<Command>,
    /// Parameter Store: name → (value, `LastModifiedDate`).
    pub parameters: std::collections::BTreeMap<String, (String, u64)>,
    pub inbox: BTreeSet<Notification>,
    /// How many more duplicate deliveries, lost deliveries and faulty AWS calls (throttling, a timeout after the
    /// call took effect, a crash of the invocation) the bounds allow.
    pub duplicates_left: u8,
    pub losses_left: u8,
    pub faults_left: u8,
    /// How many more times two invocations may run at once.
    pub races_left: u8,
    /// How many more times an online SSM agent may lose its connection.
    pub agent_drops_left: u8,
    /// Whether a cancel takes effect later (or never) rather than at once (copied from `Bounds::cancel_lag`).
    pub cancel_lags: bool,
    /// Whether `SendCommand` refuses an instance whose agent is offline (copied from `Bounds::offline_sends_refused`).
    pub offline_sends_refused: bool,
    /// The first property the handler broke, if any.
    pub violation: Option<String>,
    /// Whether the reconcile tick ran in the current clock interval, and whether it ran in every interval so far:
    /// EventBridge's schedule invokes the function every interval ("rate(1 minute)"), so a world where it did not
    /// is one where the schedule's delivery failed, which the model explores but does not hold liveness to.
    pub ticked: bool,
    pub every_interval_ticked: bool,
}

/// The bounds of one exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub instances: usize,
    pub duplicates: u8,
    pub losses: u8,
    pub faults: u8,
    /// Pairs of invocations that run at once: Lambda runs concurrent deliveries in separate execution environments
    /// (Lambda Developer Guide, "Lambda function scaling"), so their AWS calls interleave.
    pub races: u8,
    /// How far the clock may advance, seconds after the start.
    pub horizon_seconds: u64,
    /// When not 0, scale-in may also pick an instance whose SSM agent is offline for this long after the instance
    /// starts waiting (an agent that is restarting, or a node that lost its network for a while), as well as one
    /// whose agent is online; and an online agent may drop for this long, `agent_drops` times.
    pub agent_offline_seconds: u64,
    pub agent_drops: u8,
    /// Whether the group has a second terminate hook, someone else's, whose action its owner completes (or its
    /// timeout ends) at any time, with either result.
    pub other_hook: bool,
    /// Whether `CancelCommand` may take effect late or never: "Attempts to cancel the command specified by the
    /// Command ID. There is no guarantee that the command will be terminated and the underlying process stopped"
    /// (CancelCommand, API Reference; emulator: ssm_consistency.py `cancel`).
    pub cancel_lag: bool,
    /// What `SendCommand` does for an instance whose agent is offline. AWS documents both answers: the error
    /// `InvalidInstanceId` ("SSM Agent isn't running", SendCommand, API Reference, Errors; the emulator's
    /// ssm_commands/models.py `send_command` answers it for an agent that is not `Online`), and a command that waits for
    /// the agent ("Delayed: The system attempted to send the command to the managed node but wasn't successful. The
    /// system retries again", Systems Manager User Guide, "Understanding command statuses"). `false` (the default):
    /// SSM keeps the command until the agent is back; `true`: it refuses.
    pub offline_sends_refused: bool,
}

impl Bounds {
    /// One instance, one duplicate, one loss, one fault and one concurrent pair, ten minutes of clock: past the drain
    /// budget, the stale-lock time and the heartbeat timeout. What `check-model` and the bounded test run by default.
    pub const ONE_INSTANCE: Bounds = Bounds {
        instances: 1,
        duplicates: 1,
        losses: 1,
        faults: 1,
        races: 1,
        horizon_seconds: 600,
        agent_offline_seconds: 0,
        agent_drops: 0,
        other_hook: false,
        cancel_lag: false,
        offline_sends_refused: false,
    };
}

/// The managed hook as `PutLifecycleHook` set it.
#[derive(Clone, Copy, Debug)]
pub struct Hook {
    pub heartbeat_timeout: u64,
    pub default_continues: bool,
}

/// Where the clock starts (epoch seconds; any time would do).
pub const START: u64 = 1_800_000_000;

impl World {
    pub fn new(bounds: &Bounds) -> World {
        World {
            now: START,
            instances: (0..bounds.instances)
                .map(|i| Instance {
                    id: format!("i-{i:017}"),
                    life: Life::InService,
                    action: None,
                    agent_online_from: START,
                    other_action_open: false,
                })
                .collect(),
            commands: Vec::new(),
            parameters: Default::default(),
            inbox: BTreeSet::new(),
            duplicates_left: bounds.duplicates,
            losses_left: bounds.losses,
            faults_left: bounds.faults,
            races_left: bounds.races,
            agent_drops_left: bounds.agent_drops,
            cancel_lags: bounds.cancel_lag,
            offline_sends_refused: bounds.offline_sends_refused,
            violation: None,
            ticked: false,
            every_interval_ticked: true,
        }
    }

    pub fn instance_index(&self, instance_id: &str) -> Option<usize> {
        self.instances.iter().position(|instance| instance.id == instance_id)
    }

    /// Scale-in picks the instance: it enters `Terminating:Wait` with a fresh lifecycle action and the hook
    /// notifies (User Guide, "Amazon EC2 Auto Scaling lifecycle hooks"; emulator: autoscaling_hooks/models.py); the other
    /// hook, if the group has one, gets its own action at once (its notification goes to its owner's target). The
    /// agent is offline for `agent_offline_seconds` from now.
    pub fn scale_in(&mut self, instance: usize, hook: &Hook, agent_offline_seconds: u64, other_hook: bool) {
        let now = self.now;
        let target = &mut self.instances[instance];
        target.life = Life::Waiting;
        target.agent_online_from = now + agent_offline_seconds;
        target.other_action_open = other_hook;
        target.action = Some(LifecycleAction {
            token: format!("token-{instance}"),
            started: now,
            deadline: now + hook.heartbeat_timeout,
            global_deadline: now + wait_ceiling_seconds(hook.heartbeat_timeout),
            default_continues: hook.default_continues,
            ended: None,
            drains_sent: 0,
            results_asked: BTreeSet::new(),
        });
        self.inbox.insert(Notification::Lifecycle { instance });
    }

    /// Whether the instance's SSM agent is connected now: it runs, and its offline time is over.
    pub fn agent_online(&self, instance: usize) -> bool {
        let target = &self.instances[instance];
        target.life != Life::Gone && self.now >= target.agent_online_from
    }

    /// The instance's SSM agent loses its connection for `seconds`: it reports nothing meanwhile (see
    /// `steps::Model::steps`), and `DescribeInstanceInformation` answers `ConnectionLost`.
    pub fn agent_drops(&mut self, instance: usize, seconds: u64) {
        self.agent_drops_left -= 1;
        self.instances[instance].agent_online_from = self.now + seconds;
    }

    /// The managed hook's action of `instance` ends `how`: an ABANDON ends the other hook's action too, and the
    /// instance proceeds once no action holds it (emulator: autoscaling_hooks/models.py `complete_action`).
    fn end_action(&mut self, instance: usize, how: Ended, abandoned: bool) {
        let target = &mut self.instances[instance];
        if let Some(action) = &mut target.action {
            action.ended = Some(how);
        }
        if abandoned {
            target.other_action_open = false;
        }
        if !target.other_action_open {
            target.life = Life::Proceeding;
        }
    }

    /// The other hook's owner completes its action (or its timeout does), CONTINUE (`continued`) or ABANDON.
    pub fn other_hook_ends(&mut self, instance: usize, continued: bool) {
        let target = &mut self.instances[instance];
        target.other_action_open = false;
        let ours_open = target.action.as_ref().is_some_and(|action| action.ended.is_none());
        match (ours_open, continued) {
            (true, true) => {}
            (true, false) => self.end_action(instance, Ended::ByOtherHook, true),
            (false, _) => target.life = Life::Proceeding,
        }
    }

    /// The command's invocation moves to `status`; a terminal status is notified.
    pub fn command_moves(&mut self, command: usize, status: Status) {
        let moved = &mut self.commands[command];
        moved.status = status;
        // Delivered to the node: listed from now on (see `Command::listed`).
        moved.listed = true;
        if status.is_terminal() {
            self.inbox.insert(Notification::CommandStatus { command, status });
        }
    }

    /// The clock advances by `seconds`. The listing catches up with every command sent before (ListCommands lags by
    /// seconds, far below one reconcile interval), and lifecycle actions whose heartbeat timeout ran out complete
    /// with the hook's `DefaultResult` (see `Ended::ByTimeout`).
    pub fn advance_clock(&mut self, seconds: u64) {
        self.now += seconds;
        self.every_interval_ticked &= self.ticked;
        self.ticked = false;
        for command in &mut self.commands {
            command.listed = true;
        }
        let now = self.now;
        for index in 0..self.instances.len() {
            if let Some(action) = &self.instances[index].action
                && action.ended.is_none()
                && now >= action.deadline.min(action.global_deadline)
            {
                let abandoned = !action.default_continues;
                self.end_action(index, Ended::ByTimeout, abandoned);
            }
        }
    }

    /// `SendCommand` of a drain: SSM creates the command (`Pending`) for a running instance and answers
    /// `InvalidInstanceId` for one that is not (SendCommand, API Reference, Errors: "The instance is not in a valid
    /// state"), and, with `offline_sends_refused`, for one whose agent is offline. Judged by `properties::on_send`.
    pub fn send_command(&mut self, instance: usize, comment: &str) -> Option<String> {
        if self.instances[instance].life == Life::Gone || (self.offline_sends_refused && !self.agent_online(instance)) {
            return None;
        }
        properties::on_send(self, instance);
        let id = format!("cmd-{}", self.commands.len());
        self.commands.push(Command {
            id: id.clone(),
            instance,
            comment: comment.to_string(),
            status: Status::Pending,
            requested_at: self.now,
            listed: false,
            cancel_requested: false,
        });
        Some(id)
    }

    /// `CancelCommand`: a running invocation ends `Cancelled` and is notified; an ended one stays as it is
    /// (emulator: ssm_commands/models.py `cancel_command`). With `cancel_lags`, the cancel only is requested: it takes
    /// effect in a later step, if ever, and the drain may end on its own first (see `Bounds::cancel_lag`). `false`:
    /// no such command (`InvalidCommandId`).
    pub fn cancel_command(&mut self, command_id: &str) -> bool {
        let Some(command) = self.commands.iter().position(|command| command.id == command_id) else { return false };
        if self.cancel_lags {
            self.commands[command].cancel_requested = true;
        } else if !self.commands[command].status.is_terminal() {
            self.command_moves(command, Status::Cancelled);
        }
        true
    }

    /// `CompleteLifecycleAction` by instance id: ends the active action, or answers "No active Lifecycle Action
    /// found" (CompleteLifecycleAction, API Reference; emulator: autoscaling_hooks/models.py `_find_action`). Judged by
    /// `properties::on_complete`. `true`: accepted.
    pub fn complete(&mut self, instance: usize, continued: bool, budget: &Budget) -> bool {
        properties::on_complete(self, instance, continued, budget);
        if !self.action_open(instance) {
            return false;
        }
        self.end_action(instance, Ended::ByHandler { continued }, !continued);
        true
    }

    /// Whether the managed hook's lifecycle action of `instance` is still open.
    pub fn action_open(&self, instance: usize) -> bool {
        self.instances[instance].action.as_ref().is_some_and(|action| action.ended.is_none())
    }

    /// `RecordLifecycleActionHeartbeat`: "Records a heartbeat for the lifecycle action ... This extends the timeout
    /// by the length of time defined using the PutLifecycleHook API call" (API Reference; emulator:
    /// autoscaling_hooks/models.py). `false`: no active action.
    pub fn heartbeat(&mut self, instance: usize, heartbeat_timeout: u64) -> bool {
        let now = self.now;
        match &mut self.instances[instance].action {
            Some(action) if action.ended.is_none() => {
                action.deadline = now + heartbeat_timeout;
                true
            }
            _ => false,
        }
    }

    /// `PutParameter` with `Overwrite=false`: "ParameterAlreadyExists: The parameter already exists. You can't
    /// create duplicate parameters" (PutParameter, API Reference). `true`: created.
    pub fn put_parameter(&mut self, name: &str, value: &str) -> bool {
        if self.parameters.contains_key(name) {
            return false;
        }
        self.parameters.insert(name.to_string(), (value.to_string(), self.now));
        true
    }

    /// `DeleteParameter` (an absent one answers `ParameterNotFound`, which the port counts as deleted).
    pub fn delete_parameter(&mut self, name: &str) {
        self.parameters.remove(name);
    }

    /// `GetParametersByPath` without `Recursive`: the parameters directly under `path` (API Reference: "Recursive:
    /// Retrieve all parameters within a hierarchy"; without it, one level).
    pub fn parameters_under(&self, path: &str) -> Vec<(String, u64)> {
        let prefix = format!("{path}/");
        self.parameters
            .iter()
            .filter(|(name, _)| name.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')))
            .map(|(name, (_, modified))| (name.clone(), *modified))
            .collect()
    }
}
