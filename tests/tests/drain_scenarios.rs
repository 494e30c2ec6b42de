//! End-to-end drain scenarios: a real `terraform apply` of `graceful_shutdown_asg` (x86_64 handler), the real
//! handler binary as the Lambda, emulated AWS. Each scenario scales groups in and checks, from the emulator's event
//! log, every instance's final state, exactly one `CompleteLifecycleAction` with the right result, and that no
//! instance left before its drain ended.
//!
//! Timing: the emulator's clock scale speeds up hook timeouts, the reconcile schedule and Lambda retry delays; drain
//! scripts and the handler's own budget arithmetic run in real seconds (the smallest real budget is 1 minute).

mod support;

use acceptance::emulator::is_drain_enable;
use serde_json::{Value as Json, json};
use std::time::Duration;
use support::drain::{Ledger, Resource, Scenario, seconds_between};

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn happy_path_two_groups_in_one_resource() {
    let world = Scenario::apply(1.0, 2.0, &[("hp-a", 3), ("hp-b", 2)], &[Resource::new("hp", &["hp-a", "hp-b"])]);
    let mut draining = world.scale_in("hp-a", 1);
    draining.extend(world.scale_in("hp-b", 1));
    assert_eq!(draining.len(), 3);
    let ledger = world.wait_terminated(&draining, MINUTE);
    for instance in &draining {
        ledger.assert_drained(instance, "Success", "CONTINUE");
    }
    assert_eq!(world.calls("autoscaling:CompleteLifecycleAction"), 3, "one Complete call per instance");
    for group in ["hp-a", "hp-b"] {
        let left: Vec<String> = world.aws.instance_states(group).into_values().collect();
        assert_eq!(left, ["InService"], "{group} keeps one instance in service");
    }
}

#[test]
fn drain_longer_than_the_heartbeat_timeout_is_kept_alive_by_heartbeats() {
    // Clock x15: the 120 s hook times out after 8 s real, the reconcile tick comes every 4 s real; the drain takes
    // 14 s real, so without heartbeats the hook would expire with its default result.
    const SCALE: f64 = 15.0;
    let resource = Resource { heartbeat_timeout: Some(120), ..Resource::new("hb", &["hb-g"]) };
    let world = Scenario::apply(SCALE, 14.0, &[("hb-g", 2)], &[resource]);
    let draining = world.scale_in("hb-g", 1);
    let ledger = world.wait_terminated(&draining, MINUTE);
    let instance = &draining[0];
    ledger.assert_drained(instance, "Success", "CONTINUE");
    assert!(ledger.heartbeats(instance) >= 1, "no heartbeat:\n{}", ledger.summary());
    let waited = seconds_between(ledger.started_waiting(instance).unwrap(), ledger.completions(instance)[0]);
    assert!(waited > 120.0 / SCALE, "the wait ({waited:.1} s real) must outlast one heartbeat timeout");
}

#[test]
fn failed_drain_completes_with_continue_or_abandon_per_resource() {
    let continue_on = Resource { on_failure: "continue", ..Resource::new("fc", &["fc-g"]) };
    let abandon_on = Resource { on_failure: "abandon", ..Resource::new("fa", &["fa-g"]) };
    let world = Scenario::apply(1.0, 1.0, &[("fc-g", 2), ("fa-g", 2)], &[continue_on, abandon_on]);
    world.emulator.control("nomad", &json!({"drain_seconds": 1, "fail": true})).expect("failing drains");
    let continued = world.scale_in("fc-g", 1);
    let abandoned = world.scale_in("fa-g", 1);
    let ledger = world.wait_terminated(&[continued.clone(), abandoned.clone()].concat(), MINUTE);
    ledger.assert_drained(&continued[0], "Failed", "CONTINUE");
    ledger.assert_drained(&abandoned[0], "Failed", "ABANDON");
    assert_eq!(world.aws.instance_states("fa-g").into_values().collect::<Vec<_>>(), ["InService"]);
}

#[test]
fn drain_over_budget_times_out_and_completes_with_the_failure_policy() {
    // The smallest budget AWS-side timings allow is 1 minute, and the SSM execution timeout is real time.
    let resource = Resource { on_failure: "abandon", ..Resource::new("ob", &["ob-g"]) };
    let world = Scenario::apply(1.0, 600.0, &[("ob-g", 2)], &[resource]);
    let draining = world.scale_in("ob-g", 1);
    let ledger = world.wait_terminated(&draining, 2 * MINUTE);
    let instance = &draining[0];
    // The script gives `nomad node drain` the derived deadline (45 s) and fails when it overruns; the SSM execution
    // timeout (60 s) would stop it otherwise. Either way it ends unsuccessfully within the budget.
    let end = ledger.drain_end(instance).expect("the drain ended");
    let status = end["status"].as_str().unwrap_or_default().to_string();
    assert!(matches!(status.as_str(), "Failed" | "TimedOut"), "{}", ledger.summary());
    ledger.assert_drained(instance, &status, "ABANDON");
    let ran = seconds_between(ledger.commands(instance)[0], end);
    assert!((44.0..=62.0).contains(&ran), "the drain was stopped after {ran:.1} s, expected within its 60 s budget");
}

#[test]
fn duplicate_lifecycle_notification_three_times_gives_one_command_and_one_completion() {
    let world = Scenario::apply(1.0, 3.0, &[("dup-g", 2)], &[Resource::new("dup", &["dup-g"])]);
    // The original notification is delivered twice at once, then published a third time while the drain runs.
    world.emulator.set_deliveries(&json!({"duplicate_next": 1})).expect("duplicating");
    let draining = world.scale_in("dup-g", 1);
    let instance = &draining[0];
    let ledger = world.wait_until(MINUTE, "the drain command", |l| !l.commands(instance).is_empty());
    let notice = ledger.of_kind("lifecycle-notification").find(|e| e["instance_id"] == *instance).unwrap().clone();
    let subject = format!("Auto Scaling:  Lifecycle action 'TERMINATING' for instance {instance} in progress.");
    world.aws.publish("dup-lifecycle", &subject, &notice["message"].to_string());
    let ledger = world.wait_terminated(&draining, MINUTE);
    let copies: u64 = ledger
        .of_kind("lambda-delivery")
        .filter(|d| d["event"].to_string().contains("LifecycleActionToken"))
        .map(|d| d["copies"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(copies, 3, "three deliveries of the lifecycle notification:\n{}", ledger.summary());
    ledger.assert_drained(instance, "Success", "CONTINUE");
    // A delivery sends first and then looks for an earlier command of the same action (SSM has no idempotency
    // token, and the look costs a call on every drain when made first): each later copy's command yields and is
    // cancelled by its sender; one drain runs.
    let sent = ledger.commands(instance).len();
    let cancelled = ledger.of_kind("command-cancelled").filter(|e| e["instance_id"] == *instance).count();
    assert_eq!(sent, 1 + cancelled, "every extra command is a cancelled duplicate:\n{}", ledger.summary());
    assert!(cancelled <= 2, "at most one duplicate per extra copy:\n{}", ledger.summary());
    // A duplicate whose script starts before its cancel lands follows the running drain: enabling it again would
    // restart its deadline.
    assert_eq!(drain_enables(&ledger, instance), 1, "the node's drain is enabled once:\n{}", ledger.summary());
}

#[test]
fn listing_lag_late_cancels_duplicates_and_a_crash_still_give_one_drain_per_action() {
    let world = Scenario::apply(1.0, 3.0, &[("lag-g", 3)], &[Resource::new("lag", &["lag-g"])]);
    // SSM lists a new command only 3 to 6 s after the send and cancels land 2 s late (emulator ssm_consistency.py,
    // from SendCommand's documented eventual consistency and CancelCommand's "no guarantee"); each notification is
    // delivered twice at once, and the first invocation is killed right after its SendCommand took effect.
    world
        .emulator
        .control("ssm_consistency", &json!({"list_lag_seconds": [3.0, 6.0], "cancel_delay_seconds": 2.0, "seed": 3}))
        .expect("lagging the listings");
    world.emulator.set_deliveries(&json!({"duplicate_next": 2})).expect("duplicating");
    world
        .emulator
        .set_deliveries(&json!({"kill_next": 1, "kill_on_call": "ssm:SendCommand"}))
        .expect("arming the kill");
    let draining = world.scale_in("lag-g", 1);
    let ledger = world.wait_terminated(&draining, 2 * MINUTE);
    assert!(ledger.of_kind("command-listed-late").count() >= 1, "no listing lagged:\n{}", ledger.summary());
    assert_eq!(ledger.of_kind("lambda-killed").count(), 1, "the first invocation is killed:\n{}", ledger.summary());
    for instance in &draining {
        ledger.assert_drained(instance, "Success", "CONTINUE");
        let enabled = drain_enables(&ledger, instance);
        assert_eq!(enabled, 1, "{instance}'s node drain is enabled once:\n{}", ledger.summary());
    }
    assert_eq!(world.aws.instance_states("lag-g").into_values().collect::<Vec<_>>(), ["InService"]);
}

#[test]
fn lost_command_status_notification_is_recovered_by_the_reconcile_tick() {
    // Clock x0.5: the automatic tick comes only 2 minutes after apply, so the test fires it itself.
    let world = Scenario::apply(0.5, 2.0, &[("lost-g", 2)], &[Resource::new("lost", &["lost-g"])]);
    let draining = world.scale_in("lost-g", 1);
    let instance = &draining[0];
    world.wait_until(MINUTE, "the drain command", |l| !l.commands(instance).is_empty());
    world.emulator.set_deliveries(&json!({"drop_next": 1000})).expect("dropping notifications");
    let ledger = world.wait_until(MINUTE, "the drain's end", |l| l.drain_end(instance).is_some());
    std::thread::sleep(Duration::from_secs(2));
    world.emulator.set_deliveries(&json!({"drop_next": 0})).expect("restoring deliveries");
    assert!(ledger.completions(instance).is_empty(), "completed without its notification:\n{}", ledger.summary());
    assert_eq!(world.aws.instance_states("lost-g")[instance], "Terminating:Wait", "nothing completes it yet");
    world.emulator.control("schedules/fire", &json!({"rule": "lost-reconcile"})).expect("firing the tick");
    let ledger = world.wait_terminated(&draining, MINUTE);
    ledger.assert_drained(instance, "Success", "CONTINUE");
    assert!(ledger.of_kind("schedule-fired").count() >= 1);
}

#[test]
fn handler_crash_mid_invocation_is_recovered() {
    let world = Scenario::apply(1.0, 2.0, &[("crash-g", 2)], &[Resource::new("crash", &["crash-g"])]);
    // Killed right after its SendCommand took effect, before it saw the answer: the redelivered notification sends
    // again, finds the first command, cancels its own, and the first drain is the one that completes.
    world
        .emulator
        .set_deliveries(&json!({"kill_next": 1, "kill_on_call": "ssm:SendCommand"}))
        .expect("arming the kill");
    let draining = world.scale_in("crash-g", 1);
    let ledger = world.wait_terminated(&draining, MINUTE);
    assert_eq!(ledger.of_kind("lambda-killed").count(), 1, "the first invocation is killed:\n{}", ledger.summary());
    let crashed = ledger.of_kind("lambda-invocation-finished").filter(|e| e["outcome"] == "crash").count();
    assert_eq!(crashed, 1, "the killed invocation ends as a crash:\n{}", ledger.summary());
    ledger.assert_drained(&draining[0], "Success", "CONTINUE");
    let first = &ledger.commands(&draining[0])[0]["command_id"];
    assert_eq!(&ledger.standing_commands(&draining[0])[0]["command_id"], first, "{}", ledger.summary());
}

#[test]
fn unreachable_agent_and_unmanaged_instance_wait_bounded_then_apply_the_policy() {
    // The handler waits min(5 min, budget) = 60 s real for the agent; the clock x10 brings ticks every 6 s real.
    // The hook's 7200 s heartbeat timeout (720 s real) cannot expire first.
    let resource =
        Resource { on_failure: "abandon", heartbeat_timeout: Some(7200), ..Resource::new("ag", &["ag-a", "ag-b"]) };
    let world = Scenario::apply(10.0, 1.0, &[("ag-a", 1), ("ag-b", 1)], &[resource]);
    let offline = world.aws.instance_states("ag-a").into_keys().next().unwrap();
    let unmanaged = world.aws.instance_states("ag-b").into_keys().next().unwrap();
    world.emulator.set_agent(&offline, "ConnectionLost", true).expect("agent offline");
    world.emulator.set_agent(&unmanaged, "Online", false).expect("not managed");
    world.scale_in("ag-a", 0);
    world.scale_in("ag-b", 0);
    let ledger = world.wait_terminated(&[offline.clone(), unmanaged.clone()], 2 * MINUTE);
    for instance in [&offline, &unmanaged] {
        let completions = ledger.completions(instance);
        assert_eq!(completions.len(), 1, "{instance}:\n{}", ledger.summary());
        assert_eq!(completions[0]["reason"], "CompleteLifecycleAction");
        assert_eq!(completions[0]["result"], "ABANDON");
        assert!(ledger.commands(instance).is_empty(), "no drain can be sent to {instance}");
        let waited = seconds_between(ledger.started_waiting(instance).unwrap(), completions[0]);
        assert!((59.0..100.0).contains(&waited), "{instance} waited {waited:.1} s, expected about 60 s");
    }
}

/// A second terminate hook on the group, another team's. With `on_failure = "continue"`, our hook's action ends
/// CONTINUE once the agent stayed unreachable past its wait, and the other hook keeps the instance in
/// `Terminating:Wait` ("CONTINUE allows any other lifecycle hooks to complete", User Guide). When the agent comes
/// back, no drain may go to an instance our hook no longer holds; it terminates when the other owner completes.
#[test]
fn an_instance_another_hook_still_holds_after_ours_ended_gets_no_late_drain() {
    let resource = Resource { on_failure: "continue", heartbeat_timeout: Some(7200), ..Resource::new("oh", &["oh-g"]) };
    let world = Scenario::apply(10.0, 1.0, &[("oh-g", 1)], &[resource]);
    world.aws.put_plain_hook("oh-g", OTHER_HOOK);
    let instance = world.aws.instance_states("oh-g").into_keys().next().unwrap();
    world.emulator.set_agent(&instance, "ConnectionLost", true).expect("agent offline");
    world.scale_in("oh-g", 0);
    let ours = |ledger: &Ledger| -> Vec<Json> {
        ledger.completions(&instance).into_iter().filter(|c| c["hook"] != OTHER_HOOK).cloned().collect()
    };
    let ledger = world.wait_until(2 * MINUTE, "our hook's action completed", |l| !ours(l).is_empty());
    let completed = ours(&ledger);
    assert_eq!(
        (&completed[0]["reason"], &completed[0]["result"]),
        (&json!("CompleteLifecycleAction"), &json!("CONTINUE"))
    );
    world.emulator.set_agent(&instance, "Online", true).expect("agent back");
    // At clock x10 the reconcile tick runs every 6 s real: let five invocations look at the instance.
    let invocations = ledger.of_kind("lambda-invocation-finished").count();
    let ledger = world.wait_until(2 * MINUTE, "five more invocations", |l| {
        l.of_kind("lambda-invocation-finished").count() >= invocations + 5
    });
    assert!(
        ledger.commands(&instance).is_empty(),
        "a drain went to {instance} after our action ended:\n{}",
        ledger.summary()
    );
    assert_eq!(ours(&ledger).len(), 1, "{}", ledger.summary());
    assert_eq!(world.aws.instance_states("oh-g")[&instance], "Terminating:Wait", "the other hook holds it");
    world.aws.complete_action("oh-g", OTHER_HOOK, &instance, "CONTINUE");
    world.wait_terminated(std::slice::from_ref(&instance), MINUTE);
}

const OTHER_HOOK: &str = "other-team-drain";

#[test]
fn throttling_a_fifth_of_auto_scaling_and_ssm_calls_gives_the_same_outcomes() {
    let resource = Resource { heartbeat_timeout: Some(7200), ..Resource::new("thr", &["thr-g"]) };
    let world = Scenario::apply(10.0, 2.0, &[("thr-g", 4)], &[resource]);
    let draining = world.scale_in("thr-g", 1);
    world
        .emulator
        .control("throttle", &json!({"fraction": 0.2, "service": ["autoscaling", "ssm"], "seed": 5}))
        .unwrap();
    let ledger = world.wait_terminated(&draining, 2 * MINUTE);
    world.emulator.throttle(0.0, None).expect("throttling off");
    let throttled =
        ledger.of_kind("fault-injected").filter(|e| e["code"].as_str().unwrap_or("").starts_with("Throttling")).count();
    assert!(throttled > 0, "no call was throttled:\n{}", ledger.summary());
    for instance in &draining {
        ledger.assert_drained(instance, "Success", "CONTINUE");
    }
    assert_eq!(world.aws.instance_states("thr-g").into_values().collect::<Vec<_>>(), ["InService"]);
}

#[test]
fn test_notification_and_another_resources_hook_event_are_ignored() {
    let world = Scenario::apply(1.0, 1.0, &[("ig-g", 1), ("ig-other", 1)], &[Resource::new("ig", &["ig-g"])]);
    // Apply's PutLifecycleHook sent a test notification; the handler must have answered it and done nothing.
    let ledger = world
        .wait_until(MINUTE, "the test notification handled", |l| l.of_kind("lambda-invocation-finished").count() >= 1);
    // Another owner's hook holds an instance of an unmanaged group; its event is published to our topic.
    world.aws.put_plain_hook("ig-other", "other-drain");
    let held = world.scale_in("ig-other", 0);
    let token = world.ledger().started_waiting(&held[0]).unwrap()["token"].clone();
    let foreign = json!({
        "Origin": "AutoScalingGroup", "Destination": "EC2", "Service": "AWS Auto Scaling", "AccountId": "123456789012",
        "AutoScalingGroupName": "ig-other", "LifecycleHookName": "other-drain", "EC2InstanceId": held[0],
        "LifecycleActionToken": token, "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
        "RequestId": "5f8a6d1e-0000-4000-8000-000000000001", "Time": "2026-01-01T00:00:00.000Z",
        "NotificationMetadata": "{\"graceful_shutdown_asg\":\"other\"}",
    });
    let test = json!({"Event": "autoscaling:TEST_NOTIFICATION", "AutoScalingGroupName": "ig-g", "Service": "AWS Auto Scaling",
        "AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/ig-g",
        "RequestId": "5f8a6d1e-0000-4000-8000-000000000002", "Time": "2026-01-01T00:00:00.000Z", "AccountId": "123456789012"});
    let before = ledger.of_kind("lambda-invocation-finished").count();
    world.aws.publish("ig-lifecycle", "Auto Scaling: test notification for group \"ig-g\"", &test.to_string());
    world.aws.publish("ig-lifecycle", "Auto Scaling:  Lifecycle action 'TERMINATING'", &foreign.to_string());
    let ledger = world.wait_until(MINUTE, "both deliveries handled", |l| {
        l.of_kind("lambda-invocation-finished").count() >= before + 2
    });
    for finished in ledger.of_kind("lambda-invocation-finished") {
        assert_eq!(finished["outcome"], "response", "the handler answers ignored events without error: {finished}");
    }
    assert_eq!(ledger.of_kind("command-sent").count(), 0, "nothing drained:\n{}", ledger.summary());
    assert!(ledger.completions(&held[0]).is_empty(), "another owner's action is not ours to complete");
    assert_eq!(world.aws.instance_states("ig-other")[&held[0]], "Terminating:Wait");
    assert_eq!(world.aws.instance_states("ig-g").into_values().collect::<Vec<_>>(), ["InService"]);
    assert_eq!(world.calls("autoscaling:CompleteLifecycleAction"), 0);
}

/// How many times the stand-in `nomad` was asked to enable the drain of `instance`'s node.
fn drain_enables(ledger: &Ledger, instance: &str) -> usize {
    ledger.of_kind("nomad-call").filter(|e| e["instance_id"] == instance && is_drain_enable(&e["argv"])).count()
}
