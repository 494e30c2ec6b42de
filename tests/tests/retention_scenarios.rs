//! `on_failure = "abandon"` keeps a failed instance only where the group's instance lifecycle policy retains
//! instances whose terminate hook ends ABANDON ("Control instance retention with instance lifecycle policies", Amazon
//! EC2 Auto Scaling User Guide; the emulator's retention.py). Apply reads each managed group's policy and warns for
//! the groups where abandon terminates anyway.

mod support;

use acceptance::emulator::Emulator;
use acceptance::terraform::Workspace;
use aws_sdk_autoscaling::types::{InstanceLifecyclePolicy, RetentionAction, RetentionTriggers};
use support::aws::Aws;
use support::drain::{Resource, config};

const WARNING: &str = "on_failure = \"abandon\" will not keep failed instances";

fn retain_abandoned(aws: &Aws, group: &str) {
    aws.runtime.block_on(async {
        aws.autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .instance_lifecycle_policy(
                InstanceLifecyclePolicy::builder()
                    .retention_triggers(
                        RetentionTriggers::builder().terminate_hook_abandon(RetentionAction::Retain).build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("setting the group's instance lifecycle policy");
    });
}

fn applied(emulator: &Emulator, resource: Resource) -> String {
    let mut ws = Workspace::new(&config(&[resource]));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.init();
    let run = ws.apply().ok("apply");
    // Terraform wraps diagnostic text at its terminal width: compare with single spaces.
    let said = format!("{}{}", run.stdout, run.stderr).split_whitespace().collect::<Vec<_>>().join(" ");
    ws.destroy().ok("destroy");
    said
}

#[test]
fn retention_abandon_warns_at_apply_for_each_group_that_would_terminate_anyway() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("rt-kept", 1);
    aws.create_group("rt-lost", 1);
    retain_abandoned(&aws, "rt-kept");

    let said = applied(&emulator, Resource { on_failure: "abandon", ..Resource::new("rt", &["rt-kept", "rt-lost"]) });
    let warning = said.find(WARNING).map(|at| &said[at..]).unwrap_or_else(|| panic!("no warning:\n{said}"));
    let warning = warning.split("Apply complete").next().unwrap_or(warning);
    assert!(warning.contains("rt-lost"), "names the group without the policy:\n{warning}");
    assert!(!warning.contains("rt-kept"), "a group that retains is not named:\n{warning}");
    assert!(warning.contains("terminate_hook_abandon = \"retain\""), "says what to set:\n{warning}");
}

#[test]
fn retention_no_warning_when_every_group_retains_or_on_failure_is_continue() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("rn-kept", 1);
    aws.create_group("rn-plain", 1);
    retain_abandoned(&aws, "rn-kept");

    let said = applied(&emulator, Resource { on_failure: "abandon", ..Resource::new("rn", &["rn-kept"]) });
    assert!(!said.contains(WARNING), "every group retains:\n{said}");
    let said = applied(&emulator, Resource::new("rc", &["rn-plain"]));
    assert!(!said.contains(WARNING), "continue never needs retention:\n{said}");
}

/// A drain that fails with `on_failure = "abandon"` in a group whose policy retains abandoned instances: the handler
/// completes ABANDON after the drain ended, and AWS keeps the instance in `Terminating:Retained` for inspection
/// instead of terminating it (the emulator's retention.py follows the user guide).
#[test]
fn retention_failed_drain_with_abandon_keeps_the_instance_for_inspection() {
    let resource = Resource { on_failure: "abandon", ..Resource::new("rk", &["rk-g"]) };
    let world = support::drain::Scenario::apply(1.0, 1.0, &[("rk-g", 2)], &[resource]);
    retain_abandoned(&world.aws, "rk-g");
    world.emulator.control("nomad", &serde_json::json!({"drain_seconds": 1, "fail": true})).expect("failing drains");
    let draining = world.scale_in("rk-g", 1);
    let instance = &draining[0];
    let ledger = world.wait_until(std::time::Duration::from_secs(60), "the instance retained", |l| {
        l.of_kind("instance-retained").any(|e| e["instance_id"] == instance.as_str())
    });
    let completions = ledger.completions(instance);
    assert_eq!(completions.len(), 1, "{}", ledger.summary());
    assert_eq!(completions[0]["reason"], "CompleteLifecycleAction");
    assert_eq!(completions[0]["result"], "ABANDON");
    let end = ledger.drain_end(instance).unwrap_or_else(|| panic!("the drain never ended:\n{}", ledger.summary()));
    assert_eq!(end["status"], "Failed");
    assert!(support::drain::seq(completions[0]) > support::drain::seq(end), "{}", ledger.summary());
    assert!(ledger.terminated(instance).is_none(), "a retained instance is not terminated:\n{}", ledger.summary());
    assert_eq!(world.aws.instance_states("rk-g")[instance], "Terminating:Retained");
}
