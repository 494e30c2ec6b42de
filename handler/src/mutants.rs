//! The decision as `execute` takes it: `decide` itself, unless the port asks for a deliberately broken variant
//! (`port::Mutant`, model checking only). The production port never does, so this is `decide` there.

use crate::decide::{self, Action, Observed, Outcome, Trigger};
use crate::port::{AwsPort, Mutant};
use drain_contract::lifecycle_states::{TERMINATING_WAIT, is_hook_wait};
use drain_contract::{HandlerConfig, LifecycleResult};

/// `decide::decide`, or the port's mutant of it.
pub fn decide<P: AwsPort>(
    aws: &P,
    trigger: &Trigger,
    observed: &Observed,
    config: &HandlerConfig,
    now: u64,
) -> Vec<Action> {
    match aws.mutant() {
        None | Some(Mutant::IgnoreLock) => decide::decide(trigger, observed, config, now),
        // Sends a drain as if the instance waited on the hook; every other decision is the real one, so the
        // counterexample is the drain command, not a side effect such as a second completion.
        Some(Mutant::SkipWaitStateCheck) => {
            let mut as_if_waiting = observed.clone();
            if let Some((_, state)) = &mut as_if_waiting.membership
                && !is_hook_wait(state)
            {
                *state = TERMINATING_WAIT.to_string();
                let sends: Vec<Action> = decide::decide(trigger, &as_if_waiting, config, now)
                    .into_iter()
                    .filter(|action| matches!(action, Action::SendDrain { .. }))
                    .collect();
                if !sends.is_empty() {
                    return sends;
                }
            }
            decide::decide(trigger, observed, config, now)
        }
        Some(Mutant::HeartbeatFromCommandStart) => {
            let mut from_command = observed.clone();
            if let Some(command) = &observed.command {
                from_command.waiting_since = Some(command.requested_at);
            }
            decide::decide(trigger, &from_command, config, now)
        }
        Some(Mutant::CompleteWhileRunning) => decide::decide(trigger, observed, config, now)
            .into_iter()
            .map(|action| match (&action, &observed.membership) {
                (Action::Wait { reason: "the drain is in progress" }, Some((group, _))) => Action::Complete {
                    group: group.clone(),
                    instance_id: trigger.instance_id().to_string(),
                    result: LifecycleResult::Continue,
                    outcome: Outcome::Drained,
                    drain_seconds: 0,
                },
                _ => action,
            })
            .collect(),
    }
}

/// Whether the drain is sent without taking the drain lock.
pub fn skips_lock<P: AwsPort>(aws: &P) -> bool {
    aws.mutant() == Some(Mutant::IgnoreLock)
}

/// Whether the drain is sent without asking AWS whether the managed hook's action is still active. It is the
/// other half of the wait-state check, which `SkipWaitStateCheck` skips too; and since that question is a heartbeat,
/// which restarts the hook's clock at the drain's start, `HeartbeatFromCommandStart` skips it as well: that mutant
/// is the belief that the hook's clock starts at the command, where AWS starts it at the wait.
pub fn skips_hook_probe<P: AwsPort>(aws: &P) -> bool {
    matches!(aws.mutant(), Some(Mutant::SkipWaitStateCheck | Mutant::HeartbeatFromCommandStart))
}
