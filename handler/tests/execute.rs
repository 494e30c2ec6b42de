//! The executor against SDK clients whose answers come from `aws-smithy-mocks` rules: which calls it makes, with
//! which arguments, and how it treats AWS's documented answers. A call no rule matches fails the test.

use aws_sdk_autoscaling::operation::complete_lifecycle_action::{
    CompleteLifecycleActionError, CompleteLifecycleActionOutput,
};
use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::operation::describe_auto_scaling_instances::DescribeAutoScalingInstancesOutput;
use aws_sdk_autoscaling::types::{AutoScalingGroup, AutoScalingInstanceDetails, Instance, LifecycleState};
use aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationOutput;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::operation::send_command::SendCommandOutput;
use aws_sdk_ssm::types::{
    Command, CommandFilterKey, CommandStatus, InstanceInformation, NotificationEvent, NotificationType, PingStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use drain_contract::names::notification_metadata;
use drain_contract::{HandlerConfig, LifecycleResult};
use graceful_handler::execute::handle;
use graceful_handler::observe::Aws;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const INSTANCE: &str = "i-0123456789abcdef0";
const COMMAND_IN_FIXTURE: &str = "a8c7e76f-15f1-4c33-9052-0123456789ab";
const TOKEN: &str = "87654321-4321-4321-4321-210987654321";

fn config() -> HandlerConfig {
    HandlerConfig {
        resource_name: "ci".into(),
        hook_name: "ci-drain".into(),
        notification_metadata: notification_metadata("ci"),
        autoscaling_group_names: vec!["ci-a".into()],
        document_name: "ci-drain".into(),
        document_parameters: [("deadlineSeconds".to_string(), vec!["3300".to_string()])].into(),
        notification_topic_arn: "arn:aws:sns:us-east-1:123456789012:ci-lifecycle".into(),
        notification_role_arn: "arn:aws:iam::123456789012:role/ci-publisher".into(),
        command_log_group_name: Some("/graceful/ci/drain".into()),
        drain_timeout_seconds: 3600,
        heartbeat_timeout_seconds: 3780,
        on_failure: LifecycleResult::Abandon,
        drain_command: None,
        agent_wait_seconds: 300,
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn clients(autoscaling: &[&Rule], ssm: &[&Rule]) -> Aws {
    Aws {
        autoscaling: mock_client!(aws_sdk_autoscaling, RuleMode::MatchAny, autoscaling),
        ssm: mock_client!(aws_sdk_ssm, RuleMode::MatchAny, ssm),
    }
}

fn waiting_instance() -> Rule {
    mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_instances)
        .match_requests(|request| request.instance_ids() == [INSTANCE.to_string()])
        .then_output(|| {
            DescribeAutoScalingInstancesOutput::builder()
                .auto_scaling_instances(
                    AutoScalingInstanceDetails::builder()
                        .instance_id(INSTANCE)
                        .auto_scaling_group_name("ci-a")
                        .lifecycle_state("Terminating:Wait")
                        .availability_zone("us-east-1a")
                        .health_status("HEALTHY")
                        .protected_from_scale_in(false)
                        .build(),
                )
                .build()
        })
}

fn complete_rule(
    result: &'static str,
) -> aws_smithy_mocks::RuleBuilder<
    aws_sdk_autoscaling::operation::complete_lifecycle_action::CompleteLifecycleActionInput,
    CompleteLifecycleActionOutput,
    CompleteLifecycleActionError,
> {
    mock!(aws_sdk_autoscaling::Client::complete_lifecycle_action).match_requests(move |request| {
        request.auto_scaling_group_name() == Some("ci-a")
            && request.lifecycle_hook_name() == Some("ci-drain")
            && request.instance_id() == Some(INSTANCE)
            && request.lifecycle_action_result() == Some(result)
    })
}

/// The invocation status fixture (command `COMMAND_IN_FIXTURE` on `INSTANCE`) with another status.
fn status_notification(status: &str) -> Value {
    let mut payload = fixture("sns-invocation-status.json");
    let message =
        payload["Records"][0]["Sns"]["Message"].as_str().unwrap().replace("\"Failed\"", &format!("\"{status}\""));
    payload["Records"][0]["Sns"]["Message"] = Value::String(message);
    payload
}

fn summary_text(summary: &Value) -> String {
    summary.to_string()
}

fn drain_command(id: &str, status: CommandStatus, requested: i64) -> Command {
    Command::builder()
        .command_id(id)
        .comment(format!("graceful-drain {TOKEN}"))
        .status(status)
        .requested_date_time(aws_smithy_types::DateTime::from_secs(requested))
        .build()
}

fn epoch_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sent(command: Command) -> Rule {
    mock!(aws_sdk_ssm::Client::send_command)
        .then_output(move || SendCommandOutput::builder().command(command.clone()).build())
}

/// `ListCommands` of the instance, filtered on our drain document, answering `listed`.
fn commands(listed: Vec<Command>) -> Rule {
    mock!(aws_sdk_ssm::Client::list_commands)
        .match_requests(|request| {
            request.instance_id() == Some(INSTANCE)
                && request
                    .filters()
                    .iter()
                    .any(|f| f.key() == &CommandFilterKey::DocumentName && f.value() == "ci-drain")
        })
        .then_output(move || ListCommandsOutput::builder().set_commands(Some(listed.clone())).build())
}

fn cancelled(command_id: &'static str) -> Rule {
    mock!(aws_sdk_ssm::Client::cancel_command)
        .match_requests(move |request| request.command_id() == Some(command_id) && request.instance_ids() == [INSTANCE])
        .then_output(|| aws_sdk_ssm::operation::cancel_command::CancelCommandOutput::builder().build())
}

/// The notification is the observation: SendCommand, then one listing for an earlier duplicate. Nothing else.
#[tokio::test]
async fn lifecycle_event_sends_one_keyed_drain_command_with_terminal_notifications_only() {
    let send = mock!(aws_sdk_ssm::Client::send_command)
        .match_requests(|request| {
            let notification = request.notification_config().expect("NotificationConfig is set");
            let output = request.cloud_watch_output_config().expect("CloudWatchOutputConfig is set");
            request.document_name() == Some("ci-drain")
                && request.instance_ids() == [INSTANCE.to_string()]
                && request.comment() == Some(&format!("graceful-drain {TOKEN}"))
                && request.comment().unwrap().len() <= 100
                && request.service_role_arn() == Some("arn:aws:iam::123456789012:role/ci-publisher")
                && notification.notification_arn() == Some("arn:aws:sns:us-east-1:123456789012:ci-lifecycle")
                && notification.notification_type() == Some(&NotificationType::Invocation)
                && notification.notification_events()
                    == [
                        NotificationEvent::Success,
                        NotificationEvent::Failed,
                        NotificationEvent::TimedOut,
                        NotificationEvent::Cancelled,
                    ]
                && output.cloud_watch_output_enabled()
                && output.cloud_watch_log_group_name() == Some("/graceful/ci/drain")
                && request.parameters().and_then(|p| p.get("deadlineSeconds")) == Some(&vec!["3300".to_string()])
                && request.timeout_seconds() == Some(300)
        })
        .then_output(|| {
            SendCommandOutput::builder().command(drain_command("c-new", CommandStatus::Pending, epoch_now())).build()
        });
    let listed = commands(vec![drain_command("c-new", CommandStatus::Pending, epoch_now())]);
    // No Auto Scaling rule and no agent rule: any other call fails the test.
    let aws = clients(&[], &[&listed, &send]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("sent c-new\""), "{summary}");
    assert_eq!(send.num_calls(), 1);
    assert_eq!(listed.num_calls(), 1, "one listing, for an earlier command of the same action");
}

/// Two deliveries of one notification handled at once both send: the later command yields and is cancelled.
#[tokio::test]
async fn a_concurrent_duplicate_drain_command_yields_to_the_earlier_one() {
    let now = epoch_now();
    let (early, late) = (
        drain_command("c-early", CommandStatus::Pending, now - 1),
        drain_command("c-late", CommandStatus::Pending, now),
    );
    let listed = commands(vec![early, late.clone()]);
    let (send, cancel) = (sent(late), cancelled("c-late"));
    let aws = clients(&[], &[&listed, &send, &cancel]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    let text = summary_text(&summary);
    assert!(text.contains("a duplicate of c-early: cancelled"), "{summary}");
    assert!(text.contains("wait: the drain is in progress"), "the earlier command is the drain: {summary}");
    assert_eq!(cancel.num_calls(), 1);
}

/// A redelivery after the drain succeeded (its completion was lost or throttled) completes the action at once.
#[tokio::test]
async fn a_redelivered_notification_after_a_successful_drain_completes_it() {
    let now = epoch_now();
    let (done, again) =
        (drain_command("c-1", CommandStatus::Success, now - 300), drain_command("c-2", CommandStatus::Pending, now));
    let listed = commands(vec![done, again.clone()]);
    let (send, cancel) = (sent(again), cancelled("c-2"));
    let complete = complete_rule("CONTINUE").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&complete], &[&listed, &send, &cancel]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    let text = summary_text(&summary);
    assert!(text.contains("a duplicate of c-1: cancelled"), "{summary}");
    assert!(text.contains("complete CONTINUE (drained)"), "{summary}");
    assert_eq!((cancel.num_calls(), complete.num_calls()), (1, 1));
}

/// `InvalidInstanceId` is ambiguous, so the instance is then read in full; the fixture's action began hours ago,
/// past the agent wait, so the failure policy applies.
#[tokio::test]
async fn an_instance_ssm_cannot_reach_is_completed_with_the_failure_policy_after_the_agent_wait() {
    let refused = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
        aws_sdk_ssm::operation::send_command::SendCommandError::InvalidInstanceId(
            aws_sdk_ssm::types::error::InvalidInstanceId::builder()
                .message("Instances not in a valid state for account")
                .build(),
        )
    });
    let offline = mock!(aws_sdk_ssm::Client::describe_instance_information).then_output(|| {
        DescribeInstanceInformationOutput::builder()
            .instance_information_list(
                InstanceInformation::builder().instance_id(INSTANCE).ping_status(PingStatus::ConnectionLost).build(),
            )
            .build()
    });
    let (instance, listed) = (waiting_instance(), commands(vec![]));
    let complete = complete_rule("ABANDON").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&instance, &complete], &[&refused, &listed, &offline]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("complete ABANDON (agent_unreachable)"), "{summary}");
    assert_eq!((refused.num_calls(), offline.num_calls(), complete.num_calls()), (1, 1, 1));
}

/// A `Success` notification needs only the instance's group: one read, one completion.
#[tokio::test]
async fn success_notification_completes_continue_and_no_active_action_means_done() {
    let complete = complete_rule("CONTINUE").then_error(|| {
        CompleteLifecycleActionError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message(format!("No active Lifecycle Action found with instance ID {INSTANCE}"))
                .build(),
        )
    });
    let instance = waiting_instance();
    // No SSM rule: listing the commands would fail the test.
    let aws = clients(&[&instance, &complete], &[]);

    let summary =
        handle(&aws, &config(), &status_notification("Success"), Duration::from_secs(20)).await.expect("not an error");
    assert!(summary_text(&summary).contains("done: no active lifecycle action"), "{summary}");
    assert_eq!((instance.num_calls(), complete.num_calls()), (1, 1));
}

/// A `Cancelled` notification may be a yielding duplicate's: the listing decides, and the standing drain goes on.
#[tokio::test]
async fn a_cancelled_duplicates_notification_does_not_fail_the_running_drain() {
    let now = epoch_now();
    let standing = drain_command("c-early", CommandStatus::InProgress, now - 5);
    let duplicate = drain_command(COMMAND_IN_FIXTURE, CommandStatus::Cancelled, now - 4);
    let listed = commands(vec![standing, duplicate]);
    let instance = waiting_instance();
    let aws = clients(&[&instance], &[&listed]);

    let summary = handle(&aws, &config(), &status_notification("Cancelled"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("wait: the drain is in progress"), "{summary}");
}

#[tokio::test]
async fn tick_walks_waiting_instances_only_and_completes_a_failed_drain_with_on_failure() {
    let groups = mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups)
        .match_requests(|request| request.auto_scaling_group_names() == ["ci-a".to_string()])
        .then_output(|| {
            let instance = |id: &str, state: LifecycleState| {
                Instance::builder()
                    .instance_id(id)
                    .lifecycle_state(state)
                    .availability_zone("us-east-1a")
                    .health_status("HEALTHY")
                    .protected_from_scale_in(false)
                    .build()
            };
            DescribeAutoScalingGroupsOutput::builder()
                .auto_scaling_groups(
                    AutoScalingGroup::builder()
                        .auto_scaling_group_name("ci-a")
                        .instances(instance(INSTANCE, LifecycleState::TerminatingWait))
                        .instances(instance("i-in-service", LifecycleState::InService))
                        .min_size(0)
                        .max_size(3)
                        .desired_capacity(1)
                        .default_cooldown(300)
                        .availability_zones("us-east-1a")
                        .health_check_type("EC2")
                        .created_time(aws_smithy_types::DateTime::from_secs(0))
                        .build(),
                )
                .build()
        });
    let complete = complete_rule("ABANDON").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let instance = waiting_instance();
    let listed = commands(vec![drain_command("c-1", CommandStatus::Failed, epoch_now() - 120)]);
    let aws = clients(&[&groups, &instance, &complete], &[&listed]);

    let summary =
        handle(&aws, &config(), &fixture("eventbridge-scheduled.json"), Duration::from_secs(20)).await.unwrap();
    let handled = summary["handled"].as_array().unwrap();
    assert_eq!(handled.len(), 1, "only the Terminating:Wait instance is observed: {summary}");
    assert_eq!(handled[0]["instance_id"], INSTANCE);
    assert!(summary_text(&summary).contains("complete ABANDON (drain_failed)"), "{summary}");
    assert_eq!(complete.num_calls(), 1);
}

#[tokio::test]
async fn an_unexpected_aws_error_fails_the_invocation_so_lambda_retries() {
    let complete = complete_rule("CONTINUE").then_error(|| {
        CompleteLifecycleActionError::generic(
            ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build(),
        )
    });
    let instance = waiting_instance();
    let aws = clients(&[&instance, &complete], &[]);
    let error = handle(&aws, &config(), &status_notification("Success"), Duration::from_secs(20))
        .await
        .expect_err("a throttled completion must be retried");
    assert_eq!(error.code(), Some("Throttling"));
    assert!(error.to_string().contains("completing lifecycle action (i-0123456789abcdef0)"), "{error}");
}
