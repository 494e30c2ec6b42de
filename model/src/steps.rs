//! What can happen next in the world, and carrying it out: AWS's own moves (scale-in, the agent running a command,
//! the clock, an instance leaving), the fate of each notification (delivered, delivered twice, lost), and the
//! scheduled tick. A delivery runs the real handler on the payload, with at most one fault injected.

use crate::invoke::{Ended, invoke, invoke_pair};
use crate::payloads;
use crate::properties::Budget;
use crate::session::{Fault, Session};
use crate::world::{Bounds, Hook, Life, Notification, START, Status, World};
use drain_contract::HandlerConfig;
use drain_contract::budget::RECONCILE_INTERVAL_SECONDS;
use graceful_handler::port::Mutant;
use std::cell::RefCell;

/// One invocation of the function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// The notification reaches the function; `duplicate`: it stays in flight to arrive again.
    Deliver {
        notification: Notification,
        duplicate: bool,
    },
    Tick,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Scale-in picks `instance`; its SSM agent is offline for `agent_offline_seconds` from then.
    ScaleIn {
        instance: usize,
        agent_offline_seconds: u64,
    },
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
    /// The other hook's owner completes its action on `instance` (or its timeout does), CONTINUE or ABANDON.
    OtherHookEnds {
        instance: usize,
        continued: bool,
    },
    /// The instance's SSM agent loses its connection for `Bounds::agent_offline_seconds`.
    AgentDrops(usize),
    Clock,
    /// Two invocations at once: `first` makes `pause_before` calls, `second` runs, then `first` goes on.
    Race {
        first: Invocation,
        second: Invocation,
        pause_before: usize,
    },
}

/// The model: the handler's configuration, the policy, the bounds, and a mutant to check for.
pub struct Model {
    pub config: HandlerConfig,
    pub budget: Budget,
    pub bounds: Bounds,
    pub mutant: Option<Mutant>,
    /// Whether fair continuations are checked too (see `liveness`).
    pub liveness: bool,
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
        Model { config, budget, bounds, mutant, liveness: false, runtime }
    }

    /// The managed hook, as the provider creates it: its `DefaultResult` is `on_failure`.
    pub fn hook(&self) -> Hook {
        Hook {
            heartbeat_timeout: self.config.heartbeat_timeout_seconds,
            default_continues: self.budget.on_failure_continues,
        }
    }

    /// Every step possible in `world` that needs no fault, and the fault-free form of each invocation.
    pub fn steps(&self, world: &World) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, instance) in world.instances.iter().enumerate() {
            if instance.other_action_open {
                steps.push(Step::OtherHookEnds { instance: index, continued: true });
                steps.push(Step::OtherHookEnds { instance: index, continued: false });
            }
            if instance.life == Life::Waiting
                && world.agent_drops_left > 0
                && self.bounds.agent_offline_seconds > 0
                && world.agent_online(index)
            {
                steps.push(Step::AgentDrops(index));
            }
            match instance.life {
                Life::InService => {
                    steps.push(Step::ScaleIn { instance: index, agent_offline_seconds: 0 });
                    if self.bounds.agent_offline_seconds > 0 {
                        let agent_offline_seconds = self.bounds.agent_offline_seconds;
                        steps.push(Step::ScaleIn { instance: index, agent_offline_seconds });
                    }
                }
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
            // A command reaches only a connected agent: "Delayed: The system attempted to send the command to the
            // target, but the target wasn't available ... The system will try to send the command again" (Systems
            // Manager User Guide, "Understanding command statuses"); and only a connected agent reports how its
            // command ended, or carries out a cancel.
            if !world.agent_online(command.instance) {
                continue;
            }
            match command.status {
                Status::Pending => steps.push(Step::Agent { command: index, to: Status::InProgress }),
                Status::InProgress => {
                    steps.push(Step::Agent { command: index, to: Status::Success });
                    steps.push(Step::Agent { command: index, to: Status::Failed });
                }
                _ => {}
            }
            if command.cancel_requested && !command.status.is_terminal() {
                steps.push(Step::Agent { command: index, to: Status::Cancelled });
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
            Step::ScaleIn { instance, agent_offline_seconds } => {
                next.scale_in(*instance, &self.hook(), *agent_offline_seconds, self.bounds.other_hook);
                let agent = match agent_offline_seconds {
                    0 => String::new(),
                    seconds => format!(" (its SSM agent is offline for {seconds} s)"),
                };
                let other = if self.bounds.other_hook { " (and so does the group's other hook)" } else { "" };
                note(format!(
                    "scale-in: {} enters Terminating:Wait; the hook notifies{other}{agent}",
                    next.instances[*instance].id
                ));
            }
            Step::OtherHookEnds { instance, continued } => {
                next.other_hook_ends(*instance, *continued);
                let result = if *continued { "CONTINUE" } else { "ABANDON" };
                let id = &next.instances[*instance].id;
                note(format!(
                    "the other hook's action of {id} ends {result}; {id} is {:?}",
                    next.instances[*instance].life
                ));
            }
            Step::AgentDrops(instance) => {
                let seconds = self.bounds.agent_offline_seconds;
                next.agent_drops(*instance, seconds);
                note(format!("the SSM agent of {} loses its connection for {seconds} s", next.instances[*instance].id));
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
                let invocation = Invocation::Deliver { notification: notification.clone(), duplicate: *duplicate };
                let (payload, how) = self.start(&mut next, &invocation);
                note(format!("{how}{}", fault_text(fault)));
                return self.invocation(next, &payload, Some(notification), *fault, lines, logged);
            }
            Step::Tick { fault } => {
                next.ticked = true;
                let (payload, how) = self.start(&mut next, &Invocation::Tick);
                note(format!("{how}{}", fault_text(fault)));
                return self.invocation(next, &payload, None, *fault, lines, logged);
            }
            Step::Race { first, second, pause_before } => {
                next.races_left -= 1;
                next.ticked |= [first, second].contains(&&Invocation::Tick);
                let (first_payload, first_how) = self.start(&mut next, first);
                let (second_payload, second_how) = self.start(&mut next, second);
                note(format!(
                    "at once: A = {first_how}; B = {second_how}; A pauses before its call {}",
                    pause_before + 1
                ));
                return self.race(
                    next,
                    (first, &first_payload),
                    (second, &second_payload),
                    *pause_before,
                    lines,
                    logged,
                );
            }
        }
        Outcome { world: next, lines, calls: 0, effectful: Vec::new() }
    }

    /// Takes the invocation's notification out of flight (a duplicate stays); its payload and a description.
    fn start(&self, world: &mut World, invocation: &Invocation) -> (serde_json::Value, String) {
        match invocation {
            Invocation::Tick => (payloads::tick(), "tick: the reconcile sweep runs".into()),
            Invocation::Deliver { notification, duplicate } => {
                let payload = payloads::payload(world, &self.config, notification);
                let what = describe(world, notification);
                if *duplicate {
                    world.duplicates_left -= 1;
                    (payload, format!("delivered (and again later): {what}"))
                } else {
                    world.inbox.remove(notification);
                    (payload, format!("delivered: {what}"))
                }
            }
        }
    }

    /// Every pair of invocations that may run at once, each with every point where the first may pause.
    pub fn races(&self, world: &World) -> Vec<Step> {
        if world.races_left == 0 {
            return Vec::new();
        }
        let mut invocations: Vec<Invocation> = world
            .inbox
            .iter()
            .map(|notification| Invocation::Deliver { notification: notification.clone(), duplicate: false })
            .collect();
        invocations.push(Invocation::Tick);
        let mut pairs = Vec::new();
        for first in &invocations {
            for second in &invocations {
                if first != second {
                    pairs.push((first.clone(), second.clone()));
                }
            }
            // The same notification delivered twice at once.
            if let (Invocation::Deliver { notification, .. }, true) = (first, world.duplicates_left > 0) {
                let twin = Invocation::Deliver { notification: notification.clone(), duplicate: true };
                pairs.push((twin, first.clone()));
            }
        }
        let mut races = Vec::new();
        for (first, second) in pairs {
            let alone = match &first {
                Invocation::Tick => Step::Tick { fault: None },
                Invocation::Deliver { notification, duplicate } => {
                    Step::Deliver { notification: notification.clone(), duplicate: *duplicate, fault: None }
                }
            };
            let calls = self.apply(world, &alone, false).calls;
            for pause_before in 1..calls {
                races.push(Step::Race { first: first.clone(), second: second.clone(), pause_before });
            }
        }
        races
    }

    fn race(
        &self,
        world: World,
        (first, first_payload): (&Invocation, &serde_json::Value),
        (second, second_payload): (&Invocation, &serde_json::Value),
        pause_before: usize,
        mut lines: Vec<String>,
        logged: bool,
    ) -> Outcome {
        let shared = RefCell::new(world);
        let log = RefCell::new(Vec::new());
        let log = logged.then_some(&log);
        let a = Session::new(&shared, &self.config, self.budget, None, self.mutant, log).pausing(pause_before, "A ");
        let b = Session::new(&shared, &self.config, self.budget, None, self.mutant, log).named("B ");
        let (a_result, b_result) = invoke_pair(&self.runtime, (&a, first_payload), (&b, second_payload), &self.config);
        let calls = a.calls() + b.calls();
        drop((a, b));
        if let Some(log) = log {
            lines.extend(log.take());
        }
        let mut world = shared.into_inner();
        for (name, invocation, result) in [("A", first, a_result), ("B", second, b_result)] {
            if logged {
                lines.push(format!("  {name} handler -> {}", summary(&result)));
            }
            if let (Invocation::Deliver { notification, .. }, true) = (invocation, failed(&result)) {
                world.inbox.insert(notification.clone());
            }
        }
        Outcome { world, lines, calls, effectful: Vec::new() }
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
        let shared = RefCell::new(world);
        let log = RefCell::new(Vec::new());
        let log = logged.then_some(&log);
        let session = Session::new(&shared, &self.config, self.budget, fault, self.mutant, log);
        let result = invoke(&self.runtime, &session, &self.config, payload);
        let calls = session.calls();
        let effectful = session.effectful.take();
        drop(session);
        if let Some(log) = log {
            lines.extend(log.take());
            lines.push(format!("  handler -> {}", summary(&result)));
        }
        let mut world = shared.into_inner();
        // "If the function returns an error, Lambda attempts to run it two more times" (Lambda Developer Guide,
        // "Asynchronous invocation"): the notification is in flight again. The tick needs none: the next comes.
        if let (true, Some(notification)) = (failed(&result), notification) {
            world.inbox.insert(notification.clone());
        }
        Outcome { world, lines, calls, effectful }
    }
}

/// Whether Lambda counts the invocation as failed: an error, or a crash.
fn failed(result: &Ended) -> bool {
    !matches!(result, Some(Ok(_)))
}

fn summary(result: &Ended) -> String {
    match result {
        None => "crashed".into(),
        Some(Ok(summary)) => summary.to_string(),
        Some(Err(error)) => format!("error: {error}"),
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
