//! Reading the state the decision core needs from AWS: an instance's group and lifecycle state, its SSM agent, the
//! drain command for it, and the managed groups' waiting instances. Read-only; every call bounded by the SDK config.

use crate::aws_error::HandlerError;
use crate::decide::{
    Agent, COMMENT_PREFIX, CommandSeen, Observed, Trigger, drain_comment, heartbeats_needed, is_terminal,
};
use crate::drain_lock;
use crate::duplicates::{SendOrder, without_duplicates};
use crate::event::parse_time;
use crate::port::{AwsPort, MemberSeen};
use drain_contract::HandlerConfig;
use drain_contract::lifecycle_states::is_hook_wait;

/// `DescribeAutoScalingGroups` accepts at most this many names per call.
const MAX_GROUP_NAMES_PER_CALL: usize = 50;
/// `DescribeScalingActivities` answers at most 100 activities per page (botocore model: "The default value is 100
/// and the maximum value is 100").
const ACTIVITIES_PER_PAGE: i32 = 100;
/// Pages of activities read, newest first, looking for one instance's termination: a wave of this many
/// terminations and launches in one group is still covered, and the read stays bounded.
const MAX_ACTIVITY_PAGES: usize = 10;

/// The AWS clients, built once per cold start: the production port (`sdk_port`).
#[derive(Clone, Debug)]
pub struct Aws {
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub ssm: aws_sdk_ssm::Client,
}

/// Observes one instance with the fewest calls that can change the decision:
/// - a lifecycle notification is not proof that the instance still waits (it may be stale or redelivered), so the
///   instance's group and state are read first; nothing else is. Whether a drain already runs is answered by the
///   drain lock taken before sending, and whether SSM reaches the agent by `SendCommand` (see `execute`);
/// - a `Success` status notification needs only the instance's group and state: any drain command of ours that
///   succeeded means the node is drained, so the command list cannot change the decision;
/// - everything else (ticks, failed or cancelled commands, which may be a yielding duplicate) reads it all.
pub async fn observe<P: AwsPort>(aws: &P, config: &HandlerConfig, trigger: &Trigger) -> Result<Observed, HandlerError> {
    match trigger {
        Trigger::Lifecycle { instance_id, time, .. } => {
            observe_membership(aws, config, instance_id, time.as_deref().and_then(parse_time)).await
        }
        Trigger::CommandStatus { instance_id, status, .. } if status == "Success" => {
            observe_membership(aws, config, instance_id, None).await
        }
        // A Spot notice decides on membership alone; the drain lock answers whether a drain runs already.
        Trigger::SpotInterruption { instance_id } => observe_membership(aws, config, instance_id, None).await,
        _ => observe_fully(aws, config, trigger).await,
    }
}

/// Only the instance's group and state: the rest of the observation is what a fresh look would assume.
async fn observe_membership<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
    waiting_since: Option<u64>,
) -> Result<Observed, HandlerError> {
    let (membership, stopped_in_warm_pool) = membership(aws, config, instance_id).await?;
    Ok(Observed { membership, agent: Agent::Online, command: None, waiting_since, lock: None, stopped_in_warm_pool })
}

/// Reads everything the decision can use: membership, the drain command, (when there is no command) the drain lock
/// and the agent, and when the wait began if the agent wait or the heartbeat schedule needs it. Calls that cannot
/// change the decision are skipped.
pub async fn observe_fully<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    trigger: &Trigger,
) -> Result<Observed, HandlerError> {
    let instance_id = trigger.instance_id();
    let mut observed = observe_membership(aws, config, instance_id, None).await?;
    let Some((group, state)) = &observed.membership else { return Ok(observed) };
    if !is_hook_wait(state) || !config.autoscaling_group_names.contains(group) || observed.stopped_in_warm_pool {
        return Ok(observed);
    }
    let group = group.clone();
    observed.waiting_since = match trigger {
        Trigger::Lifecycle { time: Some(time), .. } => parse_time(time),
        _ => None,
    };
    observed.command = drain_command(aws, config, trigger).await?;
    let start_needed = match &observed.command {
        None => {
            observed.lock = drain_lock::read(aws, config, instance_id).await?;
            observed.agent = aws.describe_instance_information(instance_id).await?;
            // A held lock with no command listed yet may stand until it is stale: its heartbeats count from the
            // wait's start, which the lock's own time can be minutes after.
            observed.agent != Agent::Online || (observed.lock.is_some() && heartbeats_needed(config))
        }
        Some(command) => !is_terminal(&command.status) && heartbeats_needed(config),
    };
    if start_needed && observed.waiting_since.is_none() {
        observed.waiting_since = wait_started(aws, &group, instance_id).await?;
    }
    Ok(observed)
}

/// The instance's Auto Scaling group and lifecycle state (`None` once it has left its group), and whether it is a
/// stopped or hibernated instance of a warm pool.
async fn membership<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
) -> Result<(Option<(String, String)>, bool), HandlerError> {
    match aws.describe_auto_scaling_instance(instance_id).await? {
        Some(found) => Ok((Some(found), false)),
        None => in_warm_pools(aws, config, instance_id).await,
    }
}

/// Looks for the instance in the managed groups' warm pools: their instances are listed by `DescribeWarmPool`
/// ("The instances that are currently in the warm pool", DescribeWarmPool, Amazon EC2 Auto Scaling API Reference).
async fn in_warm_pools<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
) -> Result<(Option<(String, String)>, bool), HandlerError> {
    for group in &config.autoscaling_group_names {
        let pool = aws.describe_warm_pool(group, instance_id).await?;
        if let Some(instance) = pool.instances.iter().find(|instance| instance.instance_id == instance_id) {
            return Ok((Some((group.clone(), instance.lifecycle_state.clone())), pool.stopped));
        }
    }
    Ok((None, false))
}

async fn drain_command<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    trigger: &Trigger,
) -> Result<Option<CommandSeen>, HandlerError> {
    // Every command of this resource's drain document sent to the instance (SSM keeps 30 days of history).
    let listed = aws.list_commands(trigger.instance_id(), &config.document_name).await?;
    Ok(current_drain(listed, trigger))
}

/// A listed command as the decision sees it, with its rank among duplicates of its comment.
pub fn command_seen(command: &aws_sdk_ssm::types::Command) -> Option<(SendOrder, CommandSeen)> {
    let seen = CommandSeen {
        command_id: command.command_id()?.to_string(),
        comment: command.comment().unwrap_or_default().to_string(),
        status: command.status()?.as_str().to_string(),
        requested_at: command.requested_date_time().map(|t| t.secs().max(0) as u64).unwrap_or(0),
    };
    Some((send_order(command.requested_date_time(), &seen.command_id), seen))
}

/// The drain command of this lifecycle action among the listed ones: the one keyed on the trigger's token if there
/// is one, else the newest. A duplicate sent by a concurrent delivery of the same notification is never the drain
/// (its sender cancels it).
fn current_drain(listed: Vec<(SendOrder, CommandSeen)>, trigger: &Trigger) -> Option<CommandSeen> {
    let mut commands = without_duplicates(listed);
    commands.sort_by_key(|command| std::cmp::Reverse(command.requested_at));
    if let Trigger::Lifecycle { token, .. } = trigger {
        let key = drain_comment(token);
        if let Some(position) = commands.iter().position(|command| command.comment == key) {
            return Some(commands.swap_remove(position));
        }
    }
    commands.into_iter().next()
}

/// How a command ranks among duplicates of its comment.
pub fn send_order(requested: Option<&aws_smithy_types::DateTime>, command_id: &str) -> SendOrder {
    SendOrder {
        requested: requested.map(|t| (t.secs(), t.subsec_nanos())).unwrap_or((i64::MAX, 0)),
        command_id: command_id.to_string(),
    }
}

/// The lifecycle token a command was keyed on, when it carries one.
pub fn token_of(comment: &str) -> Option<&str> {
    comment.strip_prefix(COMMENT_PREFIX)
}

/// When the instance's termination activity began: the start of the lifecycle wait, for the bounded agent wait and
/// the heartbeat schedule. Activities come newest first, 100 a page; launches and other terminations share them,
/// so a few pages are read before giving up.
async fn wait_started<P: AwsPort>(aws: &P, group: &str, instance_id: &str) -> Result<Option<u64>, HandlerError> {
    let mut next_token = None;
    for _ in 0..MAX_ACTIVITY_PAGES {
        let page = aws.describe_scaling_activities(group, ACTIVITIES_PER_PAGE, next_token).await?;
        let started = page
            .activities
            .iter()
            .filter(|(description, _)| description.contains(instance_id))
            .filter_map(|(_, start)| *start)
            .max();
        if started.is_some() || page.next_token.is_none() {
            return Ok(started);
        }
        next_token = page.next_token;
    }
    Ok(None)
}

/// Every instance of the managed groups parked in `Terminating:Wait`, as reconcile triggers.
pub async fn waiting_instances<P: AwsPort>(aws: &P, config: &HandlerConfig) -> Result<Vec<Trigger>, HandlerError> {
    let mut triggers = Vec::new();
    // No names would mean "every group in the account"; and one call takes at most 50 names.
    for names in config.autoscaling_group_names.chunks(MAX_GROUP_NAMES_PER_CALL) {
        for group in aws.describe_auto_scaling_groups(names, &config.resource_name).await? {
            triggers.extend(hook_waiting(&group.name, &group.instances));
            if group.has_warm_pool {
                // The warm pool instances of the group held by a terminate hook.
                let pool = aws.describe_warm_pool(&group.name, &group.name).await?;
                triggers.extend(hook_waiting(&group.name, &pool.instances));
            }
        }
    }
    Ok(triggers)
}

/// The members held by a terminate hook, as reconcile triggers.
fn hook_waiting<'a>(group: &'a str, members: &'a [MemberSeen]) -> impl Iterator<Item = Trigger> + 'a {
    members
        .iter()
        .filter(|member| is_hook_wait(&member.lifecycle_state))
        .map(move |member| Trigger::Tick { group: group.to_string(), instance_id: member.instance_id.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_back_from_the_comment() {
        assert_eq!(token_of(&drain_comment("abc-123")), Some("abc-123"));
        assert_eq!(token_of("graceful-drain-instance i-1"), None);
    }
}
