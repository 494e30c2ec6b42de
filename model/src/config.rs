//! The handler configuration the model runs: the shortest drain budget the provider accepts, so that the budget,
//! the agent wait, the stale-lock time and the heartbeat timeout all fall within a few reconcile intervals, with
//! every derived number from the provider's own derivation (`drain_contract::budget::derive`).

use crate::world::GROUP;
use drain_contract::budget::{MIN_DRAIN_SECONDS, derive};
use drain_contract::names::notification_metadata;
use drain_contract::{HandlerConfig, LifecycleResult};

pub fn handler_config() -> HandlerConfig {
    let budget = derive(MIN_DRAIN_SECONDS, None).expect("the shortest budget is valid");
    HandlerConfig {
        resource_name: "model".into(),
        hook_name: "model-drain".into(),
        notification_metadata: notification_metadata("model"),
        autoscaling_group_names: vec![GROUP.into()],
        document_name: "model-drain".into(),
        document_parameters: Default::default(),
        notification_topic_arn: "arn:aws:sns:us-east-1:123456789012:model-lifecycle".into(),
        notification_role_arn: "arn:aws:iam::123456789012:role/model-publisher".into(),
        command_log_group_name: None,
        drain_timeout_seconds: budget.drain_timeout_seconds,
        heartbeat_timeout_seconds: budget.heartbeat_timeout_seconds,
        // ABANDON, so that a CONTINUE tells a drained action from any other ending.
        on_failure: LifecycleResult::Abandon,
        drain_command: None,
        agent_wait_seconds: budget.agent_wait_seconds,
        spot: None,
    }
}
