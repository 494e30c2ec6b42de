//! One handler invocation against the world: the handler's `AwsPort` over a `World` (shared with a concurrent
//! invocation, if any), with at most one fault injected at a chosen call, optionally paused before a chosen call
//! while another invocation runs, and the calls written down for a timeline.

use crate::properties::Budget;
use crate::world::{GROUP, World};
use drain_contract::{HandlerConfig, LifecycleResult};
use graceful_handler::aws_error::HandlerError;
use graceful_handler::decide::{Agent, CommandSeen};
use graceful_handler::drain_lock::Taken;
use graceful_handler::duplicates::SendOrder;
use graceful_handler::port::{
    ActivitiesPage, AwsPort, DrainCommand, GroupSeen, LifecycleAnswer, MemberSeen, Mutant, ParameterSeen, SendRefusal,
    WarmPoolSeen,
};
use std::cell::{Cell, RefCell};
use std::task::Poll;

/// A fault at the call with this index (counted from 0 within the invocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// AWS refuses the call for its rate, before acting on it.
    Throttle(usize),
    /// The call takes effect, but its answer is lost: the handler sees a timeout.
    TimeoutAfter(usize),
    /// The call takes effect, then the invocation dies (Lambda timeout, out of memory, crash).
    CrashAfter(usize),
}

/// Why a call gave no answer.
enum Interrupt {
    Throttled,
    TimedOut,
}

pub struct Session<'a> {
    world: &'a RefCell<World>,
    config: &'a HandlerConfig,
    budget: Budget,
    fault: Option<Fault>,
    mutant: Option<Mutant>,
    calls: Cell<usize>,
    /// Indices of the calls that changed the world: where a crash or a lost answer matters.
    pub effectful: RefCell<Vec<usize>>,
    pub crashed: Cell<bool>,
    /// Before this call (index), the invocation waits until `resumed`: another one runs meanwhile.
    pause_before: Option<usize>,
    pub paused: Cell<bool>,
    pub resumed: Cell<bool>,
    name: &'static str,
    /// The calls and their answers, when a timeline is wanted.
    log: Option<&'a RefCell<Vec<String>>>,
}

impl<'a> Session<'a> {
    pub fn new(
        world: &'a RefCell<World>,
        config: &'a HandlerConfig,
        budget: Budget,
        fault: Option<Fault>,
        mutant: Option<Mutant>,
        log: Option<&'a RefCell<Vec<String>>>,
    ) -> Session<'a> {
        Session {
            world,
            config,
            budget,
            fault,
            mutant,
            calls: Cell::new(0),
            effectful: RefCell::new(Vec::new()),
            crashed: Cell::new(false),
            pause_before: None,
            paused: Cell::new(false),
            resumed: Cell::new(false),
            name: "",
            log,
        }
    }

    /// This invocation, named `name` in the timeline, waits before its call `index` until resumed.
    pub fn pausing(mut self, index: usize, name: &'static str) -> Self {
        self.pause_before = Some(index);
        self.name = name;
        self
    }

    /// Names the invocation in the timeline (one of two that run at once).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    fn note(&self, line: impl FnOnce() -> String) {
        if let Some(log) = &self.log {
            log.borrow_mut().push(line());
        }
    }

    /// Carries out one AWS call: `apply` is AWS's effect and answer; `effectful` whether it changes the world.
    async fn call<T: std::fmt::Debug>(
        &self,
        what: impl Fn() -> String,
        effectful: bool,
        apply: impl FnOnce(&mut World) -> T,
    ) -> Result<T, Interrupt> {
        if self.crashed.get() {
            return std::future::pending().await;
        }
        let index = self.calls.get();
        if self.pause_before == Some(index) && !self.resumed.get() {
            self.paused.set(true);
            self.note(|| format!("  {}  ... pauses while another invocation runs", self.name));
            // Woken at every poll: the handler's stream of instances re-polls only futures that asked to be.
            std::future::poll_fn(|cx| {
                if self.resumed.get() {
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            })
            .await;
            self.note(|| format!("  {}  ... resumes", self.name));
        }
        self.calls.set(index + 1);
        if self.fault == Some(Fault::Throttle(index)) {
            self.note(|| format!("  {}aws  {} -> throttled", self.name, what()));
            return Err(Interrupt::Throttled);
        }
        let answer = apply(&mut self.world.borrow_mut());
        self.note(|| format!("  {}aws  {} -> {answer:?}", self.name, what()));
        if effectful {
            self.effectful.borrow_mut().push(index);
            if self.fault == Some(Fault::TimeoutAfter(index)) {
                self.note(|| "  aws  (the answer is lost: the handler sees a timeout)".into());
                return Err(Interrupt::TimedOut);
            }
            if self.fault == Some(Fault::CrashAfter(index)) {
                self.note(|| "  CRASH: the invocation dies here".into());
                self.crashed.set(true);
                return std::future::pending().await;
            }
        }
        Ok(answer)
    }

    fn instance(&self, instance_id: &str) -> usize {
        self.world.borrow().instance_index(instance_id).expect("the handler asks only about the world's instances")
    }
}

/// The handler's error for an interrupted call, as the SDK port would build it.
fn error(interrupt: Interrupt, operation: &'static str, subject: &str) -> HandlerError {
    let (code, message) = match interrupt {
        Interrupt::Throttled => (Some("ThrottlingException".to_string()), "Rate exceeded".to_string()),
        Interrupt::TimedOut => (None, "timeout: the answer was not received".to_string()),
    };
    HandlerError::Aws { operation, subject: subject.to_string(), code, message }
}

fn members(world: &World) -> Vec<MemberSeen> {
    world
        .instances
        .iter()
        .filter_map(|instance| {
            Some(MemberSeen {
                instance_id: instance.id.clone(),
                lifecycle_state: instance.life.lifecycle_state()?.to_string(),
            })
        })
        .collect()
}

impl AwsPort for Session<'_> {
    fn now(&self) -> u64 {
        self.world.borrow().now
    }

    fn mutant(&self) -> Option<Mutant> {
        self.mutant
    }

    async fn describe_auto_scaling_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<(String, String)>, HandlerError> {
        let index = self.instance(instance_id);
        self.call(
            || format!("DescribeAutoScalingInstances {instance_id}"),
            false,
            |world| world.instances[index].life.lifecycle_state().map(|state| (GROUP.to_string(), state.to_string())),
        )
        .await
        .map_err(|e| error(e, "describing instance", instance_id))
    }

    async fn describe_warm_pool(&self, group: &str, subject: &str) -> Result<WarmPoolSeen, HandlerError> {
        // The group has no warm pool.
        self.call(|| format!("DescribeWarmPool {group}"), false, |_| WarmPoolSeen::default())
            .await
            .map_err(|e| error(e, "describing warm pool", subject))
    }

    async fn describe_auto_scaling_groups(
        &self,
        names: &[String],
        subject: &str,
    ) -> Result<Vec<GroupSeen>, HandlerError> {
        let wanted = names.iter().any(|name| name == GROUP);
        self.call(
            || "DescribeAutoScalingGroups".to_string(),
            false,
            |world| {
                wanted
                    .then(|| GroupSeen { name: GROUP.into(), instances: members(world), has_warm_pool: false })
                    .into_iter()
                    .collect::<Vec<_>>()
            },
        )
        .await
        .map_err(|e| error(e, "describing groups", subject))
    }

    async fn describe_scaling_activities(
        &self,
        group: &str,
        _max_records: i32,
        _next_token: Option<String>,
    ) -> Result<ActivitiesPage, HandlerError> {
        // One activity per termination, started when the instance entered the wait.
        self.call(
            || format!("DescribeScalingActivities {group}"),
            false,
            |world| ActivitiesPage {
                activities: world
                    .instances
                    .iter()
                    .filter_map(|instance| {
                        let action = instance.action.as_ref()?;
                        Some((format!("Terminating EC2 instance: {}", instance.id), Some(action.started)))
                    })
                    .collect(),
                next_token: None,
            },
        )
        .await
        .map_err(|e| error(e, "describing scaling activities", group))
    }

    async fn list_commands(
        &self,
        instance_id: &str,
        document_name: &str,
    ) -> Result<Vec<(SendOrder, CommandSeen)>, HandlerError> {
        let index = self.instance(instance_id);
        let ours = document_name == self.config.document_name;
        self.call(
            || format!("ListCommands {instance_id}"),
            false,
            |world| {
                world
                    .commands
                    .iter()
                    .enumerate()
                    .filter(|(_, command)| ours && command.instance == index && command.listed)
                    .map(|(sequence, command)| {
                        let order = SendOrder {
                            // Sub-second order of sending: SSM keeps milliseconds.
                            requested: (command.requested_at as i64, sequence as u32),
                            command_id: command.id.clone(),
                        };
                        let seen = CommandSeen {
                            command_id: command.id.clone(),
                            comment: command.comment.clone(),
                            status: command.status.as_str().to_string(),
                            requested_at: command.requested_at,
                        };
                        (order, seen)
                    })
                    .collect::<Vec<_>>()
            },
        )
        .await
        .map_err(|e| error(e, "listing commands", instance_id))
    }

    async fn describe_instance_information(&self, instance_id: &str) -> Result<Agent, HandlerError> {
        let index = self.instance(instance_id);
        // The agent pings while the instance runs and its offline time is over.
        self.call(
            || format!("DescribeInstanceInformation {instance_id}"),
            false,
            |world| match world.agent_online(index) {
                true => Agent::Online,
                false => Agent::Unreachable("ConnectionLost".into()),
            },
        )
        .await
        .map_err(|e| error(e, "describing instance information", instance_id))
    }

    async fn get_parameters_by_path(&self, path: &str, subject: &str) -> Result<Vec<ParameterSeen>, HandlerError> {
        self.call(
            || format!("GetParametersByPath {path}"),
            false,
            |world| {
                world
                    .parameters_under(path)
                    .into_iter()
                    .map(|(name, last_modified)| ParameterSeen { name, last_modified })
                    .collect::<Vec<_>>()
            },
        )
        .await
        .map_err(|e| error(e, "reading drain locks", subject))
    }

    async fn put_parameter_if_absent(
        &self,
        name: &str,
        value: &str,
        _policies: &str,
        subject: &str,
    ) -> Result<Taken, HandlerError> {
        self.call(
            || format!("PutParameter {name} (no overwrite)"),
            true,
            |world| if world.put_parameter(name, value) { Taken::Ours } else { Taken::Held },
        )
        .await
        .map_err(|e| error(e, "taking drain lock", subject))
    }

    async fn delete_parameter(&self, name: &str, subject: &str) -> Result<(), HandlerError> {
        self.call(|| format!("DeleteParameter {name}"), true, |world| world.delete_parameter(name))
            .await
            .map_err(|e| error(e, "releasing drain lock", subject))
    }

    async fn send_command(&self, command: &DrainCommand<'_>) -> Result<String, SendRefusal> {
        let index = self.instance(command.instance_id);
        let instance_id = command.instance_id;
        let sent = self
            .call(
                || format!("SendCommand {instance_id} {:?}", command.comment),
                true,
                |world| world.send_command(index, command.comment),
            )
            .await;
        match sent {
            Ok(Some(command_id)) => Ok(command_id),
            Ok(None) => Err(SendRefusal::InvalidInstanceId(HandlerError::Aws {
                operation: "sending drain command",
                subject: instance_id.to_string(),
                code: Some("InvalidInstanceId".into()),
                message: "Instances not in a valid state for account".into(),
            })),
            Err(Interrupt::Throttled) => {
                Err(SendRefusal::Throttled(error(Interrupt::Throttled, "sending drain command", instance_id)))
            }
            Err(other) => Err(SendRefusal::Failed(error(other, "sending drain command", instance_id))),
        }
    }

    async fn cancel_command(&self, command_id: &str, instance_id: &str) -> Result<(), HandlerError> {
        let cancelled = self
            .call(
                || format!("CancelCommand {command_id} {instance_id}"),
                true,
                |world| world.cancel_command(command_id),
            )
            .await
            .map_err(|e| error(e, "cancelling command", command_id))?;
        if cancelled {
            return Ok(());
        }
        Err(HandlerError::Aws {
            operation: "cancelling command",
            subject: command_id.to_string(),
            code: Some("InvalidCommandId".into()),
            message: "Invalid command id.".into(),
        })
    }

    async fn complete_lifecycle_action(
        &self,
        _group: &str,
        hook: &str,
        instance_id: &str,
        result: LifecycleResult,
    ) -> Result<LifecycleAnswer, HandlerError> {
        let index = self.instance(instance_id);
        let ours = hook == self.config.hook_name;
        let budget = self.budget;
        let continued = result == LifecycleResult::Continue;
        let accepted = self
            .call(
                || format!("CompleteLifecycleAction {instance_id} {}", result.as_aws_str()),
                true,
                |world| ours && world.complete(index, continued, &budget),
            )
            .await
            .map_err(|e| error(e, "completing lifecycle action", instance_id))?;
        Ok(if accepted { LifecycleAnswer::Accepted } else { LifecycleAnswer::NoActiveAction })
    }

    async fn record_lifecycle_action_heartbeat(
        &self,
        _group: &str,
        hook: &str,
        instance_id: &str,
    ) -> Result<LifecycleAnswer, HandlerError> {
        let index = self.instance(instance_id);
        let ours = hook == self.config.hook_name;
        let timeout = self.config.heartbeat_timeout_seconds;
        let accepted = self
            .call(
                || format!("RecordLifecycleActionHeartbeat {instance_id}"),
                true,
                |world| ours && world.heartbeat(index, timeout),
            )
            .await
            .map_err(|e| error(e, "recording heartbeat", instance_id))?;
        Ok(if accepted { LifecycleAnswer::Accepted } else { LifecycleAnswer::NoActiveAction })
    }
}
