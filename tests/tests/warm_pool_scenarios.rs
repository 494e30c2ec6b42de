//! Warm pools, end to end (real `terraform apply`, real handler, emulated AWS; the emulator's warm_pools.py cites the
//! user guide for each transition). "Use lifecycle hooks with a warm pool" (warm-pool-instance-lifecycle.html): with
//! an instance reuse policy, a scale-in returns the instance to the pool and the TERMINATING hook pauses it at
//! `Warmed:Pending:Wait`; an instance leaving the pool pauses at `Warmed:Terminating:Wait`.

mod support;

use aws_sdk_autoscaling::types::{InstanceReusePolicy, WarmPoolState};
use serde_json::json;
use std::time::Duration;
use support::drain::{Resource, Scenario, seconds_between, seq};

const MINUTE: Duration = Duration::from_secs(60);

fn put_warm_pool(world: &Scenario, group: &str, max_prepared: i32, reuse: bool) {
    world.aws.runtime.block_on(async {
        world
            .aws
            .autoscaling
            .put_warm_pool()
            .auto_scaling_group_name(group)
            .max_group_prepared_capacity(max_prepared)
            .min_size(0)
            .pool_state(WarmPoolState::Stopped)
            .instance_reuse_policy(InstanceReusePolicy::builder().reuse_on_scale_in(reuse).build())
            .send()
            .await
            .expect("putting the warm pool");
    });
}

#[test]
fn warm_pool_scale_in_with_reuse_drains_before_the_instance_returns_to_the_pool() {
    let world = Scenario::apply(1.0, 3.0, &[("wp-g", 2)], &[Resource::new("wp", &["wp-g"])]);
    put_warm_pool(&world, "wp-g", 10, true);
    world.aws.set_capacity("wp-g", 1);
    let ledger = world.wait_until(MINUTE, "an instance back in the warm pool", |l| {
        l.of_kind("lifecycle-transition").any(|e| e["state"] == "Warmed:Stopped")
    });
    let returned = ledger
        .of_kind("lifecycle-transition")
        .find(|e| e["state"] == "Warmed:Pending:Wait")
        .unwrap_or_else(|| panic!("no Warmed:Pending:Wait:\n{}", ledger.summary()))["instance_id"]
        .as_str()
        .unwrap()
        .to_string();
    let completions = ledger.completions(&returned);
    assert_eq!(completions.len(), 1, "{}", ledger.summary());
    assert_eq!(completions[0]["reason"], "CompleteLifecycleAction", "{}", ledger.summary());
    assert_eq!(completions[0]["result"], "CONTINUE");
    assert_eq!(ledger.standing_commands(&returned).len(), 1, "one drain: {}", ledger.summary());
    let end = ledger.drain_end(&returned).unwrap_or_else(|| panic!("the drain never ended:\n{}", ledger.summary()));
    assert_eq!(end["status"], "Success");
    let stopped = ledger
        .of_kind("lifecycle-transition")
        .find(|e| e["state"] == "Warmed:Stopped" && e["instance_id"] == returned.as_str())
        .unwrap();
    assert!(seq(stopped) > seq(end), "stopped before its drain ended:\n{}", ledger.summary());
}

#[test]
fn warm_pool_stopped_instance_leaving_the_pool_is_completed_at_once_without_a_drain() {
    let world = Scenario::apply(1.0, 3.0, &[("ws-g", 1)], &[Resource::new("ws", &["ws-g"])]);
    put_warm_pool(&world, "ws-g", 10, false);
    let put = world
        .emulator
        .control("warm_pool", &json!({"group": "ws-g", "instances": 1, "state": "Warmed:Stopped"}))
        .expect("a warm instance");
    let warm = put["instance_ids"][0].as_str().expect("an instance id").to_string();
    // The pool may now hold max prepared capacity 1 - desired 1 = 0 instances: the warm one leaves it.
    put_warm_pool(&world, "ws-g", 1, false);
    let ledger = world.wait_until(MINUTE, "the warm instance completed", |l| !l.completions(&warm).is_empty());
    let completions = ledger.completions(&warm);
    assert_eq!(completions.len(), 1, "{}", ledger.summary());
    assert_eq!(completions[0]["reason"], "CompleteLifecycleAction", "{}", ledger.summary());
    assert_eq!(completions[0]["result"], "CONTINUE");
    assert!(ledger.commands(&warm).is_empty(), "nothing runs on a stopped instance: {}", ledger.summary());
    let started = ledger.started_waiting(&warm).expect("the wait started");
    let waited = seconds_between(started, completions[0]);
    assert!(waited < 30.0, "completed after {waited:.1} s, not at once:\n{}", ledger.summary());
}
