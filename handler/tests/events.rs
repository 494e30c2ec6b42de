//! Parser tests on real-shaped fixtures of every event kind. Each fixture must also deserialize into the
//! `aws_lambda_events` type for its envelope (so its shape is AWS's, not ours), and survive a round trip through it.

use aws_lambda_events::autoscaling::AutoScalingEvent;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use graceful_handler::event::{CommandStatusNotice, Event, LifecycleNotice, StatusScope, parse};
use serde_json::Value;

/// `requestedDateTime` of the status fixtures, 2026-11-25T21:00:01.125Z.
const REQUESTED_AT: u64 = 1_795_640_401;
const INSTANCE: &str = "i-0123456789abcdef0";
const COMMAND: &str = "a8c7e76f-15f1-4c33-9052-0123456789ab";
const TOKEN: &str = "87654321-4321-4321-4321-210987654321";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Parses the fixture, and again after a round trip through the official envelope type.
fn parse_both_ways(name: &str) -> Vec<Event> {
    let payload = fixture(name);
    let round_tripped: Value = if name.starts_with("sns-") {
        let typed: SnsEvent = serde_json::from_value(payload.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::to_value(typed).unwrap()
    } else if name.starts_with("eventbridge-lifecycle") {
        let typed: AutoScalingEvent = serde_json::from_value(payload.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::to_value(typed).unwrap()
    } else if name.starts_with("eventbridge-") {
        let typed: EventBridgeEvent = serde_json::from_value(payload.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::to_value(typed).unwrap()
    } else {
        payload.clone()
    };
    let events = parse(&payload);
    assert_eq!(parse(&round_tripped), events, "{name}: parsing differs after the round trip");
    events
}

fn lifecycle(time: &str) -> Event {
    Event::Lifecycle(LifecycleNotice {
        group: "ci-a".into(),
        hook: "ci-drain".into(),
        instance_id: INSTANCE.into(),
        token: TOKEN.into(),
        transition: "autoscaling:EC2_INSTANCE_TERMINATING".into(),
        metadata: Some(r#"{"graceful_shutdown_asg":"ci"}"#.into()),
        time: Some(time.into()),
    })
}

fn status(scope: StatusScope, status: &str) -> Event {
    Event::CommandStatus(CommandStatusNotice {
        scope,
        command_id: COMMAND.into(),
        document_name: "ci-drain".into(),
        instance_ids: vec![INSTANCE.into()],
        status: status.into(),
        requested_at: Some(REQUESTED_AT),
    })
}

fn foreign_reason(events: Vec<Event>) -> String {
    match events.as_slice() {
        [Event::Foreign { reason }] => reason.clone(),
        other => panic!("expected one foreign event, got {other:?}"),
    }
}

#[test]
fn lifecycle_terminating_over_sns() {
    assert_eq!(parse_both_ways("sns-lifecycle-terminating.json"), vec![lifecycle("2026-11-25T21:00:00.123Z")]);
}

#[test]
fn lifecycle_terminating_over_eventbridge_takes_the_envelope_time() {
    assert_eq!(parse_both_ways("eventbridge-lifecycle-terminating.json"), vec![lifecycle("2026-11-25T21:00:00Z")]);
}

#[test]
fn test_notification_is_recognised() {
    assert_eq!(parse_both_ways("sns-test-notification.json"), vec![Event::TestNotification { group: "ci-a".into() }]);
}

#[test]
fn command_and_invocation_status_over_sns_camel_case() {
    assert_eq!(parse_both_ways("sns-command-status.json"), vec![status(StatusScope::Command, "Success")]);
    assert_eq!(parse_both_ways("sns-invocation-status.json"), vec![status(StatusScope::Invocation, "Failed")]);
}

#[test]
fn command_and_invocation_status_over_eventbridge_kebab_case() {
    // A Command-scope event names its instances only in the envelope's `resources` (instance ARNs).
    assert_eq!(parse_both_ways("eventbridge-command-status.json"), vec![status(StatusScope::Command, "Success")]);
    assert_eq!(
        parse_both_ways("eventbridge-invocation-status.json"),
        vec![status(StatusScope::Invocation, "TimedOut")]
    );
}

#[test]
fn a_command_event_yields_every_instance_of_its_resources_and_skips_other_arns() {
    let mut payload = fixture("eventbridge-command-status.json");
    payload["resources"] = serde_json::json!([
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        "arn:aws:ssm:us-east-1:123456789012:document/ci-drain",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210",
    ]);
    let events: [Event; 1] = parse(&payload).try_into().expect("one event");
    let [Event::CommandStatus(notice)] = events else { panic!("expected a status notice, got {events:?}") };
    assert_eq!(notice.instance_ids, vec![INSTANCE.to_string(), "i-0fedcba9876543210".to_string()]);
}

#[test]
fn spot_interruption_warning() {
    assert_eq!(
        parse_both_ways("eventbridge-spot-interruption.json"),
        vec![Event::SpotInterruption { instance_id: INSTANCE.into(), action: "terminate".into() }]
    );
    let mut no_instance = fixture("eventbridge-spot-interruption.json");
    no_instance["detail"].as_object_mut().unwrap().remove("instance-id");
    assert!(foreign_reason(parse(&no_instance)).contains("malformed Spot interruption notice"));
}

#[test]
fn scheduled_tick() {
    assert_eq!(parse_both_ways("eventbridge-scheduled.json"), vec![Event::Tick]);
}

#[test]
fn every_record_of_an_sns_envelope_is_parsed() {
    assert_eq!(
        parse_both_ways("sns-several-records.json"),
        vec![
            lifecycle("2026-11-25T21:00:00.123Z"),
            Event::TestNotification { group: "ci-a".into() },
            status(StatusScope::Invocation, "Failed"),
        ]
    );
}

#[test]
fn foreign_and_malformed_inputs_become_foreign_events_with_a_reason() {
    assert!(foreign_reason(parse_both_ways("sns-lifecycle-launching.json")).contains("EC2_INSTANCE_LAUNCHING"));
    assert!(foreign_reason(parse_both_ways("sns-message-not-json.json")).contains("not JSON"));
    assert!(foreign_reason(parse_both_ways("eventbridge-ec2-state-change.json")).contains("\"aws.ec2\""));
    assert!(foreign_reason(parse_both_ways("garbage.json")).contains("neither an SNS envelope"));
    for (payload, needle) in [
        (serde_json::json!(null), "neither"),
        (serde_json::json!("a string"), "neither"),
        (serde_json::json!({"Records": 5}), "not an array"),
        (serde_json::json!({"Records": []}), "empty"),
        (serde_json::json!({"Records": [{"EventSource": "aws:sqs", "body": "{}"}]}), "aws:sqs"),
        (serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}), "no Sns.Message"),
        (
            serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{\"LifecycleTransition\": 7}"}}]}),
            "malformed lifecycle notification",
        ),
        (
            serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{\"commandId\": \"c\", \"documentName\": \"d\", \"status\": \"Success\"}"}}]}),
            "without instanceId",
        ),
        (serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events.fake"}), "not one of ours"),
    ] {
        let reason = foreign_reason(parse(&payload));
        assert!(reason.contains(needle), "{payload}: {reason:?} should mention {needle:?}");
    }
}

#[test]
fn lifecycle_notice_round_trips_through_its_aws_field_names() {
    let Event::Lifecycle(notice) = lifecycle("2026-11-25T21:00:00Z") else { unreachable!() };
    let json = serde_json::to_value(&notice).unwrap();
    assert_eq!(json["EC2InstanceId"], INSTANCE);
    assert_eq!(json["LifecycleActionToken"], TOKEN);
    assert_eq!(serde_json::from_value::<LifecycleNotice>(json).unwrap(), notice);
}
