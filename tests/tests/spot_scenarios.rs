//! Spot interruptions, end to end: EC2 announces the interruption two minutes ahead on EventBridge, a lifecycle hook
//! cannot hold it, and without Capacity Rebalancing Auto Scaling takes the instance out only after it is gone (the
//! emulator's spot_interruptions.py cites the pages). With a `spot` block the real handler drains at the notice, with
//! the notice's deadline, and the terminate hook that follows finds that drain instead of starting another.

mod support;

use serde_json::json;
use std::time::Duration;
use support::drain::{Ledger, Resource, Scenario, seq};

const MINUTE: Duration = Duration::from_secs(60);
const SPOT_BLOCK: &str = "  spot {\n    deadline = \"10s\"\n  }\n";

fn interrupt(world: &Scenario, instance: &str, reclaim_after_seconds: u64) {
    let answered = world
        .emulator
        .control(
            "spot_interruption",
            &json!({"instance_ids": [instance], "reclaim_after_seconds": reclaim_after_seconds}),
        )
        .expect("a Spot interruption notice");
    assert_eq!(answered["notices"][0]["delivered_to"].as_array().map(Vec::len), Some(1), "{answered}");
}

fn interrupted<'a>(ledger: &'a Ledger, instance: &str) -> Option<&'a serde_json::Value> {
    ledger.of_kind("spot-interrupted").find(|e| e["instance_id"] == instance)
}

#[test]
fn spot_interruption_drains_at_the_notice_and_the_later_hook_takes_that_drain() {
    let resource = Resource { extra: SPOT_BLOCK, ..Resource::new("sp", &["sp-g"]) };
    let world = Scenario::apply(1.0, 3.0, &[("sp-g", 2)], &[resource]);
    let instance = world.aws.instance_states("sp-g").into_keys().next().unwrap();
    interrupt(&world, &instance, 60);
    let ledger = world.wait_terminated(std::slice::from_ref(&instance), 3 * MINUTE);
    let context = || ledger.summary();

    // One drain, sent at the notice while the instance still served, with the notice's deadline.
    let commands = ledger.commands(&instance);
    assert_eq!(commands.len(), 1, "exactly one drain command:\n{}", context());
    assert_eq!(commands[0]["parameters"]["deadlineSeconds"], json!(["10"]), "{}", commands[0]);
    let reclaimed = interrupted(&ledger, &instance).expect("EC2 interrupted the instance");
    assert_eq!(reclaimed["lifecycle_state"], "InService", "no hook held it before the reclaim:\n{}", context());
    let end = ledger.drain_end(&instance).expect("the drain ended");
    assert!(seq(commands[0]) < seq(end) && seq(end) < seq(reclaimed), "drained before the reclaim:\n{}", context());
    // The hook that came after the reclaim found the drain and completed once, with its result.
    let hook_started = ledger.started_waiting(&instance).expect("the group took the instance out through its hook");
    assert!(seq(hook_started) > seq(reclaimed), "{}", context());
    ledger.assert_drained(&instance, "Success", "CONTINUE");
}

#[test]
fn spot_interruption_of_an_instance_outside_the_managed_groups_starts_no_drain() {
    let resource = Resource { extra: SPOT_BLOCK, ..Resource::new("so", &["so-g"]) };
    let world = Scenario::apply(1.0, 3.0, &[("so-g", 1), ("other-g", 1)], &[resource]);
    let outsider = world.aws.instance_states("other-g").into_keys().next().unwrap();
    interrupt(&world, &outsider, 5);
    let ledger = world.wait_until(MINUTE, "the notice handled and the instance interrupted", |ledger| {
        interrupted(ledger, &outsider).is_some()
            && ledger
                .of_kind("lambda-invocation-finished")
                .any(|e| e["detail"].as_str().is_some_and(|d| d.contains("spot_interruption") && d.contains(&outsider)))
    });
    let handled = ledger
        .of_kind("lambda-invocation-finished")
        .find(|e| e["detail"].as_str().is_some_and(|d| d.contains("spot_interruption")))
        .unwrap();
    assert!(
        handled["detail"].as_str().unwrap().contains("not managed by this resource"),
        "{handled}\n{}",
        ledger.summary()
    );
    assert!(ledger.commands(&outsider).is_empty(), "no drain for another group's instance:\n{}", ledger.summary());
}
