//! One invocation: parse the payload, triage each event, observe each instance, decide, and carry out the actions
//! against AWS. Thin by design: every choice is made in `decide`; this file only performs and logs.

use crate::aws_error::{HandlerError, failure, is_no_active_lifecycle_action};
use crate::decide::{Action, Agent, CommandSeen, Observed, Outcome, Triage, Trigger, decide, triage};
use crate::duplicates::{SendOrder, yields_to};
use crate::emf::{self, Metric};
use crate::event::{Event, parse};
use crate::observe::{
    Aws, command_seen, list_drain_commands, observe, observe_fully, send_order, token_of, waiting_instances,
};
use aws_sdk_ssm::operation::send_command::SendCommandError;
use aws_sdk_ssm::types::{CloudWatchOutputConfig, NotificationConfig, NotificationEvent, NotificationType};
use drain_contract::HandlerConfig;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{Instrument, error, info, info_span, warn};

/// The command statuses SSM notifies us of.
const TERMINAL_NOTIFICATION_EVENTS: [NotificationEvent; 4] =
    [NotificationEvent::Success, NotificationEvent::Failed, NotificationEvent::TimedOut, NotificationEvent::Cancelled];
/// `SendCommand.TimeoutSeconds` (delivery timeout) is at least 30 seconds.
const MIN_DELIVERY_TIMEOUT_SECONDS: u64 = 30;

/// Handles one Lambda payload within `bound`. Returns a summary of what was done (the function's response).
pub async fn handle(
    aws: &Aws,
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

async fn handle_events(aws: &Aws, config: &HandlerConfig, payload: &Value) -> Result<Value, HandlerError> {
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
        for trigger in triggers {
            match handle_instance(aws, config, &trigger).await {
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

fn kind(event: &Event) -> &'static str {
    match event {
        Event::Lifecycle(_) => "lifecycle",
        Event::TestNotification { .. } => "test_notification",
        Event::CommandStatus(_) => "command_status",
        Event::Tick => "tick",
        Event::Foreign { .. } => "foreign",
    }
}

/// Observe → decide → act for one instance, inside a span carrying group, hook, instance and token.
async fn handle_instance(aws: &Aws, config: &HandlerConfig, trigger: &Trigger) -> Result<Vec<String>, HandlerError> {
    let (group, token) = match trigger {
        Trigger::Lifecycle { group, token, .. } => (group.as_str(), token.as_str()),
        Trigger::Tick { group, .. } => (group.as_str(), "unknown"),
        Trigger::CommandStatus { .. } => ("unknown", "unknown"),
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
        for action in decide(trigger, &observed, config, epoch_seconds()) {
            let Action::SendDrain { instance_id, comment } = &action else {
                done.push(act(aws, config, &action).await?);
                continue;
            };
            // Sending is also the look: SendCommand says whether SSM reaches the agent, and the listing after it
            // whether an earlier command of this action stands. Either answer is decided on again, without sending.
            let sent = send_drain(aws, config, instance_id, comment).await?;
            done.push(sent.describe());
            let observed = match sent {
                Sent::Standing { .. } => continue,
                Sent::Yielded { standing, .. } => Observed { command: Some(standing), ..observed.clone() },
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
            // Never another SendDrain: the agent is now known unreachable, or a command of this action stands.
            for action in decide(trigger, &observed, config, epoch_seconds()) {
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
async fn act(aws: &Aws, config: &HandlerConfig, action: &Action) -> Result<String, HandlerError> {
    match action {
        Action::Wait { reason } => {
            info!(reason, "waiting");
            Ok(format!("wait: {reason}"))
        }
        Action::Done { reason } => {
            info!(reason, "nothing left to do");
            Ok(format!("done: {reason}"))
        }
        Action::SendDrain { instance_id, comment } => {
            Ok(send_drain(aws, config, instance_id, comment).await?.describe())
        }
        Action::Heartbeat { group, instance_id } => {
            let sent = aws
                .autoscaling
                .record_lifecycle_action_heartbeat()
                .auto_scaling_group_name(group)
                .lifecycle_hook_name(&config.hook_name)
                .instance_id(instance_id)
                .send()
                .await
                .map_err(|e| failure("recording lifecycle action heartbeat", instance_id, e));
            match sent {
                Ok(_) => {
                    info!("heartbeat sent");
                    emf::emit(&config.resource_name, Metric::Heartbeats, 1.0, &[], &[("instance_id", instance_id)]);
                    Ok("heartbeat".into())
                }
                Err(error) if is_no_active_lifecycle_action(&error) => {
                    info!("no active lifecycle action: already completed or expired");
                    Ok("done: no active lifecycle action".into())
                }
                Err(error) => Err(error),
            }
        }
        Action::CancelCommand { command_id, instance_id } => {
            aws.ssm
                .cancel_command()
                .command_id(command_id)
                .instance_ids(instance_id)
                .send()
                .await
                .map_err(|e| failure("cancelling drain command", command_id, e))?;
            warn!(command_id = %command_id, "drain budget exceeded: command cancelled");
            Ok(format!("cancelled {command_id}"))
        }
        Action::Complete { group, instance_id, result, outcome, drain_seconds } => {
            let completed = aws
                .autoscaling
                .complete_lifecycle_action()
                .auto_scaling_group_name(group)
                .lifecycle_hook_name(&config.hook_name)
                .instance_id(instance_id)
                .lifecycle_action_result(result.as_aws_str())
                .send()
                .await
                .map_err(|e| failure("completing lifecycle action", instance_id, e));
            match completed {
                Ok(_) => {
                    info!(
                        result = result.as_aws_str(),
                        outcome = outcome.as_str(),
                        drain_seconds,
                        "lifecycle action completed"
                    );
                    record_outcome(config, instance_id, group, *outcome, *drain_seconds);
                    Ok(format!("complete {} ({})", result.as_aws_str(), outcome.as_str()))
                }
                Err(error) if is_no_active_lifecycle_action(&error) => {
                    info!("no active lifecycle action: already completed or expired");
                    Ok("done: no active lifecycle action".into())
                }
                Err(error) => Err(error),
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
    /// Our command is the drain of this action.
    Standing { command_id: String },
    /// An earlier command with the same comment stands (a concurrent or repeated delivery of the notification sent
    /// it); ours was cancelled.
    Yielded { command_id: String, standing: CommandSeen },
    /// `SendCommand` answered `InvalidInstanceId`: no agent reachable, or not an instance SSM manages.
    Unreachable,
}

impl Sent {
    /// A short description for the invocation's summary.
    fn describe(&self) -> String {
        match self {
            Sent::Standing { command_id } => format!("sent {command_id}"),
            Sent::Yielded { command_id, standing } => {
                format!("sent {command_id}, a duplicate of {}: cancelled", standing.command_id)
            }
            Sent::Unreachable => "send: instance not reachable by SSM".into(),
        }
    }
}

async fn send_drain(aws: &Aws, config: &HandlerConfig, instance_id: &str, comment: &str) -> Result<Sent, HandlerError> {
    // Only terminal statuses: nothing is decided on `InProgress`, and each notification is an invocation.
    let notification = NotificationConfig::builder()
        .notification_arn(&config.notification_topic_arn)
        .set_notification_events(Some(TERMINAL_NOTIFICATION_EVENTS.to_vec()))
        .notification_type(NotificationType::Invocation)
        .build();
    let output_config = CloudWatchOutputConfig::builder()
        .cloud_watch_output_enabled(config.command_log_group_name.is_some())
        .set_cloud_watch_log_group_name(config.command_log_group_name.clone())
        .build();
    let delivery_timeout = config.agent_wait_seconds.max(MIN_DELIVERY_TIMEOUT_SECONDS);
    let sent = aws
        .ssm
        .send_command()
        .document_name(&config.document_name)
        .instance_ids(instance_id)
        .set_parameters(Some(config.document_parameters.clone().into_iter().collect()))
        .comment(comment)
        .timeout_seconds(delivery_timeout.min(i32::MAX as u64) as i32)
        .notification_config(notification)
        .service_role_arn(&config.notification_role_arn)
        .cloud_watch_output_config(output_config)
        .send()
        .await;
    let ours = match sent {
        Ok(output) => {
            let command = output.command();
            let id = command.and_then(|c| c.command_id()).unwrap_or_default();
            send_order(command.and_then(|c| c.requested_date_time()), id)
        }
        Err(error) if error.as_service_error().is_some_and(SendCommandError::is_invalid_instance_id) => {
            let error = failure("sending drain command", instance_id, error);
            warn!(error = %error, "SSM cannot reach the instance");
            emf::emit(&config.resource_name, Metric::AgentUnreachable, 1.0, &[], &[("instance_id", instance_id)]);
            return Ok(Sent::Unreachable);
        }
        Err(error) => return Err(failure("sending drain command", instance_id, error)),
    };
    let command_id = ours.command_id.clone();
    info!(command_id = %command_id, comment, "drain command sent");
    // Another delivery of the same notification may have sent this drain already: the earliest command stands.
    let listed: Vec<(SendOrder, CommandSeen)> =
        list_drain_commands(aws, config, instance_id).await?.iter().filter_map(command_seen).collect();
    let same_comment: Vec<SendOrder> =
        listed.iter().filter(|(_, seen)| seen.comment == comment).map(|(order, _)| order.clone()).collect();
    let Some(earlier) = yields_to(&ours, &same_comment) else {
        return Ok(Sent::Standing { command_id });
    };
    aws.ssm
        .cancel_command()
        .command_id(&command_id)
        .instance_ids(instance_id)
        .send()
        .await
        .map_err(|e| failure("cancelling duplicate drain command", &command_id, e))?;
    warn!(command_id = %command_id, standing = %earlier.command_id, "duplicate drain command cancelled");
    let standing = listed.into_iter().find(|(order, _)| order == earlier).map(|(_, seen)| seen);
    Ok(Sent::Yielded { command_id, standing: standing.expect("`earlier` was taken from `listed`") })
}

fn epoch_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
