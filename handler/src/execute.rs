//! One invocation: parse the payload, triage each event, observe each instance, decide, and carry out the actions
//! against AWS. Thin by design: every choice is made in `decide`; this file only performs and logs.

use crate::aws_error::HandlerError;
use crate::decide::{Action, Agent, Outcome, Triage, Trigger, triage};
use crate::drain_lock::{self, Taken};
use crate::emf::{self, Metric};
use crate::event::{Event, parse};
use crate::mutants::{decide, skips_hook_probe, skips_lock};
use crate::observe::{observe, observe_fully, token_of, waiting_instances};
use crate::port::{AwsPort, DrainCommand, LifecycleAnswer, SendRefusal};
use drain_contract::HandlerConfig;
use drain_contract::budget::RECONCILE_INTERVAL_SECONDS;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::time::Duration;
use tracing::{Instrument, error, info, info_span, warn};

/// `SendCommand.TimeoutSeconds` (delivery timeout) is at least 30 seconds.
const MIN_DELIVERY_TIMEOUT_SECONDS: u64 = 30;

/// Handles one Lambda payload within `bound`. Returns a summary of what was done (the function's response).
pub async fn handle<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    payload: &Value,
    bound: Duration,
) -> Result<Value, HandlerError> {
    match tokio::time::timeout(bound, handle_events(aws, config, payload)).await {
        Ok(result) => result,
        Err(_) => {
            error!(
                bound_ms = bound.as_millis() as u64,
                "invocation ran out of time; the next delivery or tick resumes"
            );
            Err(HandlerError::OutOfTime(bound))
        }
    }
}

pub async fn handle_events<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    payload: &Value,
) -> Result<Value, HandlerError> {
    let mut summary = Vec::new();
    let mut first_error = None;
    for event in parse(payload) {
        let triggers = match triage(&event, config) {
            Triage::Skip { reason } => {
                info!(event = kind(&event), reason = %reason, "skipped event");
                summary.push(json!({ "event": kind(&event), "skipped": reason }));
                continue;
            }
            Triage::Observe(triggers) => triggers,
            Triage::Reconcile => match waiting_instances(aws, config).await {
                Ok(triggers) => {
                    info!(event = "tick", waiting = triggers.len(), "reconcile sweep");
                    triggers
                }
                Err(error) => {
                    error!(event = "tick", error = %error, "reconcile sweep could not list waiting instances");
                    first_error.get_or_insert(error);
                    continue;
                }
            },
        };
        // Instances are independent (the drain lock keeps each exactly-once), so a tick works on several at once,
        // starting each minute from another one: an invocation that runs out of time never starves the same ones.
        let ordered = rotated(triggers, aws.now() / RECONCILE_INTERVAL_SECONDS);
        let mut handled = stream::iter(ordered.iter())
            .map(|trigger| async move { (trigger, handle_instance(aws, config, trigger).await) })
            .buffer_unordered(INSTANCES_AT_ONCE);
        while let Some((trigger, outcome)) = handled.next().await {
            match outcome {
                Ok(done) => summary
                    .push(json!({ "event": kind(&event), "instance_id": trigger.instance_id(), "actions": done })),
                Err(error) => {
                    summary.push(json!({ "event": kind(&event), "instance_id": trigger.instance_id(), "error": error.to_string() }));
                    first_error.get_or_insert(error);
                }
            }
        }
    }
    match first_error {
        // Every step is idempotent, so letting Lambda retry the whole payload is safe.
        Some(error) => Err(error),
        None => Ok(json!({ "handled": summary })),
    }
}

/// How many instances one invocation works on at once: a reconcile tick over hundreds of waiting instances fits the
/// function's time, and the account's API rates (each instance costs a few calls) are not flooded.
pub const INSTANCES_AT_ONCE: usize = 8;

/// `triggers` starting at position `turn` (mod their number), so that successive ticks start from each in turn.
pub fn rotated(mut triggers: Vec<Trigger>, turn: u64) -> Vec<Trigger> {
    if !triggers.is_empty() {
        let start = (turn % triggers.len() as u64) as usize;
        triggers.rotate_left(start);
    }
    triggers
}

fn kind(event: &Event) -> &'static str {
    match event {
        Event::Lifecycle(_) => "lifecycle",
        Event::TestNotification { .. } => "test_notification",
        Event::CommandStatus(_) => "command_status",
        Event::Tick => "tick",
        Event::SpotInterruption { .. } => "spot_interruption",
        Event::Foreign { .. } => "foreign",
    }
}

/// Observe → decide → act for one instance, inside a span carrying group, hook, instance and token.
async fn handle_instance<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    trigger: &Trigger,
) -> Result<Vec<String>, HandlerError> {
    let (group, token) = match trigger {
        Trigger::Lifecycle { group, token, .. } => (group.as_str(), token.as_str()),
        Trigger::Tick { group, .. } => (group.as_str(), "unknown"),
        Trigger::CommandStatus { .. } | Trigger::SpotInterruption { .. } => ("unknown", "unknown"),
    };
    let span =
        info_span!("instance", asg = group, hook = %config.hook_name, instance_id = trigger.instance_id(), token);
    let work = async {
        let observed = observe(aws, config, trigger).await?;
        if let Some((group, _)) = &observed.membership {
            tracing::Span::current().record("asg", group.as_str());
        }
        if let Some(token) = observed.command.as_ref().and_then(|c| token_of(&c.comment)) {
            tracing::Span::current().record("token", token);
        }
        let mut done = Vec::new();
        for action in decide(aws, trigger, &observed, config, aws.now()) {
            let Action::SendDrain { group, instance_id, comment, lock_generation, at_notice } = &action else {
                done.push(act(aws, config, &action).await?);
                continue;
            };
            // Sending is also the look: the lock says whether a drain of this action was started already, and
            // SendCommand whether SSM reaches the agent. Either answer is decided on again from a full read.
            let sent = send_drain(aws, config, group, instance_id, comment, *lock_generation, *at_notice).await?;
            done.push(sent.describe());
            if *at_notice {
                // A Spot notice only starts a drain: a held lock is a drain already started (the hook's, or a
                // redelivered notice's), and a refused one left the lock free for the hook's drain.
                continue;
            }
            let observed = match sent {
                Sent::Standing { .. } | Sent::HookDone => continue,
                Sent::LockHeld => observe_fully(aws, config, trigger).await?,
                Sent::Unreachable => {
                    let mut observed = observe_fully(aws, config, trigger).await?;
                    if observed.command.is_none() && observed.agent == Agent::Online {
                        // The agent reads Online yet SSM refused it (missing instance profile permissions, or a
                        // registration in flight): ambiguous by design of the API, treated as not reachable.
                        observed.agent = Agent::Unreachable("InvalidInstanceId".into());
                    }
                    observed
                }
            };
            // A second SendDrain here can only take a newer lock generation (a stale lock), so it is sent once
            // more at most: `act` does not decide again.
            for action in decide(aws, trigger, &observed, config, aws.now()) {
                done.push(act(aws, config, &action).await?);
            }
        }
        Ok(done)
    };
    async {
        let outcome = work.await;
        if let Err(error) = &outcome {
            error!(error = %error, "handling the instance failed; the next delivery or tick retries");
        }
        outcome
    }
    .instrument(span)
    .await
}

/// Carries out one action; returns a short description for the summary.
async fn act<P: AwsPort>(aws: &P, config: &HandlerConfig, action: &Action) -> Result<String, HandlerError> {
    match action {
        Action::Wait { reason } => {
            info!(reason, "waiting");
            Ok(format!("wait: {reason}"))
        }
        Action::Done { reason } => {
            info!(reason, "nothing left to do");
            Ok(format!("done: {reason}"))
        }
        Action::SendDrain { group, instance_id, comment, lock_generation, at_notice } => {
            Ok(send_drain(aws, config, group, instance_id, comment, *lock_generation, *at_notice).await?.describe())
        }
        Action::Heartbeat { group, instance_id } => {
            match aws.record_lifecycle_action_heartbeat(group, &config.hook_name, instance_id).await? {
                LifecycleAnswer::Accepted => {
                    info!("heartbeat sent");
                    emf::emit(&config.resource_name, Metric::Heartbeats, 1.0, &[], &[("instance_id", instance_id)]);
                    Ok("heartbeat".into())
                }
                LifecycleAnswer::NoActiveAction => {
                    info!("no active lifecycle action: already completed or expired");
                    Ok("done: no active lifecycle action".into())
                }
            }
        }
        Action::CancelCommand { command_id, instance_id } => {
            // Best effort: the budget is spent either way, and a failed cancel (the command ended meanwhile, or
            // throttling) must not keep the lifecycle action from being completed after it. AWS does not
            // guarantee a cancel stops the process anyway.
            match aws.cancel_command(command_id, instance_id).await {
                Ok(_) => {
                    warn!(command_id = %command_id, "drain budget exceeded: command cancelled");
                    Ok(format!("cancelled {command_id}"))
                }
                Err(error) => {
                    warn!(command_id = %command_id, error = %error, "drain budget exceeded: cancelling the command failed; completing anyway");
                    Ok(format!("cancel of {command_id} failed"))
                }
            }
        }
        Action::Complete { group, instance_id, result, outcome, drain_seconds } => {
            match aws.complete_lifecycle_action(group, &config.hook_name, instance_id, *result).await? {
                LifecycleAnswer::Accepted => {
                    info!(
                        result = result.as_aws_str(),
                        outcome = outcome.as_str(),
                        drain_seconds,
                        "lifecycle action completed"
                    );
                    record_outcome(config, instance_id, group, *outcome, *drain_seconds);
                    Ok(format!("complete {} ({})", result.as_aws_str(), outcome.as_str()))
                }
                LifecycleAnswer::NoActiveAction => {
                    info!("no active lifecycle action: already completed or expired");
                    Ok("done: no active lifecycle action".into())
                }
            }
        }
    }
}

fn record_outcome(config: &HandlerConfig, instance_id: &str, group: &str, outcome: Outcome, drain_seconds: u64) {
    let context = [("instance_id", instance_id), ("asg", group)];
    let resource = &config.resource_name;
    emf::emit(resource, Metric::Outcome, 1.0, &[("drain_outcome", outcome.as_str())], &context);
    if outcome == Outcome::AgentUnreachable {
        emf::emit(resource, Metric::AgentUnreachable, 1.0, &[], &context);
    } else {
        emf::emit(resource, Metric::DrainSeconds, drain_seconds as f64, &[], &context);
    }
}

/// What sending a drain command found out.
enum Sent {
    /// We took the lock and our command is the drain of this action.
    Standing { command_id: String },
    /// Another caller holds this generation of the instance's drain lock: it started (or is starting) the drain.
    LockHeld,
    /// `SendCommand` answered `InvalidInstanceId`: no agent reachable, or not an instance SSM manages.
    Unreachable,
    /// The managed hook's lifecycle action is over, though another hook still holds the instance: nothing to drain.
    HookDone,
}

impl Sent {
    /// A short description for the invocation's summary.
    fn describe(&self) -> String {
        match self {
            Sent::Standing { command_id } => format!("sent {command_id}"),
            Sent::LockHeld => "not sent: a drain of this action was started already".into(),
            Sent::Unreachable => "send: instance not reachable by SSM".into(),
            Sent::HookDone => "not sent: the managed hook's lifecycle action is over".into(),
        }
    }
}

async fn send_drain<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    group: &str,
    instance_id: &str,
    comment: &str,
    lock_generation: u32,
    at_notice: bool,
) -> Result<Sent, HandlerError> {
    // `Terminating:Wait` says some hook holds the instance, not that ours does: with a second hook on the group
    // (someone else's), the instance stays in the wait after our action ended (completed CONTINUE, or its timeout
    // gave a CONTINUE default), since "CONTINUE allows any other lifecycle hooks to complete" (User Guide,
    // "Complete a lifecycle action"). No API lists an instance's actions per hook; a heartbeat is the one call that
    // answers for our hook alone, and on an active action it only moves the timeout later, which is safe.
    if !at_notice
        && !skips_hook_probe(aws)
        && aws.record_lifecycle_action_heartbeat(group, &config.hook_name, instance_id).await?
            == LifecycleAnswer::NoActiveAction
    {
        info!("the managed hook's lifecycle action is over; another hook holds the instance");
        return Ok(Sent::HookDone);
    }
    if !skips_lock(aws)
        && drain_lock::take(aws, config, instance_id, lock_generation, comment, aws.now()).await? == Taken::Held
    {
        info!(lock_generation, "drain lock held by another sender");
        return Ok(Sent::LockHeld);
    }
    let command = DrainCommand {
        document_name: &config.document_name,
        instance_id,
        parameters: parameters(config, at_notice),
        comment,
        timeout_seconds: config.agent_wait_seconds.max(MIN_DELIVERY_TIMEOUT_SECONDS),
        notification_topic_arn: &config.notification_topic_arn,
        notification_role_arn: &config.notification_role_arn,
        log_group_name: config.command_log_group_name.as_deref(),
    };
    let sent = aws.send_command(&command).await;
    // A lock stands for a drain that may have been sent. SendCommand's refusals before creating a command (the
    // instance not in a valid state, throttling) release it: a lock left standing would read as a drain sent and
    // not listed yet, and hold off the agent-unreachable ending until it went stale. A timeout leaves it unknown
    // whether SSM created the command, so the lock stays. It stays on a denied send too: its retries then come once
    // the lock is stale rather than at every delivery.
    match sent {
        Ok(command_id) => {
            info!(command_id = %command_id, comment, lock_generation, "drain command sent");
            Ok(Sent::Standing { command_id })
        }
        Err(SendRefusal::InvalidInstanceId(error)) => {
            warn!(error = %error, "SSM cannot reach the instance");
            emf::emit(&config.resource_name, Metric::AgentUnreachable, 1.0, &[], &[("instance_id", instance_id)]);
            release_after_refusal(aws, config, instance_id, lock_generation, "SSM cannot reach the instance").await;
            Ok(Sent::Unreachable)
        }
        Err(SendRefusal::AccessDenied { message }) => {
            emf::emit(&config.resource_name, Metric::SendRefused, 1.0, &[], &[("instance_id", instance_id)]);
            Err(HandlerError::SendRefused { instance_id: instance_id.to_string(), message })
        }
        Err(SendRefusal::Throttled(refused)) => {
            // AWS refused before creating a command: release the lock so the next delivery or tick sends at once.
            release_after_refusal(aws, config, instance_id, lock_generation, &refused.to_string()).await;
            Err(refused)
        }
        Err(SendRefusal::Failed(error)) => Err(error),
    }
}

/// Deletes a lock whose send AWS refused before creating a command; if that fails too, it stays until it is stale.
async fn release_after_refusal<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
    generation: u32,
    refusal: &str,
) {
    match drain_lock::release(aws, config, instance_id, generation).await {
        Ok(()) => warn!(lock_generation = generation, refusal, "drain refused; lock released for the next try"),
        Err(error) => {
            warn!(lock_generation = generation, refusal, error = %error, "drain refused; the lock stays until it goes stale")
        }
    }
}

/// The command's parameters: the document's, or at a Spot notice the same with the notice's deadline and grace.
fn parameters(config: &HandlerConfig, at_notice: bool) -> std::collections::BTreeMap<String, Vec<String>> {
    match (&config.spot, at_notice) {
        (Some(spot), true) => spot.parameters(&config.document_parameters),
        _ => config.document_parameters.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(n: usize) -> Vec<Trigger> {
        (0..n).map(|i| Trigger::Tick { group: "g".into(), instance_id: format!("i-{i}") }).collect()
    }

    #[test]
    fn successive_ticks_start_from_each_instance_in_turn() {
        let firsts: Vec<String> = (0..3).map(|turn| rotated(ticks(3), turn)[0].instance_id().to_string()).collect();
        assert_eq!(firsts, ["i-0", "i-1", "i-2"]);
        assert_eq!(rotated(ticks(3), 4).len(), 3, "nothing is dropped");
        assert!(rotated(Vec::new(), 7).is_empty());
    }
}
