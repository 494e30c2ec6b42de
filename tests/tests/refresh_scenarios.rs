//! Instance refresh, maximum instance lifetime, Capacity Rebalancing and Availability Zone rebalancing, end to end:
//! each replaces instances through the group's TERMINATING hooks (Amazon EC2 Auto Scaling User Guide: "Use an
//! instance refresh to update instances", "Replace Auto Scaling instances based on maximum instance lifetime",
//! "Capacity Rebalancing", "Rebalancing activities"; the emulator's refresh.py, rebalance.py and az_rebalance.py
//! follow those pages). The real handler must drain every old instance before it terminates, batch after batch.

mod support;

use aws_sdk_autoscaling::types::RefreshPreferences;
use serde_json::json;
use std::time::Duration;
use support::drain::{Resource, Scenario, seq};

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn instance_refresh_wave_drains_every_old_instance_before_it_terminates() {
    let world = Scenario::apply(1.0, 3.0, &[("ir-g", 3)], &[Resource::new("ir", &["ir-g"])]);
    let old: Vec<String> = world.aws.instance_states("ir-g").into_keys().collect();
    world.aws.runtime.block_on(async {
        world
            .aws
            .autoscaling
            .start_instance_refresh()
            .auto_scaling_group_name("ir-g")
            // 3 instances, at least 66 % healthy: batches of one, so the wave takes three drains in a row.
            .preferences(RefreshPreferences::builder().min_healthy_percentage(66).instance_warmup(0).build())
            .send()
            .await
            .expect("starting the instance refresh");
    });
    let ledger = world.wait_until(3 * MINUTE, "the refresh successful", |l| {
        l.of_kind("instance-refresh").any(|e| e["status"] == "Successful")
    });
    for instance in &old {
        ledger.assert_drained(instance, "Success", "CONTINUE");
    }
    // One batch at a time: each batch starts only after the previous batch's old instance terminated.
    let batches: Vec<_> = ledger.of_kind("instance-refresh-batch").collect();
    assert_eq!(batches.len(), 3, "three batches of one:\n{}", ledger.summary());
    for pair in batches.windows(2) {
        let previous = pair[0]["old"][0].as_str().unwrap();
        let gone = ledger.terminated(previous).expect("the previous batch's instance terminated");
        assert!(seq(pair[1]) > seq(gone), "a batch started before the previous drain ended:\n{}", ledger.summary());
    }
    let now: Vec<String> = world.aws.instance_states("ir-g").into_keys().collect();
    assert_eq!(now.len(), 3, "capacity kept");
    assert!(now.iter().all(|i| !old.contains(i)), "every instance replaced: {now:?}");
}

#[test]
fn max_instance_lifetime_expiry_drains_the_old_instance_before_it_terminates() {
    let world = Scenario::apply(1.0, 3.0, &[("ml-g", 2)], &[Resource::new("ml", &["ml-g"])]);
    world.aws.runtime.block_on(async {
        world
            .aws
            .autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name("ml-g")
            .max_instance_lifetime(86_400)
            .send()
            .await
            .expect("setting the maximum instance lifetime");
    });
    let expired = world.aws.instance_states("ml-g").into_keys().next().unwrap();
    world
        .emulator
        .control("instance_lifetime", &json!({"group": "ml-g", "instance_ids": [expired]}))
        .expect("expiring the instance");
    let ledger = world.wait_terminated(std::slice::from_ref(&expired), MINUTE);
    ledger.assert_drained(&expired, "Success", "CONTINUE");
    let states = world.aws.instance_states("ml-g");
    assert_eq!(states.len(), 2, "the replacement keeps the capacity: {states:?}");
    assert!(!states.contains_key(&expired));
}

#[test]
fn capacity_rebalance_drains_the_at_risk_instance_after_its_replacement_launched() {
    let world = Scenario::apply(1.0, 3.0, &[("cr-g", 2)], &[Resource::new("cr", &["cr-g"])]);
    world.aws.runtime.block_on(async {
        world
            .aws
            .autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name("cr-g")
            .capacity_rebalance(true)
            .send()
            .await
            .expect("turning Capacity Rebalancing on");
    });
    let at_risk = world.aws.instance_states("cr-g").into_keys().next().unwrap();
    let answered = world
        .emulator
        .control("rebalance_recommendation", &json!({"group": "cr-g", "instance_ids": [at_risk]}))
        .expect("a rebalance recommendation");
    let replacement = answered["replacements"][0].as_str().expect("a replacement").to_string();
    let ledger = world.wait_terminated(std::slice::from_ref(&at_risk), MINUTE);
    ledger.assert_drained(&at_risk, "Success", "CONTINUE");
    let states = world.aws.instance_states("cr-g");
    assert_eq!(states.get(&replacement).map(String::as_str), Some("InService"), "{states:?}");
    assert_eq!(states.len(), 2, "capacity kept: {states:?}");
}

#[test]
fn az_rebalancing_drains_the_instance_it_moves_after_its_replacement_launched() {
    let world = Scenario::apply(1.0, 3.0, &[("az-g", 2)], &[Resource::new("az", &["az-g"])]);
    let old: Vec<String> = world.aws.instance_states("az-g").into_keys().collect();
    // A second zone for the group: Auto Scaling rebalances, one instance moves (launch first, then the hook).
    world.aws.runtime.block_on(async {
        world
            .aws
            .autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name("az-g")
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
            .send()
            .await
            .expect("adding a zone to the group");
    });
    let ledger = world
        .wait_until(MINUTE, "one old instance terminated", |ledger| old.iter().any(|i| ledger.terminated(i).is_some()));
    let moved: Vec<&String> = old.iter().filter(|i| ledger.terminated(i).is_some()).collect();
    assert_eq!(moved.len(), 1, "exactly one instance moves: {}", ledger.summary());
    ledger.assert_drained(moved[0], "Success", "CONTINUE");
    let zones = world.aws.instance_zones("az-g");
    let mut spread: Vec<&str> = zones.values().map(String::as_str).collect();
    spread.sort_unstable();
    assert_eq!(spread, ["us-east-1a", "us-east-1b"], "balanced over both zones: {zones:?}");
    let states = world.aws.instance_states("az-g");
    assert!(states.values().all(|s| s == "InService"), "{states:?}");
}
