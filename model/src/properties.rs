//! What the handler promises, judged at the AWS call that would break it:
//! - a drain goes only to an instance waiting on the managed hook, and at most one per lifecycle action;
//! - a lifecycle action is completed only once its drain ended, unless the drain ran past its budget;
//! - CONTINUE only after a drain that succeeded; any other ending is completed with `on_failure`;
//! - no action is asked for two different results.

use crate::world::World;

/// The policy's numbers: the drain budget (`timeout`), and the result for every drain that did not succeed.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub drain_timeout_seconds: u64,
    /// `on_failure`: `true` is CONTINUE.
    pub on_failure_continues: bool,
}

fn broken(world: &mut World, what: String) {
    world.violation.get_or_insert(what);
}

/// At `SendCommand` of a drain to `instance`.
pub fn on_send(world: &mut World, instance: usize) {
    let id = world.instances[instance].id.clone();
    // `Terminating:Wait` is not enough: with a second hook the instance waits there after the managed hook's action
    // ended.
    if !world.action_open(instance) {
        let life = world.instances[instance].life;
        let action = world.instances[instance].action.as_ref().and_then(|action| action.ended);
        broken(
            world,
            format!(
                "a drain was sent to {id}, which is not waiting on the managed hook ({life:?}, its action {action:?})"
            ),
        );
        return;
    }
    let Some(action) = &mut world.instances[instance].action else { return };
    action.drains_sent += 1;
    if action.drains_sent > 1 {
        let token = action.token.clone();
        broken(world, format!("a second drain was started for the lifecycle action {token} of {id}"));
    }
}

/// At `CompleteLifecycleAction` of `instance` with CONTINUE (`continued`) or ABANDON, before AWS answers.
pub fn on_complete(world: &mut World, instance: usize, continued: bool, budget: &Budget) {
    let now = world.now;
    let id = world.instances[instance].id.clone();
    let commands: Vec<_> = world.commands.iter().filter(|command| command.instance == instance).collect();
    let active = world.instances[instance].action.as_ref().is_some_and(|action| action.ended.is_none());
    if active {
        let within_budget = |requested_at: u64| now.saturating_sub(requested_at) <= budget.drain_timeout_seconds;
        if let Some(running) =
            commands.iter().find(|command| !command.status.is_terminal() && within_budget(command.requested_at))
        {
            let what = format!(
                "the lifecycle action of {id} was completed while its drain {} was still {} ({} s into a {} s budget)",
                running.id,
                running.status.as_str(),
                now - running.requested_at,
                budget.drain_timeout_seconds
            );
            return broken(world, what);
        }
        let drained = commands.iter().any(|command| command.status == crate::world::Status::Success);
        if continued && !drained && !budget.on_failure_continues {
            return broken(
                world,
                format!(
                    "the lifecycle action of {id} was completed CONTINUE without a drain that succeeded, but on_failure is ABANDON"
                ),
            );
        }
    }
    let Some(action) = &mut world.instances[instance].action else { return };
    action.results_asked.insert(continued);
    if action.results_asked.len() > 1 {
        let token = action.token.clone();
        broken(world, format!("the lifecycle action {token} of {id} was completed both CONTINUE and ABANDON"));
    }
}
