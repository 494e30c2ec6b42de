//! Bounded liveness under fair scheduling: from a state, let the world be fair (each interval: every notification
//! in flight is delivered, the reconcile tick runs, each command reaches `InProgress` and then `Success` when its
//! budget ends, then the clock advances one interval) and no fault happen; then every lifecycle action must be
//! completed by the handler before its heartbeat timeout gives the hook's default result. The budget promises this: an instance
//! waits at most agent wait + stale-lock takeover + drain + completion grace
//! (`drain_contract::budget::needed_wait_seconds`), which the heartbeat timeout covers, or heartbeats extend.

use crate::steps::{Model, Step};
use crate::world::{Bounds, Ended, Status, World};
use drain_contract::budget::{COMPLETION_GRACE_SECONDS, RECONCILE_INTERVAL_SECONDS, needed_wait_seconds};

/// The steps of one fair interval in `world`, where drains run for `drain_seconds`.
fn fair_interval(world: &World, drain_seconds: u64) -> Vec<Step> {
    let mut steps: Vec<Step> = world
        .inbox
        .iter()
        .map(|notification| Step::Deliver { notification: notification.clone(), duplicate: false, fault: None })
        .collect();
    steps.push(Step::Tick { fault: None });
    for (command, sent) in world.commands.iter().enumerate() {
        match sent.status {
            _ if !world.agent_online(sent.instance) => {}
            Status::Pending => steps.push(Step::Agent { command, to: Status::InProgress }),
            // The slowest drain still within its budget, the hardest case for the heartbeats: it succeeds in the
            // interval where its budget ends.
            Status::InProgress if world.now + RECONCILE_INTERVAL_SECONDS >= sent.requested_at + drain_seconds => {
                steps.push(Step::Agent { command, to: Status::Success })
            }
            _ => {}
        }
    }
    steps.push(Step::Clock);
    steps
}

/// Runs the fair continuation from `world`; the steps taken and the first action the handler left to time out.
pub fn fair_continuation(model: &Model, world: &World) -> (Vec<Step>, Option<String>) {
    // With heartbeats, an action may rightly wait longer than one heartbeat timeout: up to the budget's need.
    let needed = needed_wait_seconds(model.config.drain_timeout_seconds, model.config.agent_wait_seconds);
    let limit = model.config.heartbeat_timeout_seconds.max(needed) + COMPLETION_GRACE_SECONDS;
    let mut world = world.clone();
    let mut taken = Vec::new();
    let intervals = limit / RECONCILE_INTERVAL_SECONDS + 1;
    for _ in 0..intervals {
        for step in fair_interval(&world, model.config.drain_timeout_seconds) {
            // A notification already delivered in this interval (by a step before) is gone from the inbox.
            if let Step::Deliver { notification, .. } = &step
                && !world.inbox.contains(notification)
            {
                continue;
            }
            world = model.apply(&world, &step, false).world;
            taken.push(step);
        }
        if let Some(timed_out) = world
            .instances
            .iter()
            .find(|instance| instance.action.as_ref().is_some_and(|action| action.ended == Some(Ended::ByTimeout)))
        {
            return (
                taken,
                Some(format!(
                    "the lifecycle action of {} ran into its heartbeat timeout under fair ticks",
                    timed_out.id
                )),
            );
        }
        if world.instances.iter().all(|instance| instance.action.as_ref().is_none_or(|action| action.ended.is_some())) {
            return (taken, None);
        }
    }
    (taken, Some("a lifecycle action was still waiting when the fair continuation ended".into()))
}

/// Whether liveness is judged from `world`: an action is still open, the reconcile tick ran in every clock
/// interval so far (the schedule was fair up to now), and at most one fault has happened (the budget covers one
/// stale-lock takeover, after a lost answer or a crash between taking the drain lock and sending; a second one in
/// the same action may outlast the heartbeat timeout, and the hook's default result then ends the action, which is
/// safe).
pub fn judged_from(world: &World, bounds: &Bounds) -> bool {
    world.faults_left + 1 >= bounds.faults
        && world.every_interval_ticked
        && world.instances.iter().any(|instance| instance.action.as_ref().is_some_and(|action| action.ended.is_none()))
}
