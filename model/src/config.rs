//! The handler configuration the model runs: the shortest drain budget the provider accepts, so that the budget,
//! the agent wait, the stale-lock time and the heartbeat timeout all fall within a few reconcile intervals, with
//! every derived number from the provider's own derivation (`drain_contract::budget::derive`).

use crate::world::GROUP;
use drain_contract::budget::{DrainBudget, MIN_DRAIN_SECONDS, derive};
use drain_contract::{HandlerConfig, LifecycleResult};

pub fn handler_config() -> HandlerConfig {
    config_for(derive(MIN_DRAIN_SECONDS, None).expect("the shortest budget is valid"))
}

/// A budget whose hook needs heartbeats: a 3 min drain with `heartbeat_timeout = 360` (a user may set one shorter
/// than the wait). With an agent that comes online at the end of its 3 min wait, the drain starts 180 s into the
/// wait, before the first window's heartbeats are due (the last 180 s of each 360 s window): heartbeats counted
/// from the command's start instead of the wait's start then come one window too late.
pub const HEARTBEAT_DRAIN_SECONDS: u64 = 180;
pub const HEARTBEAT_TIMEOUT_SECONDS: u64 = 360;

pub fn heartbeat_config() -> HandlerConfig {
    let budget = derive(HEARTBEAT_DRAIN_SECONDS, Some(HEARTBEAT_TIMEOUT_SECONDS)).expect("a valid budget");
    assert!(budget.heartbeats_needed, "this configuration exists to need heartbeats");
    config_for(budget)
}

/// `config` with `on_failure = "continue"`: every drain that did not succeed, and the hook's timeout, let the
/// instance go on with CONTINUE, which leaves a second hook's action open (see `world::Ended::ByOtherHook`).
pub fn continuing(config: HandlerConfig) -> HandlerConfig {
    HandlerConfig { on_failure: LifecycleResult::Continue, ..config }
}

fn config_for(budget: DrainBudget) -> HandlerConfig {
    HandlerConfig {
        autoscaling_group_names: vec![GROUP.into()],
        drain_timeout_seconds: budget.drain_timeout_seconds,
        heartbeat_timeout_seconds: budget.heartbeat_timeout_seconds,
        agent_wait_seconds: budget.agent_wait_seconds,
        // ABANDON, so that a CONTINUE tells a drained action from any other ending.
        on_failure: LifecycleResult::Abandon,
        ..HandlerConfig::example()
    }
}
