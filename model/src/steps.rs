//! What can happen next in the world, and carrying it out: AWS's own moves (scale-in, the agent running a command,
//! the clock, an instance leaving), the fate of each notification (delivered, delivered twice, lost), and the
//! scheduled tick. A delivery runs the real handler on the payload, with at most one fault injected.

use crate::invoke::invoke;
use crate::payloads;
use crate::properties::Budget;
use crate::session::{Fault, Session};
use crate::world::{Bounds, Life, Notification, START, Status, World};
use drain_contract::HandlerConfig;
use drain_contract::budget::RECONCILE_INTERVAL_SECONDS;
use graceful_handler::port::Mutant;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    ScaleIn(usize),
    /// The notification reaches the function; `duplicate`: it stays in flight to arrive again.
    Deliver {
        notification: Notification,
        duplicate: bool,
        fault: Option<Fault>,
    },
    Lose(Notification),
    /// EventBridge's schedule invokes the reconcile sweep (every `RECONCILE_INTERVAL_SECONDS`).
    Tick {
        fault: Option<Fault>,
    },
    Agent {
        command: usize,
        to: Status,
    },
    /// A `Terminating:Proceed` instance terminates and leaves its group.
    Leave(usize),
    Clock,
}

/// The model: the handler's configuration, the policy, the bounds, and a mutant to check for.
pub struct Model {
    pub config: HandlerConfig,
    pub budget: Budget,
    pub bounds: Bounds,
    pub mutant: Option<Mutant>,
    runtime: tokio::runtime::Runtime,
}

/// What carrying out a step gave: the next world, the timeline lines, and the calls the handler made.
pub struct Outcome {
    pub world: World,
    pub lines: Vec<String>,
    pub calls: usize,
    pub effectful: Vec<usize>,
}

impl Model {
    pub fn new(config: HandlerConfig, bounds: Bounds, mutant: Option<Mutant>) -> Model {
        let budget = Budget {
            drain_timeout_seconds: config.drain_timeout_seconds,
            on_failure_continues: config.on_failure == drain_contract::LifecycleResult::Continue,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        Model { config, budget, bounds, mutant, runtime }
    }

    /// Every step possible in `world` that needs no fault, and the fault-free form of each invocation.
    pub fn steps(&self, world: &World) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, instance) in world.instances.iter().enumerate() {
            match instance.life {
                Life::InService => steps.push(Step::ScaleIn(index)),
                Life::Proceeding => steps.push(Step::Leave(index)),
                _ => {}
            }
        }
        for notification in &world.inbox {
            steps.push(Step::Deliver { notification: notification.clone(), duplicate: false, fault: None });
            if world.duplicates_left > 0 {
                steps.push(Step::Deliver { notification: notification.clone(), duplicate: true, fault: None });
            }
            if world.losses_left > 0 {
                steps.push(Step::Lose(notification.clone()));
            }
        }
        steps.push(Step::Tick { fault: None });
        for (index, command) in world.commands.iter().enumerate() {
            match command.status {
                Status::Pending => steps.push(Step::Agent { command: index, to: Status::InProgress }),
                Status::InProgress => {
                    steps.push(Step::Agent { command: index, to: Status::Success });
                    steps.push(Step::Agent { command: index, to: Status::Failed });
                }
                _ => {}
            }
        }
        if world.now + RECONCILE_INTERVAL_SECONDS <= START + self.bounds.horizon_seconds {
            steps.push(Step::Clock);
        }
        steps
    }

    /// The faulty forms of an invocation step, given the calls its fault-free run made.
    pub fn faulty(&self, world: &World, step: &Step, calls: usize, effectful: &[usize]) -> Vec<Step> {
        if world.faults_left == 0 {
            return Vec::new();
        }
        let with = |fault| match step {
            Step::Deliver { notification, duplicate, .. } => {
                Step::Deliver { notification: notification.clone(), duplicate: *duplicate, fault: Some(fault) }
            }
            Step::Tick { .. } => Step::Tick { fault: Some(fault) },
            _ => unreachable!("only invocations have faults"),
        };
        let mut faulty: Vec<Step> = (0..calls).map(|k| with(Fault::Throttle(k))).collect();
        for &k in effectful {
            faulty.push(with(Fault::TimeoutAfter(k)));
            faulty.push(with(Fault::CrashAfter(k)));
        }
        faulty
    }

    /// Carries out `step` in `world`; `logged`: write the timeline.
    pub fn apply(&self, world: &World, step: &Step, logged: bool) -> Outcome {
        let mut next = world.clone();
        let mut lines = Vec::new();
        let mut note = |line: String| {
            if logged {
                lines.push(line)
            }
        };
        match step {
            Step::ScaleIn(index) => {
                next.scale_in(*index, self.config.heartbeat_timeout_seconds);
                note(format!("scale-in: {} enters Terminating:Wait; the hook notifies", next.instances[*index].id));
            }
            Step::Lose(notification) => {
                next.inbox.remove(notification);
                next.losses_left -= 1;
                note(format!("lost: {}", describe(world, notification)));
            }
            Step::Agent { command, to } => {
                next.command_moves(*command, *to);
                note(format!("agent: {} is now {}", next.commands[*command].id, to.as_str()));
            }
            Step::Leave(index) => {
                next.instances[*index].life = Life::Gone;
                note(format!("{} terminates and leaves its group", next.instances[*index].id));
            }
            Step::Clock => {
                next.advance_clock(RECONCILE_INTERVAL_SECONDS);
                note(format!("clock: +{RECONCILE_INTERVAL_SECONDS} s, now start + {} s", next.now - START));
            }
            Step::Deliver { notification, duplicate, fault } => {
                let payload = payloads::payload(world, &self.config, notification);
                if !duplicate {
                    next.inbox.remove(notification);
                } else {
                    next.duplicates_left -= 1;
                }
                let how = if *duplicate { "delivered (and again later)" } else { "delivered" };
                note(format!("{how}: {}{}", describe(world, notification), fault_text(fault)));
                return self.invocation(next, &payload, Some(notification), *fault, lines, logged);
            }
            Step::Tick { fault } => {
                note(format!("tick: the reconcile sweep runs{}", fault_text(fault)));
                return self.invocation(next, &payloads::tick(), None, *fault, lines, logged);
            }
        }
        Outcome { world: next, lines, calls: 0, effectful: Vec::new() }
    }

    fn invocation(
        &self,
        mut world: World,
        payload: &serde_json::Value,
        notification: Option<&Notification>,
        fault: Option<Fault>,
        mut lines: Vec<String>,
        logged: bool,
    ) -> Outcome {
        if fault.is_some() {
            world.faults_left -= 1;
        }
        let session = Session::new(world, &self.config, self.budget, fault, self.mutant, logged);
        let result = invoke(&self.runtime, &session, &self.config, payload);
        let calls = session.calls();
        let effectful = session.effectful.take();
        if let Some(log) = &session.log {
            lines.extend(log.take());
        }
        let mut world = session.world.into_inner();
        let failed = match &result {
            None => true,
            Some(Ok(summary)) => {
                if logged {
                    lines.push(format!("  handler -> {summary}"));
                }
                false
            }
            Some(Err(error)) => {
                if logged {
                    lines.push(format!("  handler -> error: {error}"));
                }
                true
            }
        };
        // "If the function returns an error, Lambda attempts to run it two more times" (Lambda Developer Guide,
        // "Asynchronous invocation"): the notification is in flight again. The tick needs none: the next comes.
        if let (true, Some(notification)) = (failed, notification) {
            world.inbox.insert(notification.clone());
        }
        Outcome { world, lines, calls, effectful }
    }
}

fn fault_text(fault: &Option<Fault>) -> String {
    match fault {
        None => String::new(),
        Some(Fault::Throttle(k)) => format!(" [AWS call {} is throttled]", k + 1),
        Some(Fault::TimeoutAfter(k)) => format!(" [the answer to AWS call {} is lost]", k + 1),
        Some(Fault::CrashAfter(k)) => format!(" [the invocation crashes after AWS call {}]", k + 1),
    }
}

fn describe(world: &World, notification: &Notification) -> String {
    match notification {
        Notification::Lifecycle { instance } => format!("lifecycle notification of {}", world.instances[*instance].id),
        Notification::CommandStatus { command, status } => {
            format!("status notification: {} {}", world.commands[*command].id, status.as_str())
        }
    }
}
