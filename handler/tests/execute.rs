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

fn commands(listed: Vec<(&'static str, String, CommandStatus)>) -> Rule {
    mock!(aws_sdk_ssm::Client::list_commands)
        .match_requests(|request| {
            request.instance_id() == Some(INSTANCE)
                && request
                    .filters()
                    .iter()
                    .any(|f| f.key() == &CommandFilterKey::DocumentName && f.value() == "ci-drain")
        })
        .then_output(move || {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
            ListCommandsOutput::builder()
                .set_commands(Some(
                    listed
                        .iter()
                        .map(|(id, comment, status)| {
                            Command::builder()
                                .command_id(*id)
                                .comment(comment)
                                .status(status.clone())
                                .requested_date_time(aws_smithy_types::DateTime::from_secs(now - 120))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        })
}

fn agent_online() -> Rule {
    mock!(aws_sdk_ssm::Client::describe_instance_information).then_output(|| {
        DescribeInstanceInformationOutput::builder()
            .instance_information_list(
                InstanceInformation::builder().instance_id(INSTANCE).ping_status(PingStatus::Online).build(),
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

fn summary_text(summary: &Value) -> String {
    summary.to_string()
}

#[tokio::test]
async fn lifecycle_event_sends_one_keyed_drain_command_with_notifications() {
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
                && notification.notification_events() == [NotificationEvent::All]
                && output.cloud_watch_output_enabled()
                && output.cloud_watch_log_group_name() == Some("/graceful/ci/drain")
                && request.parameters().and_then(|p| p.get("deadlineSeconds")) == Some(&vec!["3300".to_string()])
                && request.timeout_seconds() == Some(300)
        })
        .then_output(|| SendCommandOutput::builder().command(Command::builder().command_id("c-new").build()).build());
    let (instance, listed, agent) = (waiting_instance(), commands(vec![]), agent_online());
    let aws = clients(&[&instance], &[&listed, &agent, &send]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("sent c-new\""), "{summary}");
    assert_eq!(send.num_calls(), 1);
    assert_eq!(listed.num_calls(), 2, "one look before sending, one for a concurrent duplicate after");
}

/// Two deliveries of one notification handled at once both send: the later command yields and is cancelled.
#[tokio::test]
async fn a_concurrent_duplicate_drain_command_yields_to_the_earlier_one() {
    let key = format!("graceful-drain {TOKEN}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let command = |id: &str, at: i64| {
        Command::builder()
            .command_id(id)
            .comment(&key)
            .status(CommandStatus::Pending)
            .requested_date_time(aws_smithy_types::DateTime::from_secs(at))
            .build()
    };
    let (early, late) = (command("c-early", now - 1), command("c-late", now));
    let listed = mock!(aws_sdk_ssm::Client::list_commands)
        .sequence()
        .output(|| ListCommandsOutput::builder().build())
        .output(move || ListCommandsOutput::builder().commands(early.clone()).commands(late.clone()).build())
        .build();
    let sent = command("c-late", now);
    let send = mock!(aws_sdk_ssm::Client::send_command)
        .then_output(move || SendCommandOutput::builder().command(sent.clone()).build());
    let cancel = mock!(aws_sdk_ssm::Client::cancel_command)
        .match_requests(|request| request.command_id() == Some("c-late") && request.instance_ids() == [INSTANCE])
        .then_output(|| aws_sdk_ssm::operation::cancel_command::CancelCommandOutput::builder().build());
    let (instance, agent) = (waiting_instance(), agent_online());
    let aws = clients(&[&instance], &[&listed, &agent, &send, &cancel]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("a duplicate of c-early: cancelled"), "{summary}");
    assert_eq!(cancel.num_calls(), 1);
}

#[tokio::test]
async fn duplicate_lifecycle_notification_sends_nothing() {
    let (instance, listed) =
        (waiting_instance(), commands(vec![("c-1", format!("graceful-drain {TOKEN}"), CommandStatus::InProgress)]));
    // No SendCommand rule: a second drain command would fail the test.
    let aws = clients(&[&instance], &[&listed]);
    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("wait: the drain is in progress"), "{summary}");
    assert_eq!(listed.num_calls(), 1);
}

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
    let listed = commands(vec![("a8c7e76f-15f1-4c33-9052-0123456789ab", String::new(), CommandStatus::InProgress)]);
    let aws = clients(&[&instance, &complete], &[&listed]);
    let mut payload = fixture("sns-invocation-status.json");
    let message = payload["Records"][0]["Sns"]["Message"].as_str().unwrap().replace("\"Failed\"", "\"Success\"");
    payload["Records"][0]["Sns"]["Message"] = Value::String(message);

    let summary = handle(&aws, &config(), &payload, Duration::from_secs(20)).await.expect("not an error");
    assert!(summary_text(&summary).contains("done: no active lifecycle action"), "{summary}");
    assert_eq!(complete.num_calls(), 1);
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
    let listed = commands(vec![("c-1", format!("graceful-drain {TOKEN}"), CommandStatus::Failed)]);
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
    let listed = commands(vec![("c-1", format!("graceful-drain {TOKEN}"), CommandStatus::Success)]);
    let aws = clients(&[&instance, &complete], &[&listed]);
    let error = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect_err("a throttled completion must be retried");
    assert_eq!(error.code(), Some("Throttling"));
    assert!(error.to_string().contains("completing lifecycle action (i-0123456789abcdef0)"), "{error}");
}
