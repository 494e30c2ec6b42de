//! The executor against SDK clients whose answers come from `aws-smithy-mocks` rules: which calls it makes, with
//! which arguments, and how it treats AWS's documented answers. A call no rule matches fails the test.

use aws_sdk_autoscaling::operation::complete_lifecycle_action::{
    CompleteLifecycleActionError, CompleteLifecycleActionOutput,
};
use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::operation::describe_auto_scaling_instances::DescribeAutoScalingInstancesOutput;
use aws_sdk_autoscaling::operation::describe_scaling_activities::DescribeScalingActivitiesOutput;
use aws_sdk_autoscaling::operation::describe_warm_pool::DescribeWarmPoolOutput;
use aws_sdk_autoscaling::operation::record_lifecycle_action_heartbeat::{
    RecordLifecycleActionHeartbeatError, RecordLifecycleActionHeartbeatOutput,
};
use aws_sdk_autoscaling::types::Activity;
use aws_sdk_autoscaling::types::{AutoScalingGroup, AutoScalingInstanceDetails, Instance, LifecycleState};
use aws_sdk_autoscaling::types::{WarmPoolConfiguration, WarmPoolState};
use aws_sdk_ssm::operation::cancel_command::CancelCommandError;
use aws_sdk_ssm::operation::delete_parameter::DeleteParameterOutput;
use aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationOutput;
use aws_sdk_ssm::operation::get_parameters_by_path::GetParametersByPathOutput;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::operation::put_parameter::{PutParameterError, PutParameterOutput};
use aws_sdk_ssm::operation::send_command::{SendCommandError, SendCommandOutput};
use aws_sdk_ssm::types::{
    Command, CommandFilterKey, CommandStatus, InstanceInformation, NotificationEvent, NotificationType, Parameter,
    ParameterTier, PingStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use drain_contract::HandlerConfig;
use graceful_handler::aws_error::HandlerError;
use graceful_handler::execute::handle;
use graceful_handler::observe::Aws;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const INSTANCE: &str = "i-0123456789abcdef0";
const COMMAND_IN_FIXTURE: &str = "a8c7e76f-15f1-4c33-9052-0123456789ab";
const TOKEN: &str = "87654321-4321-4321-4321-210987654321";
/// The instance's first drain lock (`<lock path of the document>/<instance>/<generation>`).
const LOCK: &str = "/graceful/ci-drain/drain-locks/i-0123456789abcdef0/1";

fn config() -> HandlerConfig {
    HandlerConfig {
        document_parameters: [("deadlineSeconds".to_string(), vec!["3300".to_string()])].into(),
        command_log_group_name: Some("/graceful/ci/drain".into()),
        ..HandlerConfig::example()
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
    instance_in("Terminating:Wait")
}

/// `DescribeAutoScalingInstances` of the instance, answering it in group `ci-a` and lifecycle state `state`.
fn instance_in(state: &'static str) -> Rule {
    mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_instances)
        .match_requests(|request| request.instance_ids() == [INSTANCE.to_string()])
        .then_output(move || {
            DescribeAutoScalingInstancesOutput::builder()
                .auto_scaling_instances(
                    AutoScalingInstanceDetails::builder()
                        .instance_id(INSTANCE)
                        .auto_scaling_group_name("ci-a")
                        .lifecycle_state(state)
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

/// `PutParameter` of the instance's first drain lock, created only if absent, that AWS deletes by itself.
fn lock_request(request: &aws_sdk_ssm::operation::put_parameter::PutParameterInput) -> bool {
    request.name() == Some(LOCK)
        && request.overwrite() == Some(false)
        && request.tier() == Some(&ParameterTier::Advanced)
        && request.policies().is_some_and(|p| p.contains("\"Expiration\""))
        && request.value() == Some(&format!("graceful-drain {TOKEN}"))
}

fn lock_taken() -> Rule {
    mock!(aws_sdk_ssm::Client::put_parameter)
        .match_requests(lock_request)
        .then_output(|| PutParameterOutput::builder().version(1).build())
}

/// Another sender created the lock first: AWS answers `ParameterAlreadyExists`.
fn lock_held() -> Rule {
    mock!(aws_sdk_ssm::Client::put_parameter).match_requests(lock_request).then_error(|| {
        PutParameterError::ParameterAlreadyExists(
            aws_sdk_ssm::types::error::ParameterAlreadyExists::builder()
                .message("The parameter already exists.")
                .build(),
        )
    })
}

/// `RecordLifecycleActionHeartbeat` of our hook on the instance, the look before a drain: `open` answers that our
/// action is active; otherwise AWS's "No active Lifecycle Action" (another hook may still hold the instance).
fn our_hook(open: bool) -> Rule {
    let heartbeat = mock!(aws_sdk_autoscaling::Client::record_lifecycle_action_heartbeat).match_requests(|request| {
        request.auto_scaling_group_name() == Some("ci-a")
            && request.lifecycle_hook_name() == Some("ci-drain")
            && request.instance_id() == Some(INSTANCE)
    });
    if open {
        return heartbeat.then_output(|| RecordLifecycleActionHeartbeatOutput::builder().build());
    }
    heartbeat.then_error(|| {
        RecordLifecycleActionHeartbeatError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message(format!("No active Lifecycle Action found with instance ID {INSTANCE}"))
                .build(),
        )
    })
}

/// `DeleteParameter` of the instance's first drain lock.
fn lock_released() -> Rule {
    mock!(aws_sdk_ssm::Client::delete_parameter)
        .match_requests(|request| request.name() == Some(LOCK))
        .then_output(|| DeleteParameterOutput::builder().build())
}

/// `GetParametersByPath` of the instance's locks, answering none.
fn no_lock_listed() -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameters_by_path)
        .match_requests(|request| request.path() == Some("/graceful/ci-drain/drain-locks/i-0123456789abcdef0"))
        .then_output(|| GetParametersByPathOutput::builder().build())
}

/// `GetParametersByPath` of the instance's locks, answering generation 1 taken `age` seconds ago.
fn lock_listed(age: i64) -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameters_by_path)
        .match_requests(|request| request.path() == Some("/graceful/ci-drain/drain-locks/i-0123456789abcdef0"))
        .then_output(move || {
            GetParametersByPathOutput::builder()
                .parameters(
                    Parameter::builder()
                        .name(LOCK)
                        .value(format!("graceful-drain {TOKEN}"))
                        .last_modified_date(aws_smithy_types::DateTime::from_secs(epoch_now() - age))
                        .build(),
                )
                .build()
        })
}

fn agent_is(status: PingStatus) -> Rule {
    mock!(aws_sdk_ssm::Client::describe_instance_information).then_output(move || {
        DescribeInstanceInformationOutput::builder()
            .instance_information_list(
                InstanceInformation::builder().instance_id(INSTANCE).ping_status(status.clone()).build(),
            )
            .build()
    })
}

/// The tick's view of group `ci-a`: the instance waiting, another in service.
fn group_with_waiting_instance() -> Rule {
    mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups)
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
        })
}

/// A termination activity of the instance that began `age` seconds ago.
fn termination_activity(age: i64) -> Activity {
    Activity::builder()
        .activity_id("a-term")
        .auto_scaling_group_name("ci-a")
        .cause("a user request update of AutoScalingGroup constraints")
        .description(format!("Terminating EC2 instance: {INSTANCE}"))
        .start_time(aws_smithy_types::DateTime::from_secs(epoch_now() - age))
        .status_code("InProgress".into())
        .build()
}

fn launch_activity(n: usize) -> Activity {
    Activity::builder()
        .activity_id(format!("a-launch-{n}"))
        .auto_scaling_group_name("ci-a")
        .cause("an instance was started in response to a difference between desired and actual capacity")
        .description(format!("Launching a new EC2 instance: i-{n:017x}"))
        .start_time(aws_smithy_types::DateTime::from_secs(epoch_now() - 10))
        .status_code("Successful".into())
        .build()
}

/// The notification is not proof the instance still waits: its state is read first, then our hook is asked
/// whether its action is still active (a heartbeat: `Terminating:Wait` may be another hook's), then the lock is
/// taken and the drain sent. Four calls; with the `Success` notification's two, six per drain.
#[tokio::test]
async fn lifecycle_event_looks_then_locks_then_sends_one_keyed_drain_command() {
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
    let (instance, hook, lock) = (waiting_instance(), our_hook(true), lock_taken());
    // No listing rule and no agent rule: any other call fails the test.
    let aws = clients(&[&instance, &hook], &[&lock, &send]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("sent c-new\""), "{summary}");
    assert_eq!((instance.num_calls(), hook.num_calls(), lock.num_calls(), send.num_calls()), (1, 1, 1, 1));
}

/// Another team's terminate hook on the group keeps the instance in `Terminating:Wait` after our action ended (here
/// a redelivered notification arrives after it): our hook answers "No active Lifecycle Action", so no lock is taken
/// and no drain sent. A call no rule matches (PutParameter, SendCommand) would fail the test.
#[tokio::test]
async fn no_drain_goes_to_an_instance_only_another_hook_still_holds() {
    let (instance, hook) = (waiting_instance(), our_hook(false));
    let aws = clients(&[&instance, &hook], &[]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("not sent: the managed hook's lifecycle action is over"), "{summary}");
    assert_eq!((instance.num_calls(), hook.num_calls()), (1, 1));
}

/// A stale or redelivered notification for an instance that no longer waits (here back in service) sends nothing.
#[tokio::test]
async fn a_stale_notification_for_an_in_service_instance_sends_no_command() {
    let instance = instance_in("InService");
    let (lock, send) = (lock_taken(), sent(drain_command("c-new", CommandStatus::Pending, epoch_now())));
    let aws = clients(&[&instance], &[&lock, &send]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("done: the instance is not held by a terminate hook"), "{summary}");
    assert_eq!((lock.num_calls(), send.num_calls()), (0, 0), "no lock, no command: {summary}");
}

/// A stopped warm pool instance terminated out of the pool is not in `DescribeAutoScalingInstances` but in its
/// group's `DescribeWarmPool`: nothing runs on it, so its action is completed at once, with no SSM call.
#[tokio::test]
async fn a_stopped_warm_pool_instance_leaving_the_pool_is_completed_at_once() {
    let not_in_group = mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_instances)
        .then_output(|| DescribeAutoScalingInstancesOutput::builder().build());
    let pool = mock!(aws_sdk_autoscaling::Client::describe_warm_pool)
        .match_requests(|request| request.auto_scaling_group_name() == Some("ci-a"))
        .then_output(|| {
            DescribeWarmPoolOutput::builder()
                .warm_pool_configuration(WarmPoolConfiguration::builder().pool_state(WarmPoolState::Stopped).build())
                .instances(
                    Instance::builder()
                        .instance_id(INSTANCE)
                        .lifecycle_state(LifecycleState::WarmedTerminatingWait)
                        .availability_zone("us-east-1a")
                        .health_status("Healthy")
                        .protected_from_scale_in(false)
                        .build(),
                )
                .build()
        });
    let complete = complete_rule("CONTINUE").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&not_in_group, &pool, &complete], &[]);

    let summary = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect("handled");
    assert!(summary_text(&summary).contains("complete CONTINUE (nothing_to_drain)"), "{summary}");
    assert_eq!((pool.num_calls(), complete.num_calls()), (1, 1));
}

/// Exactly one drain per action while `ListCommands` lags: a second delivery (or a tick) finds the lock taken and
/// the listing still empty, and sends nothing.
#[tokio::test]
async fn a_second_delivery_while_the_listing_lags_sends_no_second_drain() {
    let (instance, hook, lock) = (waiting_instance(), our_hook(true), lock_held());
    let (listed, locks, online) = (commands(vec![]), lock_listed(2), agent_is(PingStatus::Online));
    let send = sent(drain_command("c-second", CommandStatus::Pending, epoch_now()));
    let aws = clients(&[&instance, &hook], &[&lock, &listed, &locks, &online, &send]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    let text = summary_text(&summary);
    assert!(text.contains("not sent: a drain of this action was started already"), "{summary}");
    assert!(text.contains("wait: a drain of this action is being started"), "{summary}");
    assert_eq!(send.num_calls(), 0, "{summary}");
}

/// A redelivery after the drain succeeded (its completion was lost or throttled) completes the action at once.
#[tokio::test]
async fn a_redelivered_notification_after_a_successful_drain_completes_it() {
    let (instance, hook, lock) = (waiting_instance(), our_hook(true), lock_held());
    let listed = commands(vec![drain_command("c-1", CommandStatus::Success, epoch_now() - 300)]);
    let send = sent(drain_command("c-2", CommandStatus::Pending, epoch_now()));
    let complete = complete_rule("CONTINUE").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&instance, &hook, &complete], &[&lock, &listed, &send]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("complete CONTINUE (drained)"), "{summary}");
    assert_eq!((send.num_calls(), complete.num_calls()), (0, 1));
}

/// `InvalidInstanceId` is ambiguous, so the instance is then read in full; the fixture's action began hours ago,
/// past the agent wait, so the failure policy applies. The refused send created no command, so its lock is
/// released: a lock left standing would read as a drain sent and not listed yet, and hold the ending off.
#[tokio::test]
async fn an_instance_ssm_cannot_reach_is_completed_with_the_failure_policy_after_the_agent_wait() {
    let refused = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
        SendCommandError::InvalidInstanceId(
            aws_sdk_ssm::types::error::InvalidInstanceId::builder()
                .message("Instances not in a valid state for account")
                .build(),
        )
    });
    let (instance, hook, lock, listed) = (waiting_instance(), our_hook(true), lock_taken(), commands(vec![]));
    let (release, locks, offline) = (lock_released(), no_lock_listed(), agent_is(PingStatus::ConnectionLost));
    let complete = complete_rule("ABANDON").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&instance, &hook, &complete], &[&lock, &refused, &release, &listed, &locks, &offline]);

    let summary =
        handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("complete ABANDON (agent_unreachable)"), "{summary}");
    assert_eq!((refused.num_calls(), release.num_calls(), offline.num_calls(), complete.num_calls()), (1, 1, 1, 1));
}

/// IAM refusing `SendCommand` is a permission problem, reported as its own error, not as an unreachable agent.
#[tokio::test]
async fn send_command_refused_by_iam_is_its_own_error_not_an_unreachable_agent() {
    let denied = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
        SendCommandError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:sts::123456789012:assumed-role/ci-handler/ci-drain-handler is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0")
                .build(),
        )
    });
    let (instance, hook, lock) = (waiting_instance(), our_hook(true), lock_taken());
    let aws = clients(&[&instance, &hook], &[&lock, &denied]);

    let error = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect_err("a refused send is an error");
    assert!(matches!(&error, HandlerError::SendRefused { instance_id, .. } if instance_id == INSTANCE), "{error}");
    assert!(error.to_string().contains("refused it with AccessDenied"), "{error}");
    assert!(!error.to_string().contains("not reachable"), "{error}");
}

/// A throttled `SendCommand` created no command, so the lock it took is deleted: the next delivery or tick sends at
/// once instead of waiting for the lock to go stale. The invocation still fails, so Lambda retries it.
#[tokio::test]
async fn a_throttled_send_releases_its_lock_and_fails_the_invocation() {
    let throttled = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
        SendCommandError::generic(ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build())
    });
    let (instance, hook, lock, release) = (waiting_instance(), our_hook(true), lock_taken(), lock_released());
    let aws = clients(&[&instance, &hook], &[&lock, &throttled, &release]);

    let error = handle(&aws, &config(), &fixture("sns-lifecycle-terminating.json"), Duration::from_secs(20))
        .await
        .expect_err("a throttled send is retried");
    assert_eq!(error.code(), Some("ThrottlingException"), "{error}");
    assert!(throttled.num_calls() >= 1);
    assert_eq!(release.num_calls(), 1, "the lock of a refused send is released");
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

/// A `Cancelled` notification may be an earlier duplicate's: the listing decides, and the standing drain goes on.
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
    let groups = group_with_waiting_instance();
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

/// Over budget, a cancel that fails (the command ended meanwhile, throttling) must not keep the action from
/// being completed.
#[tokio::test]
async fn a_failed_cancel_of_an_overrun_drain_still_completes_the_action() {
    let groups = group_with_waiting_instance();
    let instance = waiting_instance();
    let overrun = drain_command("c-1", CommandStatus::InProgress, epoch_now() - 3600 - 121);
    let listed = commands(vec![overrun]);
    let cancel = mock!(aws_sdk_ssm::Client::cancel_command).then_error(|| {
        CancelCommandError::InvalidCommandId(aws_sdk_ssm::types::error::InvalidCommandId::builder().build())
    });
    let complete = complete_rule("ABANDON").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&groups, &instance, &complete], &[&listed, &cancel]);

    let summary =
        handle(&aws, &config(), &fixture("eventbridge-scheduled.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("complete ABANDON (budget_exceeded)"), "{summary}");
    assert_eq!((cancel.num_calls(), complete.num_calls()), (1, 1));
}

/// A drain that started late (the agent came online near the end of its wait) is kept alive by the hook's clock,
/// which started at `Terminating:Wait`: the tick reads the wait's start and sends the heartbeat in time, although
/// the command itself is young.
#[tokio::test]
async fn heartbeats_follow_the_hooks_clock_from_the_start_of_the_wait() {
    let config = HandlerConfig { drain_timeout_seconds: 7200, heartbeat_timeout_seconds: 600, ..config() };
    let groups = group_with_waiting_instance();
    let instance = waiting_instance();
    let listed = commands(vec![drain_command("c-1", CommandStatus::InProgress, epoch_now() - 150)]);
    let activities = mock!(aws_sdk_autoscaling::Client::describe_scaling_activities)
        .match_requests(|request| request.auto_scaling_group_name() == Some("ci-a"))
        .then_output(|| DescribeScalingActivitiesOutput::builder().activities(termination_activity(450)).build());
    let heartbeat = mock!(aws_sdk_autoscaling::Client::record_lifecycle_action_heartbeat)
        .match_requests(|request| {
            request.auto_scaling_group_name() == Some("ci-a")
                && request.lifecycle_hook_name() == Some("ci-drain")
                && request.instance_id() == Some(INSTANCE)
        })
        .then_output(|| RecordLifecycleActionHeartbeatOutput::builder().build());
    let aws = clients(&[&groups, &instance, &activities, &heartbeat], &[&listed]);

    let summary = handle(&aws, &config, &fixture("eventbridge-scheduled.json"), Duration::from_secs(20)).await.unwrap();
    assert!(summary_text(&summary).contains("\"heartbeat\""), "{summary}");
    assert_eq!(heartbeat.num_calls(), 1);
}

/// The wait's start of an unreachable instance is found past the first page of activities (a mass scale-in
/// fills pages with launches and other terminations).
#[tokio::test]
async fn the_wait_start_is_found_beyond_the_first_page_of_scaling_activities() {
    let groups = group_with_waiting_instance();
    let instance = waiting_instance();
    // A stale lock: a fresh one would stand for a drain that may be sent and not listed yet.
    let (listed, locks, offline) = (commands(vec![]), lock_listed(200), agent_is(PingStatus::ConnectionLost));
    let first_page = mock!(aws_sdk_autoscaling::Client::describe_scaling_activities)
        .match_requests(|request| request.next_token().is_none() && request.max_records() == Some(100))
        .then_output(|| {
            DescribeScalingActivitiesOutput::builder()
                .set_activities(Some((0..100).map(launch_activity).collect()))
                .next_token("page-2")
                .build()
        });
    let second_page = mock!(aws_sdk_autoscaling::Client::describe_scaling_activities)
        .match_requests(|request| request.next_token() == Some("page-2"))
        .then_output(|| DescribeScalingActivitiesOutput::builder().activities(termination_activity(400)).build());
    let complete = complete_rule("ABANDON").then_output(|| CompleteLifecycleActionOutput::builder().build());
    let aws = clients(&[&groups, &instance, &first_page, &second_page, &complete], &[&listed, &locks, &offline]);

    let summary =
        handle(&aws, &config(), &fixture("eventbridge-scheduled.json"), Duration::from_secs(20)).await.unwrap();
    // Waited 400 s > the 300 s agent wait; the lock alone (200 s) would say "keep waiting".
    assert!(summary_text(&summary).contains("complete ABANDON (agent_unreachable)"), "{summary}");
    assert_eq!(second_page.num_calls(), 1);
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
