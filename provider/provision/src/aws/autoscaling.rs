//! Auto Scaling: one TERMINATING lifecycle hook per managed group.

use super::none_if_not_found;
use crate::clients::Clients;
use crate::desired::function_settings as settings;
use crate::error::{AwsError, Step, StepError};
use crate::observed::ObservedHook;
use crate::retry;
use aws_sdk_autoscaling::types::AutoScalingGroup;
use drain_contract::lifecycle_states::is_hook_wait;

/// A group or hook that does not exist. AWS answers `ValidationError` with `Group x not found` (missing group) or
/// `No Lifecycle Hook found` / `Lifecycle Hook not found` wording (missing hook).
fn group_or_hook_not_found(error: &AwsError) -> bool {
    error.code_is("ValidationError")
        && (error.message_contains("not found")
            || error.message_contains("No Lifecycle Hook")
            || error.message_contains("does not exist"))
}

fn hook_id(group: &str, hook: &str) -> String {
    format!("{group}/{hook}")
}

pub async fn find_hook_by_group(clients: &Clients, group: &str, hook: &str) -> Result<Option<ObservedHook>, StepError> {
    let id = hook_id(group, hook);
    let described = clients
        .autoscaling
        .describe_lifecycle_hooks()
        .auto_scaling_group_name(group)
        .lifecycle_hook_names(hook)
        .send()
        .await;
    let Some(described) =
        none_if_not_found(described.map_err(StepError::aws(Step::ReadingLifecycleHook, &id)), group_or_hook_not_found)?
    else {
        return Ok(None);
    };
    Ok(described
        .lifecycle_hooks
        .unwrap_or_default()
        .into_iter()
        .find(|h| h.lifecycle_hook_name.as_deref() == Some(hook))
        .map(|h| ObservedHook {
            group: group.to_owned(),
            name: hook.to_owned(),
            transition: h.lifecycle_transition,
            heartbeat_timeout_seconds: h.heartbeat_timeout,
            default_result: h.default_result,
            notification_target_arn: h.notification_target_arn,
            role_arn: h.role_arn,
            notification_metadata: h.notification_metadata,
        }))
}

/// The hook every managed group should carry; `ensure_hook` puts it when the observed one differs in any field.
pub fn desired_hook(
    group: &str,
    hook: &str,
    topic_arn: &str,
    role_arn: &str,
    metadata: &str,
    heartbeat_timeout_seconds: i32,
    default_result: &str,
) -> ObservedHook {
    ObservedHook {
        group: group.to_owned(),
        name: hook.to_owned(),
        transition: Some(settings::LIFECYCLE_TRANSITION.to_owned()),
        heartbeat_timeout_seconds: Some(heartbeat_timeout_seconds),
        default_result: Some(default_result.to_owned()),
        notification_target_arn: Some(topic_arn.to_owned()),
        role_arn: Some(role_arn.to_owned()),
        notification_metadata: Some(metadata.to_owned()),
    }
}

pub async fn ensure_hook(
    clients: &Clients,
    desired: &ObservedHook,
    observed: Option<&ObservedHook>,
) -> Result<ObservedHook, StepError> {
    if observed == Some(desired) {
        return Ok(desired.clone());
    }
    let id = hook_id(&desired.group, &desired.name);
    retry::retry_classified(retry::hook_cannot_publish_test_message, || async {
        clients
            .autoscaling
            .put_lifecycle_hook()
            .auto_scaling_group_name(&desired.group)
            .lifecycle_hook_name(&desired.name)
            .set_lifecycle_transition(desired.transition.clone())
            .set_notification_target_arn(desired.notification_target_arn.clone())
            .set_role_arn(desired.role_arn.clone())
            .set_notification_metadata(desired.notification_metadata.clone())
            .set_heartbeat_timeout(desired.heartbeat_timeout_seconds)
            .set_default_result(desired.default_result.clone())
            .send()
            .await
            .map_err(StepError::aws(Step::PuttingLifecycleHook, &id))
    })
    .await?;
    Ok(desired.clone())
}

/// Deletes the hook; a missing hook or a missing group is success.
pub async fn delete_hook(clients: &Clients, group: &str, hook: &str) -> Result<(), StepError> {
    let id = hook_id(group, hook);
    let result = clients
        .autoscaling
        .delete_lifecycle_hook()
        .auto_scaling_group_name(group)
        .lifecycle_hook_name(hook)
        .send()
        .await;
    super::ok_if_gone(
        result.map(|_| ()).map_err(StepError::aws(Step::DeletingLifecycleHook, &id)),
        group_or_hook_not_found,
    )
}

/// The group as `DescribeAutoScalingGroups` answers it; `None` when it does not exist (AWS answers an empty list).
async fn describe_group(clients: &Clients, group: &str) -> Result<Option<AutoScalingGroup>, StepError> {
    let described = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(group)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingGroupInstances, group))?;
    Ok(described.auto_scaling_groups.unwrap_or_default().into_iter().next())
}

/// Instances of `group`, and of its warm pool, in a lifecycle state in which a terminate hook holds them
/// ([`is_hook_wait`]); none when the group is gone. Warm pool instances are listed by `DescribeWarmPool`, not in the
/// group's `Instances` (DescribeWarmPool, Amazon EC2 Auto Scaling API Reference: "The instances that are currently
/// in the warm pool").
pub async fn held_instances(clients: &Clients, group: &str) -> Result<Vec<String>, StepError> {
    let Some(found) = describe_group(clients, group).await? else { return Ok(Vec::new()) };
    let held_state = |state: Option<&aws_sdk_autoscaling::types::LifecycleState>| {
        state.is_some_and(|state| is_hook_wait(state.as_str()))
    };
    let mut held: Vec<String> = found
        .instances()
        .iter()
        .filter(|instance| held_state(instance.lifecycle_state()))
        .filter_map(|instance| instance.instance_id().map(str::to_owned))
        .collect();
    if found.warm_pool_configuration().is_some() {
        let mut pages = clients.autoscaling.describe_warm_pool().auto_scaling_group_name(group).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(StepError::aws(Step::ReadingGroupInstances, group))?;
            held.extend(
                page.instances()
                    .iter()
                    .filter(|instance| held_state(instance.lifecycle_state()))
                    .filter_map(|instance| instance.instance_id().map(str::to_owned)),
            );
        }
    }
    Ok(held)
}

/// Of `groups`, those whose instance lifecycle policy does not retain an instance whose terminate hook ends
/// `ABANDON` (`InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon` is not `retain`): for them, ABANDON
/// terminates the instance like CONTINUE ("Control instance retention with instance lifecycle policies", Amazon EC2
/// Auto Scaling User Guide). Groups that do not exist are not listed: the hook step reports them.
pub async fn groups_not_retaining_abandoned(
    clients: &Clients,
    groups: &std::collections::BTreeSet<String>,
) -> Result<Vec<String>, StepError> {
    let mut not_retaining = Vec::new();
    for group in groups {
        if let Some(found) = describe_group(clients, group).await? {
            let retains = found
                .instance_lifecycle_policy()
                .and_then(|policy| policy.retention_triggers())
                .and_then(|triggers| triggers.terminate_hook_abandon())
                .is_some_and(|action| action.as_str() == "retain");
            if !retains {
                not_retaining.push(group.clone());
            }
        }
    }
    Ok(not_retaining)
}

/// Names of the other `graceful_shutdown_asg` resources with a terminate hook on `group`: their hooks carry the
/// notification metadata every resource writes (`drain_contract::names::notification_metadata`). Each resource drains
/// the instance on its own, so two on one group run two drains per termination.
pub async fn other_resources_on(clients: &Clients, group: &str, ours: &str) -> Result<Vec<String>, StepError> {
    let described = clients
        .autoscaling
        .describe_lifecycle_hooks()
        .auto_scaling_group_name(group)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingLifecycleHook, group));
    let Some(described) = none_if_not_found(described, group_or_hook_not_found)? else { return Ok(Vec::new()) };
    Ok(described
        .lifecycle_hooks()
        .iter()
        .filter(|hook| hook.lifecycle_transition() == Some(settings::LIFECYCLE_TRANSITION))
        .filter_map(|hook| {
            let metadata: serde_json::Value = serde_json::from_str(hook.notification_metadata()?).ok()?;
            metadata.get("graceful_shutdown_asg")?.as_str().map(str::to_owned)
        })
        .filter(|name| name != ours)
        .collect())
}
